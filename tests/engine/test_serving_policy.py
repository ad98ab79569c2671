"""The batching policy, driven by a fake clock: no model, no threads, no sleeping."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.serving.batch_time import BatchTimeModel
from engine.serving.policy import (
    CANCELLED,
    DEADLINE_PASSED,
    DONE,
    PREDICTED_MISS,
    QUEUE_FULL,
    QUEUED,
    REJECTED,
    RUNNING,
    SHUTTING_DOWN,
    TIMED_OUT,
    BatchPolicy,
    BatcherConfig,
)


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance_ms(self, ms: float) -> None:
        self.now += ms / 1000.0


def make(**kwargs) -> tuple[BatchPolicy, FakeClock]:
    clock = FakeClock()
    kwargs.setdefault("max_queue_delay_ms", 5.0)
    return BatchPolicy(BatcherConfig(**kwargs), clock), clock


def payloads(batch):
    return [r.payload for r in batch.requests]


def test_the_policy_and_the_core_do_not_import_torch():
    import engine.serving.batch_time as batch_time
    import engine.serving.core as core
    import engine.serving.policy as policy

    for module in (policy, batch_time, core):
        with open(module.__file__) as f:
            source = f.read()
        assert "import torch" not in source and "from torch" not in source


# -- dispatch rules --------------------------------------------------------------------------------
def test_it_dispatches_at_once_when_max_batch_size_is_queued():
    policy, _ = make(max_batch_size=4)
    for i in range(5):
        policy.submit(i)
    batch, expired, _ = policy.poll()
    assert payloads(batch) == [0, 1, 2, 3]
    assert expired == []
    assert all(r.status == RUNNING for r in batch.requests)
    assert policy.queued == 1


def test_it_waits_for_the_queue_delay_when_the_batch_is_not_full():
    policy, clock = make(max_batch_size=8, max_queue_delay_ms=5.0)
    policy.submit("a")
    clock.advance_ms(2)
    policy.submit("b")
    batch, _, wake_at = policy.poll()
    assert batch is None
    assert wake_at == pytest.approx(100.0 + 0.005)


def test_the_delay_counts_from_the_oldest_request_not_the_newest():
    policy, clock = make(max_batch_size=8, max_queue_delay_ms=5.0)
    policy.submit("old")
    clock.advance_ms(4.9)
    policy.submit("new")
    assert policy.poll()[0] is None
    clock.advance_ms(0.1)  # 5 ms after the oldest, 0.1 ms after the newest
    batch, _, _ = policy.poll()
    assert payloads(batch) == ["old", "new"]


def test_zero_delay_dispatches_whatever_is_queued():
    policy, _ = make(max_batch_size=8, max_queue_delay_ms=0.0)
    policy.submit("only")
    batch, _, _ = policy.poll()
    assert payloads(batch) == ["only"]


def test_a_batch_is_formed_only_when_a_slot_is_free():
    policy, clock = make(max_batch_size=2, num_slots=1)
    for i in range(4):
        policy.submit(i)
    first, _, _ = policy.poll()
    assert payloads(first) == [0, 1]
    assert policy.poll()[0] is None  # slot busy, even though a full batch waits
    clock.advance_ms(3)
    policy.complete(first)
    second, _, _ = policy.poll()
    assert payloads(second) == [2, 3]


def test_requests_arriving_during_execution_join_the_next_batch():
    policy, clock = make(max_batch_size=8, max_queue_delay_ms=0.0)
    policy.submit(0)
    running, _, _ = policy.poll()
    for i in range(1, 6):
        clock.advance_ms(1)
        policy.submit(i)
        assert policy.poll()[0] is None
    policy.complete(running)
    batch, _, _ = policy.poll()
    assert payloads(batch) == [1, 2, 3, 4, 5]


def test_two_slots_run_two_batches_at_once():
    policy, _ = make(max_batch_size=2, num_slots=2)
    for i in range(6):
        policy.submit(i)
    a = policy.poll()[0]
    b = policy.poll()[0]
    assert payloads(a) == [0, 1] and payloads(b) == [2, 3]
    assert policy.poll()[0] is None
    assert policy.in_flight == 2


def test_preferred_batch_sizes_dispatch_the_largest_that_fits_without_waiting():
    policy, _ = make(max_batch_size=16, preferred_batch_sizes=(4, 8), max_queue_delay_ms=100.0)
    for i in range(11):
        policy.submit(i)
    batch, _, _ = policy.poll()
    assert len(batch.requests) == 8
    policy.complete(batch)
    assert policy.poll()[0] is None  # 3 left: no preferred size fits, so it waits
    assert policy.queued == 3


def test_after_the_delay_a_batch_below_the_preferred_sizes_goes_anyway():
    policy, clock = make(max_batch_size=16, preferred_batch_sizes=(4, 8), max_queue_delay_ms=10.0)
    for i in range(3):
        policy.submit(i)
    clock.advance_ms(10)
    assert len(policy.poll()[0].requests) == 3


# -- deadlines ---------------------------------------------------------------------------------------
def test_a_request_past_its_deadline_is_answered_with_a_timeout_and_never_executed():
    policy, clock = make(max_batch_size=4, max_queue_delay_ms=50.0)
    late = policy.submit("late", deadline_s=clock() + 0.010)
    ok = policy.submit("ok", deadline_s=clock() + 1.0)
    clock.advance_ms(10)
    batch, expired, _ = policy.poll()
    assert expired == [late]
    assert late.status == TIMED_OUT and late.reason == DEADLINE_PASSED
    clock.advance_ms(40)
    batch, _, _ = policy.poll()
    assert payloads(batch) == ["ok"]
    assert policy.metrics.timed_out == 1


def test_the_wake_time_includes_the_next_deadline():
    policy, clock = make(max_batch_size=4, max_queue_delay_ms=50.0)
    policy.submit("x", deadline_s=clock() + 0.003)
    _, _, wake_at = policy.poll()
    assert wake_at == pytest.approx(clock() + 0.003)


def test_a_deadline_already_passed_on_arrival_times_out_at_once():
    policy, clock = make()
    req = policy.submit("x", deadline_s=clock() - 0.001)
    assert req.status == TIMED_OUT
    assert policy.queued == 0


def test_default_timeout_applies_to_requests_without_a_deadline():
    policy, clock = make(default_timeout_ms=20.0, max_queue_delay_ms=100.0)
    req = policy.submit("x")
    assert req.deadline_s == pytest.approx(clock() + 0.020)


def test_a_request_that_cannot_finish_in_time_is_dropped_at_dispatch_with_shedding():
    model = BatchTimeModel(intercept_ms=10.0, per_item_ms=0.0)
    policy, clock = make(
        max_batch_size=4, max_queue_delay_ms=0.0, batch_time_model=model,
        shed_predicted_misses=True,
    )
    running = policy.submit("first")
    first, _, _ = policy.poll()
    tight = policy.submit("tight", deadline_s=clock() + 0.025)  # admitted: 10 + 10 ms < 25 ms
    assert tight.status == QUEUED
    clock.advance_ms(20)  # the first batch overran: now only 5 ms remain, s(1) = 10 ms
    policy.complete(first)
    batch, expired, _ = policy.poll()
    assert batch is None
    assert expired == [tight] and tight.reason == PREDICTED_MISS
    assert running.status == DONE


def test_executed_after_deadline_is_counted_from_the_real_start_time():
    policy, clock = make(max_queue_delay_ms=0.0)
    req = policy.submit("x", deadline_s=clock() + 0.005)
    batch, _, _ = policy.poll()
    clock.advance_ms(10)
    policy.complete(batch, started_s=clock.now - 0.001, finished_s=clock.now)
    assert req.status == DONE
    assert policy.metrics.executed_after_deadline == 1


# -- admission ---------------------------------------------------------------------------------------
def test_a_full_queue_rejects_at_once():
    policy, _ = make(max_queue_size=2)
    policy.submit(1)
    policy.submit(2)
    req = policy.submit(3)
    assert req.status == REJECTED and req.reason == QUEUE_FULL
    assert policy.queued == 2
    assert policy.metrics.rejected == {QUEUE_FULL: 1}


def test_predictive_shedding_rejects_when_the_predicted_completion_misses_the_deadline():
    model = BatchTimeModel(intercept_ms=4.0, per_item_ms=1.0)  # s(b) = 4 + b ms
    policy, clock = make(
        max_batch_size=4, max_queue_delay_ms=0.0, batch_time_model=model,
        shed_predicted_misses=True,
    )
    for i in range(8):  # two full batches ahead: 2 x 8 ms, then its own s(1) = 5 ms -> 21 ms
        policy.submit(i)
    assert policy.predict_completion_s(policy._default_priority) == pytest.approx(clock() + 0.021)
    ok = policy.submit("ok", deadline_s=clock() + 0.0215)
    assert ok.status == QUEUED
    # now 9 ahead: 2 x 8 ms + s(2) = 6 ms -> 22 ms
    shed = policy.submit("shed", deadline_s=clock() + 0.0215)
    assert shed.status == REJECTED and shed.reason == PREDICTED_MISS


def test_the_prediction_waits_for_the_running_batch():
    model = BatchTimeModel(intercept_ms=10.0, per_item_ms=0.0)
    policy, clock = make(max_batch_size=4, max_queue_delay_ms=0.0, batch_time_model=model)
    policy.submit("a")
    policy.poll()  # running until t + 10 ms
    clock.advance_ms(4)
    assert policy.predict_completion_s(1) == pytest.approx(clock.now + 0.006 + 0.010)


def test_shedding_without_a_model_is_a_config_error():
    with pytest.raises(ValueError, match="batch_time_model"):
        BatcherConfig(shed_predicted_misses=True)


# -- priorities --------------------------------------------------------------------------------------
def test_higher_priority_requests_go_first():
    policy, _ = make(max_batch_size=3, priority_levels=2)
    for i in range(3):
        policy.submit(f"low{i}", priority=1)
    policy.submit("high", priority=0)
    batch, _, _ = policy.poll()
    assert payloads(batch) == ["high", "low0", "low1"]


def test_the_default_priority_is_the_least_urgent_level():
    policy, _ = make(priority_levels=3)
    assert policy.submit("x").priority == 2


def test_an_unknown_priority_is_an_error():
    policy, _ = make(priority_levels=2)
    with pytest.raises(ValueError, match="priority"):
        policy.submit("x", priority=2)


def test_high_priority_predictions_ignore_lower_priority_work():
    model = BatchTimeModel(intercept_ms=1.0, per_item_ms=1.0)
    policy, clock = make(max_batch_size=2, batch_time_model=model, max_queue_delay_ms=100.0)
    for i in range(10):
        policy.submit(i, priority=1)
    assert policy.predict_completion_s(0) == pytest.approx(clock() + 0.002)


# -- cancellation and drain ----------------------------------------------------------------------------
def test_a_cancelled_request_is_never_executed():
    policy, _ = make(max_batch_size=2, max_queue_delay_ms=0.0)
    a = policy.submit("a")
    b = policy.submit("b")
    c = policy.submit("c")
    assert policy.cancel(b) is True
    assert b.status == CANCELLED
    batch, _, _ = policy.poll()
    assert payloads(batch) == ["a", "c"]
    assert policy.metrics.cancelled == 1
    assert a.status == c.status == RUNNING


def test_a_running_request_cannot_be_cancelled():
    policy, _ = make(max_queue_delay_ms=0.0)
    req = policy.submit("a")
    policy.poll()
    assert policy.cancel(req) is False
    assert req.status == RUNNING


def test_close_rejects_new_work_and_drains_the_queue_without_waiting():
    policy, _ = make(max_batch_size=8, max_queue_delay_ms=1000.0)
    policy.submit(1)
    policy.submit(2)
    policy.close()
    late = policy.submit(3)
    assert late.status == REJECTED and late.reason == SHUTTING_DOWN
    batch, _, wake_at = policy.poll()
    assert payloads(batch) == [1, 2]  # no 1 s wait while draining
    assert not policy.drained
    policy.complete(batch)
    assert policy.drained
    assert wake_at is None


def test_completing_an_unknown_batch_is_an_error():
    policy, _ = make(max_queue_delay_ms=0.0)
    policy.submit(1)
    batch, _, _ = policy.poll()
    policy.complete(batch)
    with pytest.raises(ValueError):
        policy.complete(batch)


# -- metrics -----------------------------------------------------------------------------------------
def test_metrics_record_queue_time_batch_sizes_and_compute_time():
    policy, clock = make(max_batch_size=2, max_queue_delay_ms=0.0)
    policy.submit("a")
    clock.advance_ms(3)
    policy.submit("b")
    batch, _, _ = policy.poll()
    policy.complete(batch, started_s=clock.now, finished_s=clock.now + 0.004)
    summary = policy.metrics.summary()
    assert summary["batches"] == 1 and summary["completed"] == 2
    assert summary["batch_size_counts"] == {"2": 1}
    assert summary["queue_time_p99_ms"] == pytest.approx(3.0)
    assert summary["compute_time_p50_ms"] == pytest.approx(4.0)


# -- config validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_batch_size": 0},
        {"max_queue_delay_ms": -1.0},
        {"max_queue_delay_ms": math.nan},
        {"preferred_batch_sizes": (8, 4)},
        {"max_batch_size": 4, "preferred_batch_sizes": (8,)},
        {"max_queue_size": 0},
        {"num_slots": 0},
        {"priority_levels": 0},
        {"priority_levels": 2, "default_priority": 2},
        {"default_timeout_ms": 0.0},
    ],
)
def test_bad_configs_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        BatcherConfig(**kwargs)


# -- invariants under random traffic -------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["submit", "poll", "tick", "complete", "cancel"]),
            st.integers(0, 1),
            st.floats(0.0, 5.0),
        ),
        max_size=80,
    ),
    st.integers(1, 5),
)
def test_every_request_is_answered_exactly_once_and_batches_respect_the_limits(ops, max_batch):
    policy, clock = make(max_batch_size=max_batch, max_queue_delay_ms=2.0, max_queue_size=10)
    requests, running, seen = [], [], set()
    for op, prio, ms in ops:
        if op == "submit":
            deadline = clock() + ms / 1000.0 if ms > 2.5 else None
            requests.append(policy.submit(len(requests), priority=prio, deadline_s=deadline))
        elif op == "tick":
            clock.advance_ms(ms)
        elif op == "cancel" and requests:
            policy.cancel(requests[int(ms) % len(requests)])
        elif op == "complete" and running:
            policy.complete(running.pop(0))
        batch, expired, _ = policy.poll()
        for r in expired:
            assert r.status == TIMED_OUT
        if batch is not None:
            assert 1 <= len(batch.requests) <= max_batch
            for r in batch.requests:
                assert r.id not in seen and r.status == RUNNING
                assert r.deadline_s is None or r.deadline_s > clock()
                seen.add(r.id)
            running.append(batch)
    while running:
        policy.complete(running.pop(0))
    policy.close()
    while True:
        batch, _, _ = policy.poll()
        if batch is None:
            break
        policy.complete(batch)
    clock.advance_ms(10_000)
    policy.poll()
    assert policy.drained
    assert all(r.status in (DONE, REJECTED, TIMED_OUT, CANCELLED) for r in requests)
    assert policy.metrics.executed_after_deadline == 0


def test_with_shedding_a_batch_is_kept_small_enough_to_meet_its_earliest_deadline():
    model = BatchTimeModel(intercept_ms=2.0, per_item_ms=1.0)  # s(k) = 2 + k ms
    policy, clock = make(
        max_batch_size=8, max_queue_delay_ms=0.0, batch_time_model=model,
        shed_predicted_misses=True,
    )
    for i in range(8):  # all admitted: the next batch, s(8) = 10 ms, meets every deadline
        assert policy.submit(i, deadline_s=clock() + 0.020 + i * 0.001).status == QUEUED
    clock.advance_ms(13.5)  # e.g. the loop was slow to poll; the first has 6.5 ms left
    batch, expired, _ = policy.poll()
    # s(4) = 6 ms fits the first deadline; s(5) = 7 ms does not.
    assert payloads(batch) == [0, 1, 2, 3]
    assert expired == []
    assert policy.queued == 4


def test_shedding_refuses_a_request_that_would_slow_the_next_batch_past_a_queued_deadline():
    model = BatchTimeModel(intercept_ms=2.0, per_item_ms=1.0)  # s(k) = 2 + k ms
    policy, clock = make(
        max_batch_size=16, max_queue_delay_ms=100.0, batch_time_model=model,
        shed_predicted_misses=True,
    )
    first = policy.submit("first", deadline_s=clock() + 0.0045)  # s(1) = 3 ms: fine
    assert first.status == QUEUED
    # Its own deadline is far, but s(2) = 4 ms would still fit the first's 4.5 ms...
    assert policy.submit("second", deadline_s=clock() + 1.0).status == QUEUED
    # ...and s(3) = 5 ms would not: refused although its own deadline is a second away.
    third = policy.submit("third", deadline_s=clock() + 1.0)
    assert third.status == REJECTED and third.reason == PREDICTED_MISS


def test_predictions_follow_batches_that_run_slower_than_the_model():
    model = BatchTimeModel(intercept_ms=10.0, per_item_ms=0.0)
    policy, clock = make(max_batch_size=1, max_queue_delay_ms=0.0, batch_time_model=model)
    assert policy.batch_time_s(1) == pytest.approx(0.010)
    for _ in range(32):  # every batch takes 15 ms where the model says 10 ms
        policy.submit("x")
        batch, _, _ = policy.poll()
        policy.complete(batch, started_s=clock.now, finished_s=clock.now + 0.015)
    assert policy.batch_time_scale == pytest.approx(1.5)
    assert policy.batch_time_s(1) == pytest.approx(0.015)


def test_faster_batches_never_shrink_the_predictions_below_the_model():
    model = BatchTimeModel(intercept_ms=10.0, per_item_ms=0.0)
    policy, clock = make(max_batch_size=1, max_queue_delay_ms=0.0, batch_time_model=model)
    for _ in range(32):
        policy.submit("x")
        batch, _, _ = policy.poll()
        policy.complete(batch, started_s=clock.now, finished_s=clock.now + 0.005)
    assert policy.batch_time_scale == 1.0
