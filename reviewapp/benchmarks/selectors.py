"""Reads of benchmark runs: which measurements a design's assessment uses, and the runs pages list.

Precedence (docs/benchmarks.md, "Benchmark jobs from the app"), among the succeeded runs with
measurements whose model shape is the design's current one:

1. the run a reviewer pinned, whatever its source (run here, uploaded, entered);
2. else the newest run measured here (by the app's own job);
3. else the newest uploaded result or entered figures (only while no run here exists).

A run whose shape differs from the design's (the model changed since) is stale: listed, never used,
even when pinned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.bench.design_spec import model_shape_key
from engine.design import validate
from reviewapp.benchmarks.models import BenchmarkRun

Source = BenchmarkRun.Source


@dataclass(frozen=True, slots=True)
class InForce:
    """The measurements a design's assessment uses, and where they come from.

    `measurements`: the dict for `engine.assess(..., measurements=...)`, None when every run is
    stale. `run`: the run they come from (link to `run.get_absolute_url()`). `source`: "run",
    "uploaded" or "entered". `why`: one line for the page ("pinned by rafael", ...). `stale_runs`:
    succeeded runs of another model shape (not used). `shape_key`: the design's current shape.
    """

    measurements: dict[str, Any] | None
    run: BenchmarkRun | None
    source: str | None
    pinned: bool
    why: str
    shape_key: str
    stale_runs: list[BenchmarkRun] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.measurements is not None


def design_shape_key(document: Mapping[str, Any] | None) -> str:
    """The model shape a design document asks for (nested or flat form values, as `validate` takes)."""
    return model_shape_key(validate(document or {}).document)


def measured_runs(design):
    """The runs whose measurements can be in force (`design`: a Design, its pk or an OuterRef)."""
    return BenchmarkRun.objects.filter(design=design, status=BenchmarkRun.Status.SUCCEEDED, measurements__isnull=False)


def measurements_in_force(design, document: Mapping[str, Any] | None = None) -> InForce | None:
    """What `engine.assess` should take as measurements for `design` described by `document`
    (default: its saved inputs). None when the design has no succeeded run with measurements.
    One query."""
    document = design.inputs if document is None else document
    return in_force_of(list(runs_in_force_order(measured_runs(design))), document)


def runs_in_force_order(runs):
    """Measured runs as `in_force_of` takes them: without the bulky result, newest first."""
    return runs.defer("result", "spec").select_related("pinned_by").order_by("-finished_at", "-pk")


def in_force_of(runs: list[BenchmarkRun], document: Mapping[str, Any]) -> InForce | None:
    """The precedence above over one design's measured runs (newest first, as
    `runs_in_force_order` reads them): pages of many designs read every design's runs in one
    query and choose here. No query."""
    if not runs:
        return None
    shape = design_shape_key(document)
    current = [r for r in runs if r.shape_key == shape]
    stale = [r for r in runs if r.shape_key != shape]
    chosen, why = None, ""
    pinned = next((r for r in current if r.pinned), None)
    if pinned is not None:
        who = pinned.pinned_by.get_username() if pinned.pinned_by else "a reviewer"
        chosen, why = pinned, f"pinned by {who}"
    else:
        here = next((r for r in current if r.source == Source.RUN), None)
        if here is not None:
            chosen, why = here, "the newest run measured here"
        elif current:
            chosen = current[0]
            why = f"the newest {chosen.get_source_display().lower()} (no run measured here yet)"
    if chosen is None:
        why = "every measurement is for another model shape (stale)"
        if any(r.pinned for r in stale):
            why += "; the pinned one too"
    return InForce(
        measurements=dict(chosen.measurements) if chosen else None, run=chosen,
        source=chosen.source if chosen else None, pinned=chosen is not None and chosen.pinned, why=why,
        shape_key=shape, stale_runs=stale,
    )  # fmt: skip


def runs_for_design(design):
    """The design's runs for the list page, newest first, without the bulky result."""
    return BenchmarkRun.objects.filter(design=design).defer("result").select_related("requested_by", "pinned_by")
