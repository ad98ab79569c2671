"""The iteration-level scheduler (pure Python: no torch, no clock of its own).

Every step (Orca's iteration-level scheduling, vLLM's and nano-vllm's scheduler):

1. sequences whose deadline has passed are aborted (their blocks freed);
2. each running sequence waiting for its next token gets one decode token;
3. running sequences still prefilling get the next chunk of their prompt;
4. waiting sequences (preempted ones first, then in arrival order) are admitted while the
   step's token budget, ``max_num_seqs`` and the KV pool allow, each with as much of its
   prompt as the budget leaves (chunked prefill), starting after any cached prefix;
5. when a running sequence needs a block and none is free, the most recently admitted running
   sequence not yet scheduled in this step is preempted by recompute: its blocks are freed and
   it goes back to the front of the queue keeping its generated tokens, so when it runs again
   it prefills prompt + generated (its committed full blocks may still be in the prefix cache)
   and carries on where it stopped. A step that preempted admits no waiting sequence.

The caller runs the plan (``GenerativeRunner.execute``) and hands the next tokens back to
``postprocess`` with the time they came out. Times are arguments (``now_s``), so tests drive
the scheduler with a fake clock.

Admission (``add``) rejects at once what can never run (a prompt + output longer than
``max_model_len`` or than the whole pool; without chunked prefill, longer than a step's budget)
and, with ``ttft_budget_ms``, a request whose predicted TTFT already misses the budget: the
prediction is the time it has waited plus (prefill tokens queued ahead of it + its own) /
(the step budget left after one decode token per running sequence) steps, each costing
``step_time_s(max_num_batched_tokens)`` (a full step, so the estimate errs on the late side).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from engine.serving.generative.blocks import BlockManager
from engine.serving.generative.config import SchedulerConfig

WAITING = "waiting"
RUNNING = "running"
PREEMPTED = "preempted"
FINISHED = "finished"
REJECTED = "rejected"

# Why a sequence finished or was rejected.
LENGTH = "length"  # generated max_new_tokens
DEADLINE = "deadline"  # aborted: its deadline passed before it finished
TOO_LONG = "too_long"  # prompt + output longer than max_model_len
EXCEEDS_POOL = "exceeds_kv_pool"  # could never fit the KV pool
EXCEEDS_BUDGET = "exceeds_step_budget"  # without chunked prefill, longer than one step
PREDICTED_TTFT_MISS = "predicted_ttft_miss"


@dataclass(eq=False, slots=True)
class Sequence:
    """One generation request and its progress. ``deadline_s``: abort it if it has not
    finished by then (None: no deadline)."""

    request_id: Hashable
    prompt_token_ids: list[int]
    max_new_tokens: int
    arrival_s: float
    deadline_s: float | None = None
    output_token_ids: list[int] = field(default_factory=list)
    state: str = WAITING
    finish_reason: str | None = None
    num_computed_tokens: int = 0
    # Prefix-cache hits over the sequence's life (tokens whose K/V it did not compute).
    num_cached_tokens: int = 0
    first_token_s: float | None = None
    finish_s: float | None = None
    token_times_s: list[float] = field(default_factory=list)
    preemptions: int = 0
    # Tokens to prefill since the sequence was last (re)admitted: the prompt, or prompt +
    # generated after a preemption. Chunks below it are prefill, above it decode.
    prefill_len: int = field(default=0, init=False)
    _tokens: list[int] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.prompt_token_ids = list(self.prompt_token_ids)
        if not self.prompt_token_ids:
            raise ValueError("prompt_token_ids must not be empty")
        if any(not isinstance(t, int) or t < 0 for t in self.prompt_token_ids):
            raise ValueError("prompt_token_ids must be integers >= 0")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be an integer >= 1")
        if not math.isfinite(self.arrival_s):
            raise ValueError("arrival_s must be a finite number")
        self._tokens = [*self.prompt_token_ids, *self.output_token_ids]

    @property
    def all_token_ids(self) -> list[int]:
        """Prompt + generated tokens (the list itself: do not modify it)."""
        return self._tokens

    @property
    def num_tokens(self) -> int:
        return len(self._tokens)

    @property
    def max_len(self) -> int:
        return len(self.prompt_token_ids) + self.max_new_tokens

    @property
    def is_finished(self) -> bool:
        return self.state in (FINISHED, REJECTED)


@dataclass(frozen=True, slots=True)
class ScheduledChunk:
    """Positions ``start_pos .. start_pos + num_tokens - 1`` of ``seq`` computed in one step;
    ``emits_token``: the chunk ends at the sequence's last known token, so its logits give the
    next one."""

    seq: Sequence
    start_pos: int
    num_tokens: int
    is_prefill: bool
    emits_token: bool

    @property
    def token_ids(self) -> list[int]:
        return self.seq.all_token_ids[self.start_pos:self.start_pos + self.num_tokens]


@dataclass(frozen=True, slots=True)
class StepPlan:
    """What one step computes: the chunks, and each sequence's block table as of this step."""

    chunks: tuple[ScheduledChunk, ...]
    block_tables: Mapping[Hashable, tuple[int, ...]]
    block_size: int

    def __iter__(self):
        return iter(self.chunks)

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def num_seqs(self) -> int:
        return len(self.chunks)

    @property
    def num_prefill_tokens(self) -> int:
        return sum(c.num_tokens for c in self.chunks if c.is_prefill)

    @property
    def num_decode_tokens(self) -> int:
        return sum(c.num_tokens for c in self.chunks if not c.is_prefill)

    @property
    def num_tokens(self) -> int:
        return sum(c.num_tokens for c in self.chunks)

    @property
    def num_kv_tokens(self) -> int:
        """Context the step attends over: each chunk's last position + 1, summed."""
        return sum(c.start_pos + c.num_tokens for c in self.chunks)


@dataclass(frozen=True, slots=True)
class TokenEvent:
    request_id: Hashable
    index: int  # 0 for the first generated token
    token_id: int
    time_s: float
    finished: bool


class Scheduler:
    """``step_time_s(num_batched_tokens) -> seconds``: the step-time estimate TTFT admission
    needs (required when ``config.ttft_budget_ms`` is set, unused otherwise)."""

    def __init__(self, config: SchedulerConfig, *, step_time_s: Callable[[int], float] | None = None):
        if config.ttft_budget_ms is not None and step_time_s is None:
            raise ValueError("ttft_budget_ms needs a step_time_s estimate")
        self.config = config
        self.step_time_s = step_time_s
        self.block_manager = BlockManager(
            config.num_blocks, config.block_size, prefix_caching=config.prefix_caching
        )
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []  # in admission order
        # Sequences aborted at their deadline, for the caller to collect (``pop_aborted``).
        self._aborted: list[Sequence] = []
        self._ids: set[Hashable] = set()  # unfinished request ids
        self.num_preemptions = 0

    # -- admission ---------------------------------------------------------------------------
    def add(self, seq: Sequence, now_s: float) -> bool:
        """Queue ``seq``; False (``seq.state`` REJECTED, the reason in ``finish_reason``) if
        it can never run or misses its TTFT budget by prediction."""
        if seq.request_id in self._ids:
            raise ValueError(f"request id {seq.request_id!r} is already in flight")
        if seq.state != WAITING or seq.output_token_ids:
            raise ValueError("add a fresh Sequence")
        cfg = self.config
        reason = None
        if cfg.max_model_len is not None and seq.max_len > cfg.max_model_len:
            reason = TOO_LONG
        elif self.block_manager.blocks_for(self._reserve_tokens(seq)) > cfg.num_blocks:
            reason = EXCEEDS_POOL
        elif not cfg.chunked_prefill and seq.max_len - 1 > cfg.max_num_batched_tokens:
            reason = EXCEEDS_BUDGET  # a recompute prefills prompt + generated in one step
        elif cfg.ttft_budget_ms is not None and (
            self.predict_ttft_s(seq, now_s) * 1000.0 > cfg.ttft_budget_ms
        ):
            reason = PREDICTED_TTFT_MISS
        if reason is not None:
            seq.state = REJECTED
            seq.finish_reason = reason
            seq.finish_s = now_s
            return False
        seq.prefill_len = seq.num_tokens
        self.waiting.append(seq)
        self._ids.add(seq.request_id)
        return True

    def _reserve_tokens(self, seq: Sequence) -> int:
        """Slots a sequence may come to hold (``reserve_max`` allocates them at admission)."""
        if self.config.allocation == "reserve_max" and self.config.max_model_len is not None:
            return self.config.max_model_len
        return seq.max_len

    def predict_ttft_s(self, seq: Sequence, now_s: float) -> float:
        """Predicted time to ``seq``'s first token if it were queued now (see the module)."""
        cfg = self.config
        ahead = sum(s.num_tokens - s.num_computed_tokens for s in self.waiting)
        ahead += sum(
            s.prefill_len - s.num_computed_tokens for s in self.running
            if s.num_computed_tokens < s.prefill_len
        )
        per_step = max(1, cfg.max_num_batched_tokens - min(len(self.running), cfg.max_num_seqs))
        steps = math.ceil((ahead + seq.num_tokens) / per_step)
        return (now_s - seq.arrival_s) + steps * self.step_time_s(cfg.max_num_batched_tokens)

    # -- state ---------------------------------------------------------------------------------
    @property
    def num_waiting(self) -> int:
        return len(self.waiting)

    @property
    def num_running(self) -> int:
        return len(self.running)

    def has_unfinished(self) -> bool:
        return bool(self.waiting or self.running)

    def pop_aborted(self) -> list[Sequence]:
        """Sequences aborted at their deadline since the last call."""
        aborted, self._aborted = self._aborted, []
        return aborted

    # -- scheduling ----------------------------------------------------------------------------
    def schedule(self, now_s: float) -> StepPlan | None:
        """The next step's plan, or None when there is nothing to run."""
        self._expire(now_s)
        cfg = self.config
        bm = self.block_manager
        budget = cfg.max_num_batched_tokens
        chunks: list[ScheduledChunk] = []
        scheduled: set[Hashable] = set()
        preemptions_before = self.num_preemptions

        # Decodes first, then running prefills: a decode is one token and keeps TPOT steady.
        order = [s for s in self.running if s.num_computed_tokens >= s.prefill_len]
        order += [s for s in self.running if s.num_computed_tokens < s.prefill_len]
        for seq in order:
            if budget == 0:
                break
            if seq.state != RUNNING:  # preempted earlier in this pass
                continue
            n = min(seq.num_tokens - seq.num_computed_tokens, budget)
            if not self._make_room(seq, seq.num_computed_tokens + n, scheduled):
                continue  # it preempted itself
            chunks.append(self._chunk(seq, n))
            scheduled.add(seq.request_id)
            budget -= n

        # A step that had to preempt admits nothing: the pool is short as it is.
        admit = self.num_preemptions == preemptions_before
        while admit and self.waiting and budget > 0 and len(self.running) < cfg.max_num_seqs:
            seq = self.waiting[0]
            tokens = seq.all_token_ids
            cached = bm.num_cached_tokens(tokens)
            n = seq.num_tokens - cached
            if n > budget:
                if not cfg.chunked_prefill:
                    break
                n = budget
            reserve = self._reserve_tokens(seq) if cfg.allocation == "reserve_max" else 0
            if not bm.can_allocate(seq.request_id, tokens, cached + n, reserve_tokens=reserve):
                break
            cached = bm.allocate(seq.request_id, tokens, cached + n, reserve_tokens=reserve)
            self.waiting.popleft()
            seq.state = RUNNING
            seq.num_computed_tokens = cached
            seq.num_cached_tokens += cached
            seq.prefill_len = seq.num_tokens
            self.running.append(seq)
            chunks.append(self._chunk(seq, n))
            scheduled.add(seq.request_id)
            budget -= n

        if not chunks:
            return None
        tables = {c.seq.request_id: tuple(bm.block_tables[c.seq.request_id]) for c in chunks}
        return StepPlan(tuple(chunks), tables, cfg.block_size)

    def _chunk(self, seq: Sequence, n: int) -> ScheduledChunk:
        start = seq.num_computed_tokens
        return ScheduledChunk(seq, start, n, start < seq.prefill_len, start + n == len(seq._tokens))

    def _make_room(self, seq: Sequence, num_slots: int, scheduled: set[Hashable]) -> bool:
        """Allocate slots up to ``num_slots`` for a running sequence, preempting the latest
        admitted unscheduled ones while the pool is short; False if ``seq`` had to go itself."""
        bm = self.block_manager
        tokens = seq.all_token_ids
        while not bm.can_allocate(seq.request_id, tokens, num_slots):
            victim = next(
                (s for s in reversed(self.running) if s.request_id not in scheduled and s is not seq),
                None,
            )
            self._preempt(victim or seq)
            if victim is None:
                return False
        bm.allocate(seq.request_id, tokens, num_slots)
        return True

    def _preempt(self, seq: Sequence) -> None:
        self.block_manager.free(seq.request_id)
        self.running.remove(seq)
        seq.state = PREEMPTED
        seq.num_computed_tokens = 0
        seq.preemptions += 1
        self.num_preemptions += 1
        self.waiting.appendleft(seq)

    def _expire(self, now_s: float) -> None:
        def expired(s: Sequence) -> bool:
            return s.deadline_s is not None and s.deadline_s <= now_s

        for seq in [s for s in (*self.running, *self.waiting) if expired(s)]:
            if seq in self.running:
                self.running.remove(seq)
            else:
                self.waiting.remove(seq)
            self._finish(seq, DEADLINE, now_s)
            self._aborted.append(seq)

    def _finish(self, seq: Sequence, reason: str, now_s: float) -> None:
        self.block_manager.free(seq.request_id)
        self._ids.discard(seq.request_id)
        seq.state = FINISHED
        seq.finish_reason = reason
        seq.finish_s = now_s

    # -- results -------------------------------------------------------------------------------
    def postprocess(self, plan: StepPlan, next_tokens: Mapping[Hashable, int], now_s: float) -> list[TokenEvent]:
        """Advance each planned sequence past its chunk; record the token of each chunk that
        emits one (``next_tokens[request_id]``), stamped ``now_s``; finish those that reached
        ``max_new_tokens``."""
        bm = self.block_manager
        events: list[TokenEvent] = []
        for chunk in plan.chunks:
            seq = chunk.seq
            if seq.state != RUNNING:  # aborted between schedule and postprocess
                continue
            seq.num_computed_tokens = chunk.start_pos + chunk.num_tokens
            bm.commit(seq.request_id, seq.all_token_ids, seq.num_computed_tokens)
            if not chunk.emits_token:
                continue
            token = int(next_tokens[seq.request_id])
            seq.output_token_ids.append(token)
            seq._tokens.append(token)
            seq.token_times_s.append(now_s)
            if seq.first_token_s is None:
                seq.first_token_s = now_s
            done = len(seq.output_token_ids) >= seq.max_new_tokens
            if done:
                self.running.remove(seq)
                self._finish(seq, LENGTH, now_s)
            events.append(TokenEvent(seq.request_id, len(seq.output_token_ids) - 1, token, now_s, done))
        return events
