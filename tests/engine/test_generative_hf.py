"""Our greedy tokens against Hugging Face's ``LlamaForCausalLM`` with the same weights.

A tiny random config in float64 (no download). HF's top-two logit margin is checked at every
step, so a near tie cannot make the comparison pass or fail by rounding.
"""

import os

import pytest

torch = pytest.importorskip("torch")
try:
    import transformers
except ImportError:
    if os.environ.get("CI"):
        raise  # in CI the cross-check must run
    pytest.skip("transformers is not installed", allow_module_level=True)

from engine.serving.generative.config import DecoderShape, SchedulerConfig
from engine.serving.generative.engine import GenerativeEngine
from engine.serving.generative.runner import GenerativeRunner, hf_state_dict
from engine.serving.generative.scheduler import Scheduler

SHAPE = DecoderShape(
    vocab_size=256, layers=2, d_model=64, heads=4, kv_heads=2, ffn_dim=128, max_position=128,
    rope_theta=10000.0, rms_eps=1e-5,
)
BLOCK = 4
NEW_TOKENS = 10
BASE = [(37 * j + 11) % 256 for j in range(14)]
PROMPTS = [
    [5, 9, 200],
    BASE,
    [(13 * j + 1) % 256 for j in range(23)],
    [*BASE[:12], 77, 78, 79],  # shares three full blocks with BASE
    [42],
    [(91 * j) % 256 for j in range(8)],  # exactly two blocks
]
MIN_MARGIN = 1e-6


def runner(num_blocks=128):
    return GenerativeRunner(
        SHAPE, num_blocks=num_blocks, block_size=BLOCK, device="cpu", dtype="fp64", seed=3, init_std=0.05
    )


def engine(num_blocks=128, **cfg):
    config = SchedulerConfig(block_size=BLOCK, num_blocks=num_blocks, **cfg)
    return GenerativeEngine(Scheduler(config), runner(num_blocks))


@pytest.fixture(scope="module")
def reference():
    ours = runner()
    config = transformers.LlamaConfig(
        vocab_size=SHAPE.vocab_size, hidden_size=SHAPE.d_model, intermediate_size=SHAPE.ffn_dim,
        num_hidden_layers=SHAPE.layers, num_attention_heads=SHAPE.heads,
        num_key_value_heads=SHAPE.kv_heads, head_dim=SHAPE.head_dim,
        max_position_embeddings=SHAPE.max_position, rms_norm_eps=SHAPE.rms_eps,
        rope_theta=SHAPE.rope_theta, tie_word_embeddings=False, attention_bias=False,
        mlp_bias=False, bos_token_id=None, eos_token_id=None, pad_token_id=None,
        attn_implementation="eager",
    )
    hf = transformers.LlamaForCausalLM(config).to(torch.float64).eval()
    hf.load_state_dict(hf_state_dict(ours.model), strict=True)
    hf.generation_config.eos_token_id = None
    hf.generation_config.pad_token_id = 0  # unused: one prompt at a time, no padding
    tokens = []
    for prompt in PROMPTS:
        with torch.inference_mode():
            out = hf.generate(
                torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                max_new_tokens=NEW_TOKENS, do_sample=False, output_scores=True,
                return_dict_in_generate=True,
            )
        for scores in out.scores:
            top = scores[0].topk(2).values
            assert float(top[0] - top[1]) > MIN_MARGIN, "a near tie: pick another seed"
        generated = out.sequences[0, len(prompt):].tolist()
        assert len(generated) == NEW_TOKENS
        tokens.append(generated)
    return tokens


def test_continuous_batching_with_chunked_prefill_gives_hf_tokens(reference):
    eng = engine(max_num_batched_tokens=6, max_num_seqs=4)
    for i, prompt in enumerate(PROMPTS):
        assert eng.add_request(i, prompt, NEW_TOKENS, arrival_s=0.0)
    mixed = 0
    while eng.has_unfinished():
        out = eng.step()
        assert out.num_prefill_tokens + out.num_decode_tokens <= 6
        mixed += bool(out.num_prefill_tokens and out.num_decode_tokens)
    assert mixed > 0, "no step mixed prefill and decode"
    assert [eng.sequences[i].output_token_ids for i in range(len(PROMPTS))] == reference
    assert eng.scheduler.block_manager.used_blocks == 0


def test_one_at_a_time_gives_hf_tokens_and_reuses_the_shared_prefix(reference):
    eng = engine()
    assert [eng.generate([p], NEW_TOKENS)[0] for p in PROMPTS] == reference
    shared = [s for s in eng.sequences.values() if s.prompt_token_ids == PROMPTS[3]]
    assert shared[0].num_cached_tokens == 12
    assert eng.scheduler.block_manager.used_blocks == 0


def test_a_pool_too_small_for_all_forces_preemption_and_keeps_the_tokens(reference):
    eng = engine(num_blocks=14, max_num_batched_tokens=64)
    assert eng.generate(PROMPTS, NEW_TOKENS) == reference
    assert eng.scheduler.num_preemptions > 0
    assert sum(s.preemptions for s in eng.sequences.values()) == eng.scheduler.num_preemptions
    assert eng.scheduler.block_manager.used_blocks == 0


def test_the_static_batching_baseline_gives_hf_tokens(reference):
    from engine.serving.generative.static import StaticBatchEngine

    static = StaticBatchEngine(runner(8).model, max_batch_size=4, block_size=BLOCK)
    for i, prompt in enumerate(PROMPTS):
        assert static.add_request(i, prompt, NEW_TOKENS - (i % 3), arrival_s=0.0)
    outputs = []
    while static.has_unfinished():
        outputs.append(static.step())
    assert [static.sequences[i].output_token_ids for i in range(len(PROMPTS))] == [
        ref[: NEW_TOKENS - (i % 3)] for i, ref in enumerate(reference)
    ]
    # Two batches (4 + 2): each a padded prefill, then decodes until its longest output is done.
    first_batch = max(len(p) for p in PROMPTS[:4])
    assert outputs[0].num_prefill_tokens == 4 * first_batch
    assert [o.num_seqs for o in outputs] == [4] * NEW_TOKENS + [2] * (NEW_TOKENS - 1)
    assert sum(len(o.events) for o in outputs) == sum(NEW_TOKENS - (i % 3) for i in range(len(PROMPTS)))
