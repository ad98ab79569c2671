"""The review page, the findings panel's htmx endpoints and one finding's details.

Every view fetches the design through `get_design_for_user` first (team access in the query:
outsiders get 404; a role below the one needed gets 403) and assesses it once
(`design_assessment`), with the unsaved form values a request carries (read by the same form as
save and preview). A write re-renders the panel for htmx and redirects without JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reviewapp.accounts.models import Role
from reviewapp.checklists import services
from reviewapp.checklists.assessment import compiled_version
from reviewapp.checklists.forms import AcceptanceForm, AnswerForm, RepinForm
from reviewapp.checklists.panel import finding_context, panel_context
from reviewapp.designs.access import get_design_for_user
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.document import posted_inputs
from reviewapp.designs.selectors import design_assessment, design_review


def _assess(request: HttpRequest, design):
    catalog = gpu_catalog()
    return design_assessment(design, document=posted_inputs(request.POST, design=design, catalog=catalog), catalog=catalog)


def _panel(request: HttpRequest, design, *, notice: str = "", error: bool = False) -> dict:
    context = panel_context(request, _assess(request, design), design.membership)
    context.update(notice=notice, notice_error=error)
    return context


@require_http_methods(["GET"])
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    return render(request, "checklists/review.html", {"design": design, "checklist_panel": _panel(request, design)})


@require_http_methods(["GET", "POST"])
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone: GET for filters, POST with the unsaved form values. Saves nothing."""
    design = get_design_for_user(request, pk)
    return _render_panel(request, design)


@require_http_methods(["GET", "POST"])
def finding(request: HttpRequest, pk: int, item_key: str) -> HttpResponse:
    """One finding in full: the panel loads it on demand (POST with the unsaved form values);
    GET is its own page, for links and no JavaScript. Saves nothing."""
    design = get_design_for_user(request, pk)
    context = finding_context(request, _assess(request, design), design.membership, item_key)
    if request.htmx:
        return render(request, "checklists/_finding_detail.html", context)
    return render(request, "checklists/finding.html", {**context, "standalone": True})


def _render_panel(request: HttpRequest, design, *, notice: str = "", error: bool = False) -> HttpResponse:
    # htmx swaps only 2xx answers, so a refused answer comes back as 200 with the reason shown.
    return render(request, "checklists/_panel.html", {"checklist_panel": _panel(request, design, notice=notice, error=error)})


def _done(request: HttpRequest, design, message: str = "", *, error: bool = False, item_key: str = "") -> HttpResponse:
    if request.htmx:
        return _render_panel(request, design, notice=message, error=error)
    if request.POST.get("back") == "finding" and item_key:
        # Posted from the finding's own page: back there, where the message and the new outcome show.
        (messages.error if error else messages.success)(request, message)
        return redirect("checklists:finding", pk=design.pk, item_key=item_key)
    if error:
        context = _panel(request, design, notice=message, error=True)
        return render(request, "checklists/review.html", {"design": design, "checklist_panel": context}, status=400)
    messages.success(request, message)
    return redirect("checklists:review", pk=design.pk)


def _item_or_404(design, item_key: str):
    """The item as the design is scored now (its pinned version, or the one it would be pinned
    to), read without pinning: a refused answer must write nothing."""
    review = design_review(design)
    version = review.version if review else services.newest_published(services.default_checklist())
    if version is None:
        raise Http404("No checklist is published yet.")
    for compiled_item in compiled_version(version).items:
        if compiled_item.item.key == item_key:
            return compiled_item.item
    raise Http404("No such item in this checklist version.")


def _review_or_404(request: HttpRequest, design):
    """The design's review, pinned now if it was not yet (a write: only valid POSTs call this)."""
    review = services.review_for_design(design=design, user=request.user)
    if review is None:
        raise Http404("No checklist is published yet.")
    return review
@require_POST
def answer(request: HttpRequest, pk: int, item_key: str) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    item = _item_or_404(design, item_key)
    form = AnswerForm(request.POST, item=item)
    if not form.is_valid():
        errors = "; ".join(f"{e}" for errs in form.errors.values() for e in errs)
        return _done(request, design, f"{item.title}: {errors}", error=True, item_key=item_key)
    review = _review_or_404(request, design)
    data = form.cleaned_data
    if data["status"] == AnswerForm.CLEAR:
        services.answer_clear(review=review, item_key=item_key, user=request.user)
        return _done(request, design, f"Cleared the answer to “{item.title}”.", item_key=item_key)
    status = data["status"] if not item.is_multiple_choice or data["status"] else ""
    services.answer_set(
        review=review, item_key=item_key, user=request.user, status=status,
        choices=data["choices"] if item.is_multiple_choice and not status else [], reason=data["reason"],
    )  # fmt: skip
    return _done(request, design, f"Saved the answer to “{item.title}”.", item_key=item_key)


@require_POST
def accept(request: HttpRequest, pk: int, item_key: str) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.REVIEWER)
    item = _item_or_404(design, item_key)
    if request.POST.get("revoke"):
        services.risk_revoke(review=_review_or_404(request, design), item_key=item_key, user=request.user)
        return _done(request, design, f"Revoked the accepted risk of “{item.title}”.", item_key=item_key)
    form = AcceptanceForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{e}" for errs in form.errors.values() for e in errs)
        return _done(request, design, f"{item.title}: {errors}", error=True, item_key=item_key)
    review = _review_or_404(request, design)
    services.risk_accept(review=review, item_key=item_key, user=request.user, **form.cleaned_data)
    return _done(request, design, f"Accepted the risk of “{item.title}”.", item_key=item_key)


@require_POST
def repin(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.REVIEWER)
    review = _review_or_404(request, design)
    form = RepinForm(request.POST)
    if not form.is_valid():
        return _done(request, design, "Pick a published version.", error=True)
    version = form.cleaned_data["version"] or services.newest_published(review.version.checklist)
    if version is None:
        raise PermissionDenied("No published version to pin.")
    services.review_repin(review=review, version=version, user=request.user)
    return _done(request, design, f"This design is now assessed with {version}.")
