"""Shared data of the portfolio tests (no tests here): many designs of one team, made in bulk."""

import copy

from engine.design import example_design


def inputs_with_peak(peak_qps: float) -> dict:
    document = copy.deepcopy(example_design())
    document["requirements"]["peak_qps"] = peak_qps
    return document


def make_designs(team, user, n: int, *, start: int = 0, distinct: int = 4) -> list:
    """`n` designs of `team` (`distinct` different peak loads among them), created in one query."""
    from reviewapp.designs.models import Design

    base = example_design()["requirements"]["peak_qps"]
    designs = [Design(team=team, name=f"Design {i:03d}", description=f"bulk {i}", created_by=user,
                      inputs=inputs_with_peak(base * (1 + (i % distinct))))
               for i in range(start, start + n)]
    return Design.objects.bulk_create(designs)
