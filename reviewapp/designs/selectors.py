"""The assessment of a design: what every page, export, report and API of a design reads.

`design_assessment()` computes it once per request — one `engine.assess` call (facts, numbers and
findings from the same facts tree), the GPU catalog read once, the checklist compiled once per
published version and process — and reads only: the findings of a design that no review has
pinned yet are scored with the default checklist's newest published version without writing
anything (a GET never writes; the pin is made when the design is created or by the first answer,
acceptance or explicit pin).

The number of SQL queries does not grow with the checklist's size or the number of answers.

The engine's part is a pure function of what it is given, so its result is memoised in the
process under `key`, a digest of all of it (checklist version, document, catalog, answers,
acceptances, measurements, today): a page viewed again skips the engine, and nothing needs to be
invalidated. Drafts are never memoised (a draft version can still change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import BooleanField, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from typing import Any, Hashable, Mapping

from engine import assess as engine_assess
from engine.checklist import Evaluation, Finding, Item
from engine.design import ValidationResult

from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import InForce, measurements_in_force
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
    sections: tuple[tuple[str, str], ...] = ()  # the checklist's (key, title) in order
    answers: dict[str, Answer] = field(default_factory=dict)
    acceptances: dict[str, RiskAcceptance] = field(default_factory=dict)
    measurements: dict | None = None
    in_force: InForce | None = None  # which benchmark run (or upload, or entered figure) measured them
    key: str | None = None  # digest of everything the engine read; None when not memoisable
    catalog_key: str = ""  # digest of the GPU catalog (the form's GPU menu depends on it)

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
    """The design's review with its version and checklist, and the number of the checklist's
    newest published version (`newest_number`), in one query (none when the design was fetched
    `with_assessment`); None when not pinned."""
    if hasattr(design, "review_newest_number") and Design.review.is_cached(design):  # read `with_assessment`
        review = getattr(design, "review", None)
        if review is not None:
            review.newest_number = design.review_newest_number
        return review
    newest = (ChecklistVersion.objects.published().filter(checklist=OuterRef("version__checklist"))
              .order_by("-number").values("number")[:1])
    return (DesignReview.objects.select_related("version__checklist").annotate(newest_number=Subquery(newest))
            .filter(design=design).first())


def with_assessment(designs: QuerySet) -> QuerySet:
    """For `get_design_for_user(..., extend=...)`: what `design_assessment` reads first, joined
    to the design's own query — its review with the pinned version and checklist, the newest
    published version's number, and whether any run has measurements, any answer or any
    accepted risk (most designs have none of one or the other, and then no query reads them).

    The two subqueries are SQL written here: the ORM took about 1 ms to compile them, per request
    (benchmarks/page_profile.py), against 0.1 ms for the same SQL as `RawSQL`."""
    version, review, run = ChecklistVersion._meta, DesignReview._meta, BenchmarkRun._meta
    design = f'"{Design._meta.db_table}"."id"'
    newest = (f'SELECT MAX(v."number") FROM "{version.db_table}" v '
              f'JOIN "{version.db_table}" pinned ON pinned."checklist_id" = v."checklist_id" '
              f'JOIN "{review.db_table}" r ON r."version_id" = pinned."id" '
              f'WHERE r."design_id" = {design} AND v."status" = %s')
    measured = (f'SELECT EXISTS (SELECT 1 FROM "{run.db_table}" b WHERE b."design_id" = {design} '
                f'AND b."status" = %s AND b."measurements" IS NOT NULL)')

    def any_of(model) -> str:  # the review's answers or acceptances: most drafts have none
        return (f'SELECT EXISTS (SELECT 1 FROM "{model._meta.db_table}" a JOIN "{review.db_table}" r '
                f'ON r."id" = a."review_id" WHERE r."design_id" = {design})')

    return designs.select_related("review__version__checklist").annotate(
        review_newest_number=RawSQL(newest, (ChecklistVersion.Status.PUBLISHED.value,), output_field=IntegerField()),
        has_measured_runs=RawSQL(measured, (BenchmarkRun.Status.SUCCEEDED.value,), output_field=BooleanField()),
        has_answers=RawSQL(any_of(Answer), (), output_field=BooleanField()),
        has_acceptances=RawSQL(any_of(RiskAcceptance), (), output_field=BooleanField()),
    )


def digest(*parts: Any) -> str:
    """A short stable digest of JSON-able data (dict order does not matter)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Memo:
    """A small LRU of engine results by digest, per process (a pure function's results)."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable | None):
        with self.lock:
            if key is None or key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key]

    def put(self, key: Hashable | None, value) -> None:
        if key is None:
            return
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_engine_results = Memo(256)


_READ = object()  # design_assessment's "read it yourself" default


def design_assessment(design: Design, *, document: Mapping[str, Any] | None = None,
                      catalog: dict | None = None, today: dt.date | None = None,
                      validated: ValidationResult | None = None,
                      default_version: Any = _READ, in_force: Any = _READ,
                      newest_versions: Mapping[int, ChecklistVersion] | None = None) -> DesignAssessment:
    """Facts, numbers and findings of `design` — of `document` (posted form values, flat dotted
    keys, as `DesignInputsForm.raw_inputs()` reads them) when given, else of the saved inputs.
    `validated`: the engine's verdict on `document` against `catalog` when the caller has it
    (the form that read `document`), so it is not validated twice.

    A page of many designs reads once for all of them what this reads per design:
    `default_version` (the version an unpinned design is scored with, or None) and `in_force`
    (`benchmarks.selectors.in_force_of` over the design's runs, or None) and `newest_versions`
    (each checklist's newest published version, by checklist id); with the design's review
    answers and acceptances prefetched, the assessment then makes no query."""
    catalog = gpu_catalog() if catalog is None else catalog
    document = design.inputs if document is None else document
    today = today or dt.date.today()
    review = design_review(design)
    if review is not None:
        version = review.version
    else:
        version = newest_published(default_checklist()) if default_version is _READ else default_version
    if in_force is _READ:
        in_force = measurements_in_force(design, document) if getattr(design, "has_measured_runs", True) else None
    measurements = in_force.measurements if in_force else None
    answers = {a.item_key: a for a in review.answers.all()} if review and getattr(design, "has_answers", True) else {}
    acceptances = ({a.item_key: a for a in review.acceptances.all()}
                   if review and getattr(design, "has_acceptances", True) else {})
    engine_answers = {k: a.as_engine_answer() for k, a in answers.items()}
    engine_acceptances = {k: a.as_engine_acceptance() for k, a in acceptances.items()}
    catalog_key = digest(catalog)
    key = None
    if version is None or not version.is_draft:
        version_id = (version.pk, version.published_at) if version else None
        run = (in_force.run.pk, in_force.why) if in_force and in_force.run else None
        key = digest(version_id, document, catalog_key, engine_answers, engine_acceptances, measurements, run, today)
    cached = _engine_results.get(key)
    if cached is None:
        compiled = compiled_version(version) if version else None
        result = engine_assess(document, compiled, measurements, answers=engine_answers, acceptances=engine_acceptances,
                               gpu_catalog=catalog, today=today, validated=validated)
        items = {c.item.key: c.item for c in compiled.items} if compiled else {}
        sections = tuple((s.key, s.title) for s in compiled.checklist.ordered_sections()) if compiled else ()
        cached = (numbers_from_facts(result.facts), result.evaluation, items, sections)
        _engine_results.put(key, cached)
    numbers, evaluation, items, sections = cached
    newer = None
    if review is not None and (review.newest_number or 0) > version.number:
        # Rare: only when a newer version exists.
        newer = (newest_published(version.checklist) if newest_versions is None
                 else newest_versions.get(version.checklist_id))
    return DesignAssessment(
        design=design, document=document, catalog=catalog, numbers=numbers, review=review, version=version,
        evaluation=evaluation, newer_version=newer,
        items=items, sections=sections, answers=answers, acceptances=acceptances, measurements=measurements, in_force=in_force,
        key=key, catalog_key=catalog_key,
    )  # fmt: skip
