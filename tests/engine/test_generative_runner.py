"""The generative runner and engine loop without Hugging Face: paged attention against a dense
recompute of the same model, KV sizing, step outputs, the static baseline's padding."""

import pytest

torch = pytest.importorskip("torch")

from engine.serving.generative.config import DecoderShape, SchedulerConfig
from engine.serving.generative.engine import GenerativeEngine
from engine.serving.generative.runner import DenseKVCache, GenerativeRunner, kv_blocks_for_budget
from engine.serving.generative.scheduler import Scheduler
from engine.serving.generative.static import StaticBatchEngine

SHAPE = DecoderShape(vocab_size=128, layers=2, d_model=32, heads=4, kv_heads=1, ffn_dim=64, max_position=64)
PROMPTS = [[3, 1, 4], [(5 * j + 2) % 128 for j in range(11)], [9] * 6]


def recompute(model, prompt, n):
    """Greedy tokens by a full forward over the whole context for every token (no cache reuse)."""
    tokens = list(prompt)
    for _ in range(n):
        cache = DenseKVCache(SHAPE, 1, len(tokens), device="cpu", dtype=torch.float64)
        with torch.inference_mode():
            hidden = model.forward_dense(torch.tensor([tokens]), torch.arange(len(tokens))[None], cache)
            tokens.append(int(model.lm_head(hidden[0, -1]).argmax()))
    return tokens[len(prompt):]


def make(num_blocks=32, **cfg):
    runner = GenerativeRunner(SHAPE, num_blocks=num_blocks, block_size=4, device="cpu", dtype="fp64", seed=1, init_std=0.1)
    return GenerativeEngine(Scheduler(SchedulerConfig(block_size=4, num_blocks=num_blocks, **cfg)), runner)


def test_paged_steps_give_the_tokens_of_a_full_recompute():
    eng = make(max_num_batched_tokens=5)
    expected = [recompute(eng.runner.model, p, 7) for p in PROMPTS]
    assert eng.generate(PROMPTS, 7) == expected
    assert len({tuple(t) for t in expected}) == len(PROMPTS)


def test_step_outputs_report_tokens_sequences_and_blocks():
    ticks = iter(range(1000))
    eng = make(max_num_batched_tokens=8)
    eng.clock = lambda: float(next(ticks))
    for i, p in enumerate(PROMPTS):
        assert eng.add_request(i, p, 3)
    first = eng.step()
    assert (first.num_prefill_tokens, first.num_decode_tokens, first.num_seqs) == (8, 0, 2)
    assert first.kv_blocks_used == 1 + 2  # 3 tokens, then 5 of 11
    assert first.step_end_s > first.step_start_s
    assert [e.request_id for e in first.events] == [0]
    outputs = [first]
    while eng.has_unfinished():
        outputs.append(eng.step())
    assert sum(len(o.events) for o in outputs) == 9
    idle = eng.step()
    assert (idle.num_seqs, idle.events) == (0, ())


def test_kv_blocks_follow_the_budget_and_cpu_needs_one():
    per_block = 4 * SHAPE.kv_bytes_per_token(4)
    assert kv_blocks_for_budget(SHAPE, memory_budget_bytes=10 * per_block + 1, block_size=4, dtype="fp32") == 10
    runner = GenerativeRunner(SHAPE, num_blocks=None, block_size=4, device="cpu", kv_memory_bytes=10 * per_block)
    assert runner.num_blocks == 10 and runner.kv_pool_bytes == 10 * per_block
    with pytest.raises(ValueError, match="num_blocks or kv_memory_bytes"):
        GenerativeRunner(SHAPE, num_blocks=None, block_size=4, device="cpu")
    with pytest.raises(ValueError, match="dtype"):
        GenerativeRunner(SHAPE, num_blocks=4, block_size=4, device="cpu", dtype="int4")


def test_the_engine_refuses_a_runner_with_a_smaller_pool():
    runner = GenerativeRunner(SHAPE, num_blocks=4, block_size=4, device="cpu")
    with pytest.raises(ValueError, match="more KV blocks"):
        GenerativeEngine(Scheduler(SchedulerConfig(block_size=4, num_blocks=8)), runner)


def test_static_batches_pad_to_the_longest_and_wait_for_the_whole_batch():
    eng = make()
    static = StaticBatchEngine(eng.runner.model, max_batch_size=2, block_size=4)
    for i, (p, n) in enumerate(zip(PROMPTS, (2, 6, 3))):
        assert static.add_request(i, p, n)
    outputs = []
    while static.has_unfinished():
        outputs.append(static.step())
    # Batch 1 (prompts 0, 1): 6 steps for the longer output; batch 2 (prompt 2): 3.
    assert [o.num_seqs for o in outputs] == [2] * 6 + [1] * 3
    assert outputs[0].num_prefill_tokens == 2 * 11
    assert [len(o.events) for o in outputs[:6]] == [2, 2, 1, 1, 1, 1]
    assert [static.sequences[i].output_token_ids for i in range(3)] == [
        recompute(eng.runner.model, p, n) for p, n in zip(PROMPTS, (2, 6, 3))
    ]
    assert static.sequences[2].first_token_s > static.sequences[1].finish_s
