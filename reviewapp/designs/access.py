"""Team access, written once. Views fetch designs only through these helpers."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from reviewapp.accounts.models import Membership, Role
from reviewapp.designs.models import Design


def get_design_for_user(request: HttpRequest, pk: int, *, role: str | None = None) -> Design:
    """The design if the user's team holds it (else 404); with `role`, the
    user's membership must have at least that role (else 403)."""
    design = get_object_or_404(Design.objects.for_user(request.user).select_related("team"), pk=pk)
    if role is not None and not membership_of(request.user, design.team_id).has_role(role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in {design.team}.")
    return design


def membership_of(user, team_id: int) -> Membership:
    try:
        return Membership.objects.get(user=user, team_id=team_id)
    except Membership.DoesNotExist:
        raise Http404("No such team.") from None
