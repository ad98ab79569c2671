"""The assessment of a design: what every page, export, report and API of a design reads.

`design_assessment()` computes it once per request — one `engine.assess` call (facts, numbers and
findings from the same facts tree), the GPU catalog read once, the checklist compiled once per
published version and process — and reads only: the findings of a design that no review has
pinned yet are scored with the default checklist's newest published version without writing
anything (a GET never writes; the pin is made when the design is created or by the first answer,
acceptance or explicit pin).

The number of SQL queries does not grow with the checklist's size or the number of answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine import assess as engine_assess
from engine.checklist import Evaluation, Finding, Item

from reviewapp.checklists.assessment import compiled_version
from reviewapp.checklists.models import Answer, ChecklistVersion, DesignReview, RiskAcceptance
from reviewapp.checklists.services import default_checklist, newest_published
from reviewapp.designs.assessment import Numbers, numbers_from_facts
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.models import Design


@dataclass(frozen=True, slots=True)
class DesignAssessment:
    design: Design
    document: Mapping[str, Any]  # what was assessed: the saved inputs or the posted form values
    catalog: dict
    numbers: Numbers
    review: DesignReview | None  # None until the design is pinned to a version
    version: ChecklistVersion | None  # the pinned version, else the one it would be pinned to
    evaluation: Evaluation | None  # None while no checklist is published
    newer_version: ChecklistVersion | None = None  # a newer published version of the same checklist
    items: dict[str, Item] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    acceptances: dict[str, RiskAcceptance] = field(default_factory=dict)
    measurements: dict | None = None

    @property
    def facts(self):
        return self.numbers.facts

    @property
    def pinned(self) -> bool:
        return self.review is not None

    def finding(self, item_key: str) -> Finding | None:
        if self.evaluation is None:
            return None
        return next((f for f in self.evaluation.findings if f.item_key == item_key), None)


def design_review(design: Design) -> DesignReview | None:
    """The design's review with its version and checklist, in one query; None when not pinned."""
    return DesignReview.objects.select_related("version__checklist").filter(design=design).first()


def design_assessment(design: Design, *, document: Mapping[str, Any] | None = None,
                      catalog: dict | None = None, today: dt.date | None = None) -> DesignAssessment:
    """Facts, numbers and findings of `design` — of `document` (posted form values, flat dotted
    keys, as `DesignInputsForm.raw_inputs()` reads them) when given, else of the saved inputs."""
    catalog = gpu_catalog() if catalog is None else catalog
    document = design.inputs if document is None else document
    review = design_review(design)
    version = review.version if review is not None else newest_published(default_checklist())
    measurements = None  # benchmark runs join here (one query), when they exist
    if version is None:
        result = engine_assess(document, None, measurements, gpu_catalog=catalog)
        return DesignAssessment(design, document, catalog, numbers_from_facts(result.facts), review, None, None)
    compiled = compiled_version(version)
    answers = {a.item_key: a for a in review.answers.all()} if review else {}
    acceptances = {a.item_key: a for a in review.acceptances.all()} if review else {}
    result = engine_assess(
        document, compiled, measurements,
        answers={k: a.as_engine_answer() for k, a in answers.items()},
        acceptances={k: a.as_engine_acceptance() for k, a in acceptances.items()},
        gpu_catalog=catalog, today=today or dt.date.today(),
    )  # fmt: skip
    newest = newest_published(version.checklist) if review else version
    return DesignAssessment(
        design=design, document=document, catalog=catalog, numbers=numbers_from_facts(result.facts),
        review=review, version=version, evaluation=result.evaluation,
        newer_version=newest if newest is not None and newest.number > version.number else None,
        items={c.item.key: c.item for c in compiled.items}, answers=answers, acceptances=acceptances,
        measurements=measurements,
    )  # fmt: skip
