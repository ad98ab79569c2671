"""The generative engine loop: schedule, execute, postprocess, one step at a time.

No torch here: the runner is passed in (anything with ``execute(plan) -> {request_id: token}``
and ``synchronize()``), so the loop can also be driven with a fake runner and a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from engine.serving.generative.scheduler import Scheduler, Sequence, TokenEvent


@dataclass(frozen=True, slots=True)
class StepOutput:
    """One step: the tokens it produced and what it cost. ``kv_blocks_used`` is read after
    scheduling (the step's peak); ``aborted``: request ids dropped at their deadline."""

    events: tuple[TokenEvent, ...]
    num_prefill_tokens: int
    num_decode_tokens: int
    num_seqs: int
    kv_blocks_used: int
    step_start_s: float
    step_end_s: float
    num_kv_tokens: int = 0
    aborted: tuple[Hashable, ...] = ()

    @property
    def step_time_s(self) -> float:
        return self.step_end_s - self.step_start_s


class GenerativeEngine:
    def __init__(self, scheduler: Scheduler, runner, *, clock: Callable[[], float] = time.perf_counter):
        if getattr(runner, "block_size", scheduler.config.block_size) != scheduler.config.block_size:
            raise ValueError("the runner's block size is not the scheduler's")
        if getattr(runner, "num_blocks", scheduler.config.num_blocks) < scheduler.config.num_blocks:
            raise ValueError("the scheduler has more KV blocks than the runner's pool")
        self.scheduler = scheduler
        self.runner = runner
        self.clock = clock
        # Every request added, by id (the caller reads per-request times from them).
        self.sequences: dict[Hashable, Sequence] = {}

    def add_request(
        self,
        request_id: Hashable,
        prompt_token_ids: list[int],
        max_new_tokens: int,
        arrival_s: float | None = None,
        *,
        deadline_s: float | None = None,
    ) -> bool:
        """Queue a request (``arrival_s``: when it arrived, default now; latencies count from
        it). False if the scheduler rejected it (``sequences[request_id].finish_reason``)."""
        now = self.clock()
        seq = Sequence(
            request_id, prompt_token_ids, max_new_tokens, now if arrival_s is None else arrival_s,
            deadline_s=deadline_s,
        )
        admitted = self.scheduler.add(seq, now)
        self.sequences[request_id] = seq
        return admitted

    def has_unfinished(self) -> bool:
        return self.scheduler.has_unfinished()

    def step(self) -> StepOutput:
        """Run one step (an empty output, ``num_seqs`` 0, when nothing is runnable)."""
        sched = self.scheduler
        start = self.clock()
        plan = sched.schedule(start)
        aborted = tuple(s.request_id for s in sched.pop_aborted())
        if plan is None:
            return StepOutput((), 0, 0, 0, sched.block_manager.used_blocks, start, start, 0, aborted)
        blocks_used = sched.block_manager.used_blocks
        next_tokens = self.runner.execute(plan)
        self.runner.synchronize()
        end = self.clock()
        events = sched.postprocess(plan, next_tokens, end)
        return StepOutput(
            tuple(events), plan.num_prefill_tokens, plan.num_decode_tokens, plan.num_seqs,
            blocks_used, start, end, plan.num_kv_tokens, aborted,
        )

    def generate(self, prompts: Iterable[list[int]], max_new_tokens: int | Iterable[int]) -> list[list[int]]:
        """Add every prompt at once, run to drain, return each one's generated tokens."""
        return generate_all(self, prompts, max_new_tokens)


def generate_all(engine, prompts: Iterable[list[int]], max_new_tokens: int | Iterable[int]) -> list[list[int]]:
    """Add every prompt to ``engine`` (this core or the static baseline) at once, step it to
    drain, and return each prompt's generated tokens; a rejected prompt raises ValueError."""
    prompts = [list(p) for p in prompts]
    counts = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(counts) != len(prompts):
        raise ValueError("one max_new_tokens per prompt")
    ids = []
    for i, (prompt, n) in enumerate(zip(prompts, counts)):
        rid = ("generate", len(engine.sequences), i)
        if not engine.add_request(rid, prompt, n):
            raise ValueError(f"prompt {i} was rejected: {engine.sequences[rid].finish_reason}")
        ids.append(rid)
    while engine.has_unfinished():
        engine.step()
    return [list(engine.sequences[rid].output_token_ids) for rid in ids]
