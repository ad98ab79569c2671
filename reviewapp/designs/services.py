"""Writes to designs. Views call these; they hold the rules and the transactions."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from reviewapp.accounts.models import Membership, Role
from reviewapp.actions.services import actions_close_fixed
from reviewapp.checklists.services import review_for_design
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.document import validate_inputs, validation_error
from reviewapp.designs.models import Design
from reviewapp.reviews.diff import inputs_diff
from reviewapp.reviews.history import Kind, design_changed, history_record


class StaleDesignError(Exception):
    """The design changed since the form was read."""

    def __init__(self, design: Design):
        self.design = design
        who = design.updated_by.get_username() if design.updated_by else "someone"
        super().__init__(
            f"{who} saved this design (revision {design.revision}) after you opened it. "
            "Your changes were not saved: reload to see theirs, then apply yours again."
        )


@transaction.atomic
def design_create(*, team, name: str, description: str, user, inputs: dict | None = None) -> Design:
    """A new design, pinned to the default checklist's newest published version when there is one
    (pages only read; they never pin)."""
    design = Design.objects.create(
        team=team,
        name=name,
        description=description,
        inputs=inputs or {},
        created_by=user,
        updated_by=user,
    )
    review_for_design(design=design, user=user)
    history_record(design=design, user=user, kind=Kind.CREATED, summary=f"Created “{design.name}”.")
    return design


class DesignNameTakenError(Exception):
    """The team already has a design of that name (names are unique per team, case-insensitively)."""

    def __init__(self, team, name: str):
        self.team, self.name = team, name
        super().__init__(f"{team} already has a design named “{name}”.")


def design_import(*, team, loaded, user, name: str = "", description: str | None = None) -> Design:
    """A new design holding a loaded design file's inputs (engine.designfile.DesignFile): the
    import page and the templates both create designs this way. `name` and `description` default
    to the file's. The file's measurements are not imported (a measurement belongs to a benchmark
    run). Raises DesignNameTakenError and then creates nothing."""
    name = name or loaded.name
    if Design.objects.filter(team=team, name__iexact=name).exists():
        raise DesignNameTakenError(team, name)
    try:
        with transaction.atomic():
            return design_create(team=team, name=name, user=user, inputs=loaded.inputs,
                                 description=loaded.description if description is None else description)
    except IntegrityError:  # created by someone else since the check above
        raise DesignNameTakenError(team, name) from None


@transaction.atomic
def design_update(*, design: Design, revision: int, user, **fields) -> Design:
    """Save `fields` only if the design is still at `revision`; bump the revision.

    The compare-and-set runs in one UPDATE, so two concurrent saves of the same
    revision cannot both win. The save goes into the design's history; an approved design
    becomes "changed since approval" (reviewapp.reviews.history.design_changed).
    """
    before = {name: getattr(design, name) for name in fields}
    updated = Design.objects.filter(pk=design.pk, revision=revision).update(
        **fields, revision=F("revision") + 1, updated_by=user, updated_at=timezone.now()
    )
    if not updated:
        raise StaleDesignError(Design.objects.select_related("updated_by").get(pk=design.pk))
    changes = inputs_diff(before["inputs"], fields["inputs"]) if "inputs" in fields else []
    named = [name for name in ("name", "description") if name in fields and fields[name] != before[name]]
    what = ", ".join([c["label"] for c in changes[:5]] + named) or "no values changed"
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    design_changed(design=design.pk, user=user, kind=Kind.EDITED,
                   summary=f"Saved revision {revision + 1}: {what}{more}.",
                   data={"inputs": [{"path": c["path"], "old": c["old"], "new": c["new"]} for c in changes[:50]],
                         "fields": named})  # fmt: skip
    design.refresh_from_db()
    actions_close_fixed(design=design, user=user)  # a finding fixed by this save closes its action
    return design


@transaction.atomic
def design_update_inputs(*, design: Design, data, revision: int, user) -> Design:
    """Save the requirements and architecture document if it is valid and the design is still at
    `revision`; otherwise change nothing.

    `data` is flat form data or a nested document; the engine normalises it (hidden fields are
    cleared), so what is stored is always a valid, complete document. Raises ValidationError
    naming the fields, or StaleDesignError.
    """
    result = validate_inputs(data, gpu_catalog=gpu_catalog())
    if not result.ok:
        raise validation_error(result)
    return design_update(design=design, revision=revision, user=user, inputs=result.document)


def design_delete(*, design: Design) -> None:
    design.delete()


def teams_for_user(user, *, role: str = Role.MEMBER):
    memberships = Membership.objects.filter(user=user).select_related("team")
    return [m.team for m in memberships if m.has_role(role)]
