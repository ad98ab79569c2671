"""The static-batching baseline: what a user of ``transformers.generate`` gets.

When no batch is running, up to ``max_batch_size`` waiting requests form one batch: prompts
left-padded to the longest, a dense KV cache of (longest prompt + largest ``max_new_tokens``)
slots per row, one prefill step over the padded prompts, then decode steps for every row until
the longest output in the batch is done. A finished row keeps its slot and is computed with the
rest (that is the cost of static batching); new requests wait for the whole batch to end. Only
real tokens are reported. The same ``DecoderModel`` weights as the core (pass
``runner.model``), the same ``add_request`` / ``step`` / ``has_unfinished`` interface as
``GenerativeEngine``, and the same greedy tokens (left padding is masked and positions start at
each row's first real token, as HF does).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

import torch

from engine.serving.generative.engine import StepOutput, generate_all
from engine.serving.generative.runner import DecoderModel, DenseKVCache
from engine.serving.generative.scheduler import FINISHED, LENGTH, REJECTED, RUNNING, TOO_LONG, Sequence, TokenEvent


class _Batch:
    def __init__(self, seqs: list[Sequence], model: DecoderModel, device: torch.device, dtype: torch.dtype):
        self.seqs = seqs
        self.prompt_len = max(len(s.prompt_token_ids) for s in seqs)
        self.max_len = self.prompt_len + max(s.max_new_tokens for s in seqs)
        self.pads = [self.prompt_len - len(s.prompt_token_ids) for s in seqs]
        self.cache = DenseKVCache(model.shape, len(seqs), self.max_len, device=device, dtype=dtype)
        mask = torch.ones(len(seqs), self.max_len, dtype=torch.bool)
        for row, pad in enumerate(self.pads):
            mask[row, :pad] = False
        self.key_mask = mask.to(device)
        self.pads_t = torch.tensor(self.pads, device=device)[:, None]
        self.last = torch.zeros(len(seqs), 1, dtype=torch.long, device=device)
        self.steps = 0


class StaticBatchEngine:
    """``model``: the decoder (its device and dtype are used); ``block_size`` only converts
    the dense cache into block-equivalents for ``StepOutput.kv_blocks_used``."""

    def __init__(
        self,
        model: DecoderModel,
        *,
        max_batch_size: int,
        clock: Callable[[], float] = time.perf_counter,
        block_size: int = 16,
    ):
        if not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ValueError("max_batch_size must be an integer >= 1")
        self.model = model
        self.max_batch_size = max_batch_size
        self.clock = clock
        self.block_size = block_size
        param = next(model.parameters())
        self.device, self.dtype = param.device, param.dtype
        self.sequences: dict[Hashable, Sequence] = {}
        self.waiting: deque[Sequence] = deque()
        self._batch: _Batch | None = None

    def add_request(
        self, request_id: Hashable, prompt_token_ids: list[int], max_new_tokens: int, arrival_s: float | None = None
    ) -> bool:
        now = self.clock()
        if request_id in self.sequences and not self.sequences[request_id].is_finished:
            raise ValueError(f"request id {request_id!r} is already in flight")
        seq = Sequence(request_id, prompt_token_ids, max_new_tokens, now if arrival_s is None else arrival_s)
        self.sequences[request_id] = seq
        if seq.max_len > self.model.shape.max_position:
            seq.state, seq.finish_reason, seq.finish_s = REJECTED, TOO_LONG, now
            return False
        self.waiting.append(seq)
        return True

    def has_unfinished(self) -> bool:
        return bool(self.waiting or self._batch)

    @property
    def num_waiting(self) -> int:
        return len(self.waiting)

    @property
    def num_running(self) -> int:
        return len(self._batch.seqs) if self._batch else 0

    def synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @torch.inference_mode()
    def step(self) -> StepOutput:
        start = self.clock()
        batch = self._batch
        if batch is None:
            if not self.waiting:
                return StepOutput((), 0, 0, 0, 0, start, start)
            take = min(self.max_batch_size, len(self.waiting))
            batch = self._batch = _Batch(
                [self.waiting.popleft() for _ in range(take)], self.model, self.device, self.dtype
            )
            for s in batch.seqs:
                s.state = RUNNING
        rows = len(batch.seqs)
        dev = self.device
        if batch.steps == 0:
            tokens = torch.tensor(
                [[0] * pad + s.prompt_token_ids for s, pad in zip(batch.seqs, batch.pads)], device=dev
            )
            positions = (torch.arange(batch.prompt_len, device=dev)[None, :] - batch.pads_t).clamp(min=0)
            prefill, decode = rows * batch.prompt_len, 0
        else:
            tokens = batch.last
            positions = batch.prompt_len + batch.steps - 1 - batch.pads_t
            prefill, decode = 0, rows
        hidden = self.model.forward_dense(tokens, positions, batch.cache, batch.key_mask)
        next_tokens = self.model.lm_head(hidden[:, -1]).argmax(dim=-1)
        batch.last = next_tokens[:, None]
        values = next_tokens.tolist()
        self.synchronize()
        end = self.clock()
        batch.steps += 1
        events = []
        for s, token in zip(batch.seqs, values):
            if len(s.output_token_ids) >= s.max_new_tokens:
                continue  # finished: its row is computed for nothing
            s.output_token_ids.append(token)
            s.all_token_ids.append(token)
            s.token_times_s.append(end)
            if s.first_token_s is None:
                s.first_token_s = end
            done = len(s.output_token_ids) == s.max_new_tokens
            if done:
                s.state, s.finish_reason, s.finish_s = FINISHED, LENGTH, end
            events.append(TokenEvent(s.request_id, len(s.output_token_ids) - 1, token, end, done))
        blocks = rows * -(-batch.max_len // self.block_size)
        if all(s.state == FINISHED for s in batch.seqs):
            self._batch = None
        return StepOutput(tuple(events), prefill, decode, rows, blocks, start, end, rows * batch.cache.length)

    def generate(self, prompts: list[list[int]], max_new_tokens: int | list[int]) -> list[list[int]]:
        return generate_all(self, prompts, max_new_tokens)
