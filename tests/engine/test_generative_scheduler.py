"""The iteration-level scheduler, driven by a fake clock and a fake model.

The fake model's next token is a hash of the whole context, so a sequence that is preempted and
recomputed must come out with the same tokens as one that never was.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.serving.generative.config import DecoderShape, SchedulerConfig
from engine.serving.generative.scheduler import (
    DEADLINE,
    EXCEEDS_BUDGET,
    EXCEEDS_POOL,
    FINISHED,
    PREDICTED_TTFT_MISS,
    REJECTED,
    RUNNING,
    TOO_LONG,
    WAITING,
    Scheduler,
    Sequence,
)

STEP_S = 0.01


def fake_next_tokens(plan):
    return {
        c.seq.request_id: hash(tuple(c.seq.all_token_ids)) % 1000 for c in plan if c.emits_token
    }


def drive(scheduler, arrivals, *, check=None, max_steps=10_000):
    """Run to drain on a fake clock; ``arrivals``: (arrival_s, Sequence) in time order.
    Returns (events, plans)."""
    pending = list(arrivals)
    now = 0.0
    events, plans = [], []
    for _ in range(max_steps):
        while pending and pending[0][0] <= now:
            scheduler.add(pending.pop(0)[1], now)
        if not pending and not scheduler.has_unfinished():
            return events, plans
        plan = scheduler.schedule(now)
        if plan is None:
            now = pending[0][0] if pending else now + STEP_S
            continue
        if check:
            check(plan)
        plans.append(plan)
        now += STEP_S
        events += scheduler.postprocess(plan, fake_next_tokens(plan), now)
    raise AssertionError("did not drain")


def seq(rid, prompt_len, max_new, arrival_s=0.0, first=0, **kw):
    return Sequence(rid, [first + rid * 7 + i for i in range(prompt_len)], max_new, arrival_s, **kw)


def test_shapes_validate_and_count_parameters():
    with pytest.raises(ValueError, match="kv_heads"):
        DecoderShape(d_model=64, heads=4, kv_heads=3)
    with pytest.raises(ValueError, match="block_size"):
        SchedulerConfig(block_size=0)
    with pytest.raises(ValueError, match="allocation"):
        SchedulerConfig(allocation="greedy")
    s = DecoderShape(vocab_size=100, layers=2, d_model=64, heads=4, kv_heads=2, ffn_dim=128)
    assert s.head_dim == 16
    per_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 128 + 2 * 64
    assert s.param_count() == 2 * 100 * 64 + 2 * per_layer + 64
    assert s.kv_bytes_per_token(2) == 2 * 2 * 2 * 16 * 2
    big = DecoderShape.from_params(7_000_000_000)
    assert abs(big.param_count() - 7e9) / 7e9 < 0.05
    assert big.heads % big.kv_heads == 0 and big.kv_heads < big.heads


def test_every_request_gets_exactly_its_tokens_and_the_pool_drains():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=64, max_num_batched_tokens=16))
    seqs = [seq(i, 3 + 5 * i, 2 + i) for i in range(5)]
    events, _ = drive(sched, [(0.0, s) for s in seqs])
    for s in seqs:
        assert s.state == FINISHED and s.finish_reason == "length"
        assert len(s.output_token_ids) == s.max_new_tokens
        assert [e.index for e in events if e.request_id == s.request_id] == list(range(s.max_new_tokens))
        assert s.first_token_s == s.token_times_s[0] and s.finish_s == s.token_times_s[-1]
    assert sched.block_manager.used_blocks == 0


def test_long_prompts_are_chunked_and_share_steps_with_decodes():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=64, max_num_batched_tokens=8))
    short, long = seq(0, 2, 6), seq(1, 20, 2, arrival_s=0.015)
    _, plans = drive(sched, [(0.0, short), (0.015, long)])
    long_chunks = [c for p in plans for c in p if c.seq is long and c.is_prefill]
    assert [c.num_tokens for c in long_chunks] == [7, 7, 6]  # one decode token per step is the short one's
    assert [c.emits_token for c in long_chunks] == [False, False, True]
    mixed = [p for p in plans if p.num_prefill_tokens and p.num_decode_tokens]
    assert mixed, "no step mixed prefill and decode"
    for p in mixed:
        assert p.chunks[0].seq is short and not p.chunks[0].is_prefill  # decodes first
        assert p.num_kv_tokens == sum(c.start_pos + c.num_tokens for c in p)


def test_without_chunked_prefill_a_prompt_waits_for_a_step_with_room():
    cfg = SchedulerConfig(block_size=4, num_blocks=64, max_num_batched_tokens=12, chunked_prefill=False)
    sched = Scheduler(cfg)
    a, b = seq(0, 8, 3), seq(1, 8, 3)
    _, plans = drive(sched, [(0.0, a), (0.0, b)])
    assert [(c.seq.request_id, c.num_tokens) for c in plans[0]] == [(0, 8)]
    assert all(c.num_tokens == 8 for p in plans for c in p if c.is_prefill)
    assert not sched.add(seq(2, 12, 2), 0.0)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 12), st.integers(0, 5)), min_size=1, max_size=12),
    num_blocks=st.integers(14, 40),
    budget=st.integers(1, 24),
    max_seqs=st.integers(1, 6),
    caching=st.booleans(),
    chunked=st.booleans(),
    allocation=st.sampled_from(["paged", "reserve_max"]),
)
def test_budgets_hold_every_request_finishes_and_nothing_leaks(
    lengths, num_blocks, budget, max_seqs, caching, chunked, allocation
):
    cfg = SchedulerConfig(
        block_size=4, num_blocks=num_blocks, max_num_batched_tokens=budget, max_num_seqs=max_seqs,
        prefix_caching=caching, chunked_prefill=chunked, allocation=allocation,
    )
    sched = Scheduler(cfg)
    # Half the requests start with the same 8 tokens, so prefix sharing is exercised.
    seqs = [
        Sequence(i, ([5] * 8 if i % 2 else []) + [i * 50 + k for k in range(p)], n, gap * 0.01)
        for i, (p, n, gap) in enumerate(lengths)
    ]
    arrivals = sorted(((s.arrival_s, s) for s in seqs), key=lambda x: x[0])

    def check(plan):
        assert plan.num_tokens <= budget
        assert plan.num_seqs <= max_seqs
        assert len({c.seq.request_id for c in plan}) == plan.num_seqs
        assert sched.block_manager.used_blocks <= num_blocks

    _, plans = drive(sched, arrivals, check=check)
    if allocation == "reserve_max":
        assert sched.num_preemptions == 0
    if not chunked:
        assert all(c.emits_token for p in plans for c in p)  # every prefill whole
    alone = {}
    for s in seqs:
        if s.state == REJECTED:
            assert s.finish_reason in (EXCEEDS_POOL, EXCEEDS_BUDGET)
            continue
        assert s.state == FINISHED and len(s.output_token_ids) == s.max_new_tokens
        solo = Sequence("solo", s.prompt_token_ids, s.max_new_tokens, 0.0)
        drive(Scheduler(SchedulerConfig(block_size=4, num_blocks=64)), [(0.0, solo)])
        alone[s.request_id] = solo.output_token_ids
        assert s.output_token_ids == alone[s.request_id]
    assert sched.block_manager.used_blocks == 0
    assert not sched.has_unfinished()


def test_a_short_pool_preempts_by_recompute_and_the_tokens_do_not_change():
    def run(num_blocks):
        sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=num_blocks, max_num_batched_tokens=32))
        seqs = [seq(i, 6, 14) for i in range(4)]
        drive(sched, [(0.0, s) for s in seqs])
        return sched, seqs

    roomy, reference = run(64)
    tight, squeezed = run(8)
    assert roomy.num_preemptions == 0
    assert tight.num_preemptions > 0 and sum(s.preemptions for s in squeezed) == tight.num_preemptions
    assert [s.output_token_ids for s in squeezed] == [s.output_token_ids for s in reference]
    assert tight.block_manager.used_blocks == 0


def test_a_recomputed_sequence_prefills_prompt_and_generated_tokens():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=6, max_num_batched_tokens=64, prefix_caching=False))
    a, b = seq(0, 4, 12), seq(1, 4, 12)
    _, plans = drive(sched, [(0.0, a), (0.0, b)])
    victim = a if a.preemptions else b
    assert victim.preemptions >= 1
    readmitted = [c for p in plans for c in p if c.seq is victim and c.is_prefill][1]
    assert readmitted.start_pos == 0 and readmitted.num_tokens > 4 and readmitted.emits_token


def test_reserve_max_holds_fewer_sequences_than_paged_at_the_same_pool():
    def held(allocation):
        cfg = SchedulerConfig(
            block_size=4, num_blocks=32, max_num_batched_tokens=256, allocation=allocation,
            max_model_len=64,
        )
        sched = Scheduler(cfg)
        for i in range(12):
            assert sched.add(seq(i, 8, 8), 0.0)
        sched.schedule(0.0)
        return sched.num_running, sched.block_manager.usage()

    paged, paged_usage = held("paged")
    reserved, reserved_usage = held("reserve_max")
    assert (paged, reserved) == (12, 2)  # 12 x 2 blocks vs 2 x 16 blocks
    assert paged_usage.wasted_slots == 0
    assert reserved_usage.wasted_slots == 2 * 64 - 2 * 8


def test_a_shared_prefix_is_not_computed_twice():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=64))
    system = list(range(100, 112))
    first = Sequence("a", [*system, 1, 2], 2, 0.0)
    drive(sched, [(0.0, first)])
    second = Sequence("b", [*system, 3], 2, 0.0)
    _, plans = drive(sched, [(0.0, second)])
    assert second.num_cached_tokens == 12
    assert plans[0].chunks[0].start_pos == 12 and plans[0].num_prefill_tokens == 1
    assert sched.block_manager.used_blocks == 0


def test_it_rejects_what_can_never_run():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=4, max_model_len=20))
    too_long = seq(0, 18, 4)
    assert not sched.add(too_long, 1.0)
    assert (too_long.state, too_long.finish_reason, too_long.finish_s) == (REJECTED, TOO_LONG, 1.0)
    huge = seq(1, 15, 3)
    assert not sched.add(huge, 0.0) and huge.finish_reason == EXCEEDS_POOL
    no_chunks = Scheduler(SchedulerConfig(max_num_batched_tokens=16, chunked_prefill=False))
    long = seq(2, 10, 8)
    assert not no_chunks.add(long, 0.0) and long.finish_reason == EXCEEDS_BUDGET
    ok = seq(3, 4, 2)
    assert sched.add(ok, 0.0) and ok.state == WAITING
    with pytest.raises(ValueError, match="already"):
        sched.add(seq(3, 4, 2), 0.0)


def test_a_deadline_aborts_the_request_and_frees_its_blocks():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=64))
    late = seq(0, 6, 100, deadline_s=0.05)
    on_time = seq(1, 6, 3, deadline_s=10.0)
    drive(sched, [(0.0, late), (0.0, on_time)])
    assert late.state == FINISHED and late.finish_reason == DEADLINE
    assert 0 < len(late.output_token_ids) < 100 and late.finish_s == pytest.approx(0.05)
    assert sched.pop_aborted() == [late] and sched.pop_aborted() == []
    assert on_time.finish_reason == "length"
    assert sched.block_manager.used_blocks == 0


def test_ttft_admission_refuses_a_request_that_would_miss_its_budget():
    cfg = SchedulerConfig(block_size=4, num_blocks=256, max_num_batched_tokens=10, ttft_budget_ms=50.0)
    with pytest.raises(ValueError, match="step_time_s"):
        Scheduler(cfg)
    sched = Scheduler(cfg, step_time_s=lambda tokens: 0.01)
    # Alone: 10 tokens = 1 step = 10 ms.
    assert sched.predict_ttft_s(seq(0, 10, 4), 0.0) == pytest.approx(0.01)
    for i in range(4):  # 40 prompt tokens queued: 4 steps
        assert sched.add(seq(i, 10, 4), 0.0)
    assert sched.predict_ttft_s(seq(9, 10, 4), 0.0) == pytest.approx(0.05)
    assert sched.add(seq(4, 10, 4), 0.0)  # exactly at the budget
    refused = seq(5, 10, 4)
    assert not sched.add(refused, 0.0)
    assert refused.finish_reason == PREDICTED_TTFT_MISS
    # Time already waited counts.
    assert not Scheduler(cfg, step_time_s=lambda t: 0.01).add(seq(6, 4, 2, arrival_s=0.0), 0.045)


def test_states_move_from_waiting_to_running_to_finished():
    sched = Scheduler(SchedulerConfig(block_size=4, num_blocks=64))
    s = seq(0, 5, 2)
    sched.add(s, 0.0)
    assert (s.state, sched.num_waiting, sched.num_running) == (WAITING, 1, 0)
    plan = sched.schedule(0.0)
    assert (s.state, sched.num_waiting, sched.num_running) == (RUNNING, 0, 1)
    assert plan.block_tables[0] == tuple(sched.block_manager.block_tables[0])
    events = sched.postprocess(plan, {0: 7}, 0.01)
    assert [(e.index, e.token_id, e.finished) for e in events] == [(0, 7, False)]
    events = sched.postprocess(sched.schedule(0.01), {0: 8}, 0.02)
    assert [(e.index, e.token_id, e.finished) for e in events] == [(1, 8, True)]
    assert s.output_token_ids == [7, 8] and s.state == FINISHED
    assert sched.schedule(0.02) is None and not sched.has_unfinished()
