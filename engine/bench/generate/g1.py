"""G1: decode tokens/s of the core at a fixed full batch against a bare loop of the same runner.

Both decode ``batch`` sequences of the same prompts for ``steps`` tokens on the same warm
runner. The core runs them through ``GenerativeEngine`` and the driver (scheduler, block
manager, postprocess, event records: everything a served token costs); its rate counts only
the steps where all ``batch`` sequences decode together, from the first such step's start to
the last one's end, so the time between steps counts too. The bare loop builds each step's
plan by hand (every block allocated up front, no scheduler) and calls ``runner.execute``
back to back: the runner's decode step and nothing else.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from engine.bench.generate.driver import drive
from engine.bench.generate.workload import GenRequest, LengthDist, Workload

PROMPT_TOKENS = 16


def _prompts(batch: int, vocab: int, seed: int) -> list[tuple[int, ...]]:
    rng = np.random.default_rng([seed, 11])
    return [tuple(int(x) for x in rng.integers(0, vocab, size=PROMPT_TOKENS)) for _ in range(batch)]


def core_decode(bench, batch: int, steps: int, *, seed: int = 0) -> dict[str, Any]:
    if batch > bench.config.max_num_seqs:
        raise ValueError("G1 batch exceeds max_num_seqs")
    prompts = _prompts(batch, bench.shape.vocab_size, seed)
    reqs = tuple(GenRequest(f"g1-{i}", p, steps + 1, 0.0) for i, p in enumerate(prompts))
    w = Workload(reqs, None, 1.0, LengthDist.fixed(PROMPT_TOKENS), LengthDist.fixed(steps + 1), seed,
                 bench.shape.vocab_size)
    # Every prompt prefilled in one step, so all ``batch`` sequences decode together from then on.
    config = replace(bench.config, max_num_batched_tokens=max(bench.config.max_num_batched_tokens,
                                                              batch * PROMPT_TOKENS))
    rec = drive(bench.engine(config=config), w)
    full = [s for s in rec.steps if s["seqs"] == batch and not s["prefill_tokens"]]
    if len(full) < 2:
        raise RuntimeError("G1: fewer than two full decode steps")
    span_s = (full[-1]["start_s"] + full[-1]["step_ms"] / 1000.0) - full[0]["start_s"]
    return {"tokens_per_s": batch * len(full) / span_s, "steps": len(full), "span_s": round(span_s, 4)}


def bare_decode(bench, batch: int, steps: int, *, seed: int = 0) -> dict[str, Any]:
    from engine.serving.generative import BlockManager, ScheduledChunk, Sequence, StepPlan

    runner = bench.runner
    bs = bench.config.block_size
    bm = BlockManager(bench.config.num_blocks, bs, prefix_caching=False)
    seqs = [Sequence(f"b{i}", list(p), steps + 1, 0.0) for i, p in enumerate(_prompts(batch, bench.shape.vocab_size, seed))]
    for s in seqs:
        bm.allocate(s.request_id, s.all_token_ids, PROMPT_TOKENS + steps + 1)
    tables = {s.request_id: tuple(bm.block_tables[s.request_id]) for s in seqs}

    def run(chunks) -> None:
        out = runner.execute(StepPlan(tuple(chunks), tables, bs))
        for s in seqs:
            # The bare loop owns these sequences: it extends their token lists in place, as
            # the scheduler's postprocess does.
            s.all_token_ids.append(out[s.request_id])

    run(ScheduledChunk(s, 0, PROMPT_TOKENS, True, True) for s in seqs)
    runner.synchronize()
    clock = time.perf_counter
    start = clock()
    for _ in range(steps):
        run([ScheduledChunk(s, s.num_tokens - 1, 1, False, True) for s in seqs])
    runner.synchronize()
    span_s = clock() - start
    return {"tokens_per_s": batch * steps / span_s, "steps": steps, "span_s": round(span_s, 4)}
