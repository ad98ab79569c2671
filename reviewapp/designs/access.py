"""Team access, written once. Views fetch designs only through these helpers."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from reviewapp.accounts.models import Membership, Role
from reviewapp.designs.models import Design


def get_design_for_user(request: HttpRequest, pk: int, *, role: str | None = None,
                        extend: Callable[[QuerySet], QuerySet] | None = None) -> Design:
    """The design if the user's team holds it (else 404); with `role`, the
    user's membership must have at least that role (else 403).

    The user's membership comes back with it, as `design.membership`, from the same query (the
    join that enforces access also reads the role); `extend` joins a page's own reads to that
    query (select_related, subqueries: nothing that multiplies rows)."""
    designs = Design.objects.for_user(request.user).select_related("team").annotate(user_role=F("team__memberships__role"))
    design = get_object_or_404(extend(designs) if extend else designs, pk=pk)
    design.membership = Membership(user=request.user, team=design.team, role=design.user_role)
    if role is not None and not design.membership.has_role(role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {design.team}.")
    return design


def membership_of(user, team_id: int) -> Membership:
    """The user's membership of a team (404 if none). Design views read `design.membership`."""
    try:
        return Membership.objects.get(user=user, team_id=team_id)
    except Membership.DoesNotExist:
        raise Http404("No such team.") from None
