"""The batch-time model s(b) that predictive shedding uses (the policy's use of it is in
test_serving_policy.py)."""

import pytest

from engine.serving.batch_time import BatchTimeModel


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
