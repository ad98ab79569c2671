"""Writes to checklists and reviews. Views, the admin and commands call these; each runs in one
transaction, so a refused import or publish leaves the database as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from engine.checklist import ChecklistError, Problem, compile_checklist
from engine.checklist.jsonformat import load_checklist, parse_json

from reviewapp.checklists.convert import known_fact_paths, rows_from_checklist, version_checklist
from reviewapp.checklists.models import (
    Answer,
    Checklist,
    ChecklistVersion,
    DesignReview,
    ImmutableVersionError,
    Item,
    RiskAcceptance,
)
from reviewapp.reviews.history import Kind as Event, design_changed

FORMATS = ("ours", "aws-lens")
DEFAULT_CHECKLIST_PATH = Path(__file__).resolve().parents[2] / "engine" / "data" / "default_checklist.json"


def parse_checklist_file(data: str | bytes | dict, *, fmt: str = "ours"):
    """A file's contents as the engine's validated checklist; ChecklistError names the JSON path."""
    if fmt not in FORMATS:
        raise ChecklistError([Problem("", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")])
    if isinstance(data, (str, bytes, bytearray)):
        data = parse_json(data)
    if fmt == "aws-lens":
        from engine.checklist.lens import lens_to_checklist

        return lens_to_checklist(data)
    return load_checklist(data, known_fact_paths())


@transaction.atomic
def checklist_import(*, data: str | bytes | dict, fmt: str = "ours", user=None, publish: bool = False) -> ChecklistVersion:
    """Import a file as a new draft version (a new checklist when its key is new); `publish`
    publishes it too. Raises ChecklistError (nothing written) when the file is unusable."""
    source = parse_checklist_file(data, fmt=fmt)
    checklist, created = Checklist.objects.select_for_update().get_or_create(
        key=source.key, defaults={"name": source.name, "description": source.description, "scoring": source.scoring}
    )
    if not created:
        checklist.name, checklist.description, checklist.scoring = source.name, source.description, source.scoring
        checklist.save(update_fields=["name", "description", "scoring"])
    version = rows_from_checklist(checklist, source, number=_next_number(checklist), user=user)
    if publish:
        version = version_publish(version=version, user=user)
    return version


def _next_number(checklist: Checklist) -> int:
    return (checklist.versions.aggregate(n=Max("number"))["n"] or 0) + 1


@transaction.atomic
def version_publish(*, version: ChecklistVersion, user=None) -> ChecklistVersion:
    """Freeze a draft. Refused (ChecklistError with JSON paths) unless every rule compiles and
    reads known facts; refused (ImmutableVersionError) unless it is a draft."""
    version = ChecklistVersion.objects.select_for_update().select_related("checklist").get(pk=version.pk)
    if not version.is_draft:
        raise ImmutableVersionError(f"{version} is already {version.get_status_display().lower()}.")
    compile_checklist(version_checklist(version), known_fact_paths())
    version.status = ChecklistVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = user
    version.save(update_fields=["status", "published_at", "published_by"])
    return version


@transaction.atomic
def version_retire(*, version: ChecklistVersion, user=None) -> ChecklistVersion:
    """A retired version is no longer offered for new pins; designs pinned to it keep it."""
    version = ChecklistVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ChecklistVersion.Status.PUBLISHED:
        raise ImmutableVersionError(f"Only a published version can be retired; {version} is not.")
    version.status = ChecklistVersion.Status.RETIRED
    version.retired_at = timezone.now()
    version.save(update_fields=["status", "retired_at"])
    return version


@transaction.atomic
def version_new_draft(*, version: ChecklistVersion, user=None) -> ChecklistVersion:
    """A new draft (next number) with a copy of `version`'s sections and items."""
    checklist = type(version.checklist).objects.select_for_update().get(pk=version.checklist_id)
    draft = ChecklistVersion.objects.create(
        checklist=checklist, number=_next_number(checklist), scoring=version.scoring,
        levels=version.levels, created_by=user, notes=f"Copied from v{version.number}.",
    )  # fmt: skip
    for section in version.sections.prefetch_related("items"):
        items = list(section.items.all())
        section.pk = None
        section.version = draft
        section.save()
        for item in items:
            item.pk = None
            item.section = section
        Item.objects.bulk_create(items)
    return draft


def newest_published(checklist: Checklist | None) -> ChecklistVersion | None:
    if checklist is None:
        return None
    return checklist.versions.published().order_by("-number").first()


def default_checklist() -> Checklist | None:
    return Checklist.objects.filter(is_default=True).first()


@transaction.atomic
def review_for_design(*, design, user=None) -> DesignReview | None:
    """The design's review, pinned on first use to the newest published version of the default
    checklist; None while there is none."""
    review = DesignReview.objects.select_related("version__checklist").filter(design=design).first()
    if review is not None:
        return review
    version = newest_published(default_checklist())
    if version is None:
        return None
    review, _ = DesignReview.objects.get_or_create(design=design, defaults={"version": version, "pinned_by": user})
    return review


@transaction.atomic
def review_repin(*, review: DesignReview, version: ChecklistVersion, user) -> DesignReview:
    """Score the design with another published version from now on; answers follow item keys."""
    version = ChecklistVersion.objects.get(pk=version.pk)
    if version.status != ChecklistVersion.Status.PUBLISHED:
        raise ImmutableVersionError(f"{version} is not published: a design can only be pinned to a published version.")
    review.version = version
    review.pinned_by = user
    review.pinned_at = timezone.now()
    review.save(update_fields=["version", "pinned_by", "pinned_at"])
    design_changed(design=review.design_id, user=user, kind=Event.REPINNED, summary=f"Re-pinned the checklist to {version}.")
    return review


@transaction.atomic
def answer_set(*, review: DesignReview, item_key: str, user, status: str = "", choices=(), reason: str = "") -> Answer:
    """Record a member's answer to a manual item (pass / fail / not applicable, or choices)."""
    answer, _ = Answer.objects.update_or_create(
        review=review, item_key=item_key,
        defaults={"status": status, "choices": list(choices), "reason": reason, "answered_by": user},
    )  # fmt: skip
    design_changed(design=review.design_id, user=user, kind=Event.ANSWERED, summary=f"Answered {item_key}: {status or ', '.join(choices)}.", data={"item_key": item_key, "status": status, "choices": list(choices), "reason": reason})
    from reviewapp.actions.services import actions_close_fixed  # here: that module reads designs, which import this one

    actions_close_fixed(design=review.design_id, user=user)  # an answer that passes the item closes its action
    return answer


@transaction.atomic
def answer_clear(*, review: DesignReview, item_key: str, user=None) -> None:
    if Answer.objects.filter(review=review, item_key=item_key).delete()[0]:
        design_changed(design=review.design_id, user=user, kind=Event.ANSWER_CLEARED, summary=f"Cleared the answer to {item_key}.", data={"item_key": item_key})


@transaction.atomic
def risk_accept(*, review: DesignReview, item_key: str, user, rationale: str, expires_on: dt.date | None = None) -> RiskAcceptance:
    """A reviewer accepts the risk of a failing item, with a rationale and an optional expiry."""
    acceptance, _ = RiskAcceptance.objects.update_or_create(
        review=review, item_key=item_key,
        defaults={"rationale": rationale, "expires_on": expires_on, "accepted_by": user},
    )  # fmt: skip
    design_changed(design=review.design_id, user=user, kind=Event.RISK_ACCEPTED, summary=f"Accepted the risk of {item_key}" + (f" until {expires_on}" if expires_on else "") + f": {rationale}", data={"item_key": item_key, "rationale": rationale, "expires_on": expires_on.isoformat() if expires_on else None})
    return acceptance


@transaction.atomic
def risk_revoke(*, review: DesignReview, item_key: str, user=None) -> None:
    if RiskAcceptance.objects.filter(review=review, item_key=item_key).delete()[0]:
        design_changed(design=review.design_id, user=user, kind=Event.RISK_REVOKED, summary=f"Revoked the accepted risk of {item_key}.", data={"item_key": item_key})


@transaction.atomic
def default_checklist_load(*, path: Path = DEFAULT_CHECKLIST_PATH, user=None) -> tuple[ChecklistVersion, bool]:
    """Import and publish the shipped default checklist once; later calls change nothing.
    Returns (the newest published version, whether it was created now)."""
    source = parse_checklist_file(Path(path).read_bytes())
    existing = Checklist.objects.filter(key=source.key).first()
    if existing is not None and existing.versions.exists():
        if not Checklist.objects.filter(is_default=True).exists():
            existing.is_default = True
            existing.save(update_fields=["is_default"])
        return newest_published(existing) or existing.versions.order_by("-number").first(), False
    version = checklist_import(data=Path(path).read_bytes(), user=user, publish=True)
    if not Checklist.objects.filter(is_default=True).exists():
        Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    return version, True
