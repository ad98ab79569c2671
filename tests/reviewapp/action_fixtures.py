"""Shared fixtures of the actions tests (no tests here): a failing finding and its action."""

import datetime as dt

import pytest

from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

FAILING = "req_p99_budget"  # the example design's 8 s p99 fails the test checklist's 5 s rule
TODAY = dt.date(2026, 12, 8)


@pytest.fixture
def action(published, filled_design, reviewer, member):
    from reviewapp.actions import services

    return services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=member,
                                  due_on=dt.date(2026, 12, 1))


def fix_p99(design, user):
    """Save the design with a p99 the rule accepts (4 s; p50 and p95 below it)."""
    import copy

    from reviewapp.designs import services

    inputs = copy.deepcopy(design.inputs)
    inputs["requirements"].update(latency_p50_ms=1000.0, latency_p95_ms=3000.0, latency_p99_ms=4000.0)
    return services.design_update_inputs(design=design, data=inputs, revision=design.revision, user=user)
