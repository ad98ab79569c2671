"""Latency budget: how the P99 target is shared out, and what is left for the model."""

from __future__ import annotations

from dataclasses import dataclass

from engine.planning.common import Note, fact, finite, notes_field

LOW_INFERENCE_SHARE_PCT = 25.0


@dataclass(frozen=True, slots=True)
class LatencyBudget:
    p99_budget_ms: float | None = fact("ms", "The end-to-end P99 target the budget is split from.")
    network_ms: float = fact("ms", "Network round trip allowed for.")
    preprocessing_ms: float = fact("ms", "Pre-processing allowed for (tokenisation, features, retrieval).")
    queueing_ms: float = fact("ms", "Queueing allowed for: the max batch delay with dynamic batching, else 0.")
    postprocessing_ms: float = fact("ms", "Post-processing allowed for.")
    overhead_ms: float = fact("ms", "Everything but the model: network + pre-processing + queueing + "
                                    "post-processing.")
    inference_budget_ms: float | None = fact("ms", "What is left for the model at P99: P99 budget - overhead.")
    inference_share_pct: float | None = fact("%", "Inference budget as a share of the P99 budget.")
    tail_ratio: float | None = fact("x", "P99 / P50: how heavy a tail the targets allow.")
    generation_ms: float | None = fact("ms", "Generative: time to first token + (output tokens - 1) x time per "
                                             "output token, the response time the token targets imply.")
    notes: tuple[Note, ...] = notes_field()


def plan_latency_budget(
    *,
    latency_p50_ms: float | None = None,
    latency_p99_ms: float | None = None,
    network_ms: float | None = None,
    preprocessing_ms: float | None = None,
    queueing_ms: float | None = None,
    postprocessing_ms: float | None = None,
    time_to_first_token_ms: float | None = None,
    time_per_output_token_ms: float | None = None,
    output_tokens_per_request: float | None = None,
    request_timeout_ms: float | None = None,
) -> LatencyBudget:
    """Split the P99 budget: inference budget = P99 - (network + pre + queueing + post).

    Blank shares count as 0 ms. Warns when nothing (or under 25 %) is left for the model, when the
    token targets imply a response slower than P99, and when the request timeout is below P99.
    """
    p50, p99 = finite(latency_p50_ms), finite(latency_p99_ms)
    shares = [max(finite(v) or 0.0, 0.0) for v in (network_ms, preprocessing_ms, queueing_ms, postprocessing_ms)]
    network, pre, queueing, post = shares
    overhead = sum(shares)
    notes: list[Note] = []
    inference = share = None
    if p99 is None:
        notes.append(Note("latency_budget.p99_budget_ms", "P99 latency is not set: there is no budget to split.",
                          "info"))
    else:
        inference = p99 - overhead
        share = inference / p99 * 100.0
        if inference <= 0:
            notes.append(Note("latency_budget.inference_budget_ms",
                              f"Network, processing and queueing take {overhead:g} ms of the {p99:g} ms P99 "
                              "budget: nothing is left for the model.", "error"))
        elif share < LOW_INFERENCE_SHARE_PCT:
            notes.append(Note("latency_budget.inference_budget_ms",
                              f"Only {inference:g} ms ({share:.0f} %) of the P99 budget is left for the model.",
                              "warning"))

    generation = None
    ttft, tpot, tokens_out = (finite(v) for v in (time_to_first_token_ms, time_per_output_token_ms,
                                                  output_tokens_per_request))
    if ttft is not None and tpot is not None and tokens_out is not None:
        generation = ttft + max(tokens_out - 1.0, 0.0) * tpot
        if p99 is not None and generation > p99:
            notes.append(Note("latency_budget.generation_ms",
                              f"Time to first token + {tokens_out:g} tokens x {tpot:g} ms = {generation:g} ms, "
                              f"more than the {p99:g} ms P99 target.", "warning"))

    timeout = finite(request_timeout_ms)
    if timeout is not None and p99 is not None and timeout < p99:
        notes.append(Note("architecture.request_timeout_ms",
                          f"The request timeout ({timeout:g} ms) is below the P99 target ({p99:g} ms): requests "
                          "that meet the target will be cut off.", "warning"))
    return LatencyBudget(
        p99_budget_ms=p99,
        network_ms=network,
        preprocessing_ms=pre,
        queueing_ms=queueing,
        postprocessing_ms=post,
        overhead_ms=overhead,
        inference_budget_ms=inference,
        inference_share_pct=share,
        tail_ratio=p99 / p50 if p99 is not None and p50 else None,
        generation_ms=generation,
        notes=tuple(notes),
    )
