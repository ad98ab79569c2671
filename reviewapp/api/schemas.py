"""Request and response bodies of the API (pydantic, via ninja). Request bodies refuse unknown
fields, so a typo is a 400 naming it rather than a silently ignored value."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ProblemError(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError]


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    role: str | None = None  # the caller's role in the team


class DesignInputsIn(Strict):
    """The design document: requirements and architecture, each `{field name: value}` as the
    design schema (engine.design, docs/facts.md) defines them. A PUT replaces the whole document:
    a field left out is blank."""

    requirements: dict[str, Any] = Field(default_factory=dict)
    architecture: dict[str, Any] = Field(default_factory=dict)


class DesignCreateIn(Strict):
    team: int = Field(description="Id of one of your teams (GET /teams).")
    name: str
    description: str = ""
    inputs: DesignInputsIn | None = None


class DesignSummaryOut(Schema):
    id: int
    team: TeamOut
    name: str
    status: str
    revision: int
    updated_at: dt.datetime


class DesignOut(DesignSummaryOut):
    description: str
    inputs: dict[str, Any]
    created_at: dt.datetime
    etag: str = Field(description="The ETag of this revision: send it as If-Match to update the inputs.")


class FindingOut(Schema):
    item_key: str
    section_key: str
    title: str
    mode: str
    severity: str
    weight: float
    level: str
    outcome: str
    risk: str | None
    credit: float | None
    message: str
    improvement_plan: str
    reason: str = ""
    selected_choices: list[str] = Field(default_factory=list)
    acceptance: dict[str, Any] | None = None
    trace: list[dict[str, Any]] = Field(default_factory=list)


class ChecklistRef(Schema):
    key: str
    name: str
    version: int
    version_id: int
    pinned: bool


class AssessmentOut(Schema):
    design_id: int
    revision: int = Field(description="The design's revision when assessed.")
    assessed: Literal["saved", "posted"] = Field(description="The saved inputs, or the posted ones (not saved).")
    checklist: ChecklistRef | None
    score: dict[str, Any] | None
    verdict: str | None
    verdict_reasons: list[str]
    counts: dict[str, int]
    findings: list[FindingOut]
    numbers: dict[str, Any]
    facts: dict[str, Any]
    measured: bool = Field(description="True when a benchmark's measurements are in the numbers.")


class ChecklistVersionOut(Schema):
    id: int
    checklist_key: str
    checklist_name: str
    number: int
    status: str
    is_default: bool
    published_at: dt.datetime | None
    notes: str


class BenchmarkRequestIn(Strict):
    """A run of the design's derived benchmark; any adjustment needs the reviewer role."""

    preset: Literal["design", "quick"] = "design"
    queries: int | None = None
    max_batch_size: int | None = None
    max_queue_delay_ms: float | None = None
    latency_p99_budget_ms: float | None = None
    target_qps: float | None = None
    device: str | None = None
    seed: int | None = None


class BenchmarkRunOut(Schema):
    id: int
    design_id: int
    design_revision: int
    source: str
    status: str
    progress: float
    phase: str
    reason: str
    device: str
    shape_key: str
    spec: dict[str, Any]
    measurements: dict[str, Any] | None
    pinned: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    requested_by: str | None


class BenchmarkResultOut(Schema):
    id: int
    status: str
    measurements: dict[str, Any] | None
    result: dict[str, Any]


class MilestoneOut(Schema):
    number: int
    name: str
    kind: str
    design_revision: int
    content_hash: str
    created_by: str | None
    created_at: dt.datetime


class MilestoneDetailOut(MilestoneOut):
    snapshot: dict[str, Any]


class ReportOut(Schema):
    id: int
    milestone: int | None = Field(description="The milestone's number; null for a working draft.")
    status: str
    reason: str
    page_count: int | None
    pdf_size_bytes: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    pdf_url: str | None


class DesignFileImportIn(Strict):
    """A design file (docs/design-file.md) as a JSON object, imported as a new design."""

    team: int = Field(description="Id of one of your teams (GET /teams).")
    name: str = Field("", description="The new design's name; blank: the file's.")
    file: dict[str, Any] = Field(description="The design file: {format, version, name, inputs, ...}.")


class KubernetesOut(Schema):
    ok: bool = Field(description="False while the design lacks what the manifests need (see `missing`), or "
                                 "when it cannot run as designed (see `cannot_run`).")
    missing: list[str]
    cannot_run: str = Field("", description="'Cannot run as designed: <the reason>' when the model does not fit "
                                            "its replica or no batch meets the budget (then no manifests); "
                                            "empty otherwise.")
    documents: list[dict[str, Any]]
    yaml: str
    filename: str
