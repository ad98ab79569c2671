"""The batch-time model s(b) that predictive shedding uses (the policy's use of it is in
test_serving_policy.py)."""

import pytest

from engine.serving.batch_time import BatchTimeModel, padded_times_ms, padding_plan


def test_batch_time_model_rejects_negative_terms():
    with pytest.raises(ValueError):
        BatchTimeModel(intercept_ms=-1.0, per_item_ms=0.1)


def test_measured_points_override_the_line_where_they_exist():
    model = BatchTimeModel(intercept_ms=1.0, per_item_ms=0.5, measured_ms=((1, 2.0), (4, 5.0)))
    assert model.batch_time_s(1) == pytest.approx(0.002)
    assert model.batch_time_s(2) == pytest.approx(0.003)  # interpolated
    assert model.batch_time_s(4) == pytest.approx(0.005)
    assert model.batch_time_s(6) == pytest.approx(0.006)  # the line's slope beyond the points
    with pytest.raises(ValueError):
        BatchTimeModel(intercept_ms=1.0, per_item_ms=0.5, measured_ms=((0, 1.0),))


# A CPU's s(b) is not monotone: here 12 runs slower than 16 (the BLAS kernel depends on the shape).
STEPPED = {1: 1.0, 2: 2.0, 4: 4.0, 8: 8.0, 12: 9.0, 16: 6.0, 32: 12.0}


def test_a_size_that_a_larger_measured_size_beats_is_padded_to_the_fastest_one():
    plan = padding_plan(STEPPED, 32)
    # 7 (7.0 ms on the line from 4 to 8) and up run as 16 (6.0 ms); 6 (6.0 ms) gains nothing.
    assert plan == {b: 16 for b in range(7, 16)}
    assert padded_times_ms(STEPPED, plan) == {**STEPPED, **{b: 6.0 for b in range(7, 16)}}


def test_padding_needs_the_minimum_gain_and_a_measured_size_within_the_maximum():
    assert padding_plan({4: 5.0, 8: 4.9}, 8) == {}  # 2 % faster: not worth the extra rows
    # 7 is on the line from 4 to 8 (4.925 ms): 8 beats it by only 0.5 %.
    assert padding_plan({4: 5.0, 8: 4.9}, 8, min_gain=0.01) == {4: 8, 5: 8, 6: 8}
    assert padding_plan(STEPPED, 12) == {}  # 16 is beyond the maximum batch size
    assert padding_plan({1: 1.0, 8: 4.0, 32: 10.0}, 32) == {}  # monotone: nothing to gain
    with pytest.raises(ValueError):
        padding_plan(STEPPED, 32, min_gain=1.0)
