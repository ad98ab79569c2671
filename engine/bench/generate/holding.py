"""G4: how many sequences a fixed KV budget holds, paged against reserve-the-maximum.

Pure (no torch, no clock): every request of a length-varied workload is queued at once and the
scheduler is stepped with made-up tokens until it drains. After each ``schedule`` the block
manager says how many sequences are resident and how many token slots they hold against the
slots allocated. While requests are still waiting the pool is the limit, so the mean resident
count over those steps is "sequences held" at this budget. Waste is (allocated slots - tokens
held) / tokens held over the same steps.

``reserve_max`` reserves ``max_model_len`` slots per sequence at admission, as a server without
paging must when it cannot know how long an answer will be (FasterTransformer-style static KV
slots); ``paged`` takes a block when the tokens need it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.bench.generate.workload import Workload


def holding(workload: Workload, config, *, max_steps: int = 200_000) -> dict[str, Any]:
    """Resident sequences and KV waste for ``workload`` under ``config`` (see the module)."""
    from engine.serving.generative import Scheduler, Sequence

    sched = Scheduler(config)
    bm = sched.block_manager
    seqs = [Sequence(r.request_id, list(r.prompt_token_ids), r.max_new_tokens, 0.0) for r in workload.requests]
    rejected = sum(not sched.add(s, 0.0) for s in seqs)
    held: list[int] = []
    tokens_held = slots = 0
    max_running = 0
    steps = 0
    now = 0.0
    while sched.has_unfinished() and steps < max_steps:
        plan = sched.schedule(now)
        if plan is None:
            raise RuntimeError("scheduler has unfinished requests but scheduled nothing")
        steps += 1
        max_running = max(max_running, sched.num_running)
        if sched.num_waiting:
            usage = bm.usage()
            held.append(sched.num_running)
            tokens_held += usage.tokens_held
            slots += usage.slots_allocated
        now += 1.0
        sched.postprocess(plan, {c.seq.request_id: 1 for c in plan.chunks if c.emits_token}, now)
    return {
        "allocation": config.allocation,
        "num_blocks": config.num_blocks,
        "block_size": config.block_size,
        "max_model_len": config.max_model_len,
        "requests": len(seqs),
        "rejected": rejected,
        "steps": steps,
        "steps_with_waiting": len(held),
        "mean_seqs_held": round(sum(held) / len(held), 3) if held else None,
        "max_seqs_held": max_running,
        "waste_over_tokens_held": round((slots - tokens_held) / tokens_held, 4) if tokens_held else None,
        "preemptions": sched.num_preemptions,
        "blocks_used_after_drain": bm.used_blocks,
        "drained": not sched.has_unfinished(),
    }


def compare_holding(workload: Workload, config) -> dict[str, Any]:
    """Paged and reserve-max on the same workload and KV budget, and the G4 ratios."""
    max_len = max(len(r.prompt_token_ids) + r.max_new_tokens for r in workload.requests)
    max_model_len = config.max_model_len or max_len
    paged = holding(workload, replace(config, allocation="paged", max_model_len=max_model_len))
    reserve = holding(workload, replace(config, allocation="reserve_max", max_model_len=max_model_len))
    ratio = (paged["mean_seqs_held"] / reserve["mean_seqs_held"]
             if paged["mean_seqs_held"] and reserve["mean_seqs_held"] else None)
    return {
        "paged": paged,
        "reserve_max": reserve,
        "seqs_held_ratio": round(ratio, 4) if ratio is not None else None,
        "paged_waste_over_tokens_held": paged["waste_over_tokens_held"],
        "g4_met": bool(ratio is not None and ratio >= 2.0
                       and paged["waste_over_tokens_held"] is not None
                       and paged["waste_over_tokens_held"] <= 0.10),
    }
