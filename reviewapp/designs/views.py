from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods, require_POST

from reviewapp.accounts.models import Role
from reviewapp.designs import services
from reviewapp.designs.access import get_design_for_user
from reviewapp.checklists.panel import panel_context
from reviewapp.designs.assessment import fact_reference_rows, methodology_chapters
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.document import SCHEMA_DIGEST, DesignInputsForm, field_errors_oob, layout, posted_inputs
from reviewapp.designs.explain import explain_number, related_paths
from reviewapp.designs.export import requirements_filename, requirements_markdown
from reviewapp.designs.forms import DesignCreateForm, DesignEditForm
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment, digest, with_assessment
from reviewapp.portfolio.trends import milestone_points
from reviewapp.reports.context import trend_chart
from reviewapp.reviews.selectors import review_panel, with_review_counts


@require_http_methods(["GET"])
def design_list(request: HttpRequest) -> HttpResponse:
    designs = Design.objects.for_user(request.user).select_related("team")
    teams = services.teams_for_user(request.user)
    return render(request, "designs/list.html", {"designs": designs, "teams": teams})


@require_http_methods(["GET", "POST"])
def design_create(request: HttpRequest) -> HttpResponse:
    teams = services.teams_for_user(request.user)
    if not teams:
        raise PermissionDenied("You belong to no team yet: ask an admin to add you to one.")
    form = DesignCreateForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        design = services.design_create(
            team=form.cleaned_data["team"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            user=request.user,
        )
        messages.success(request, f"Created “{design.name}”.")
        return redirect("designs:detail", pk=design.pk)
    return render(request, "designs/create.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET"])
def design_detail(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, extend=lambda designs: with_review_counts(with_assessment(designs)))
    catalog = gpu_catalog()
    # Lazy: the saved design's form markup usually comes from the cache (_inputs_form.html).
    form = SimpleLazyObject(lambda: DesignInputsForm(design_inputs=design.inputs, revision=design.revision,
                                                     gpu_catalog=catalog))
    return _render_detail(request, design, form, catalog, bound=False)


def _render_detail(request: HttpRequest, design: Design, form: DesignInputsForm, catalog: dict,
                   *, bound: bool = True, status: int = 200) -> HttpResponse:
    """The design page: the forms as `form` holds them (posted values when `bound`), and the
    numbers and findings they imply (one assessment)."""
    membership = design.membership
    assessment = design_assessment(design, document=form.raw_inputs() if bound else None, catalog=catalog,
                                   validated=form.result if bound else None)
    context = {
        "design": design,
        "membership": membership,
        "review": review_panel(request, assessment, saved=not bound),
        "can_delete": membership.has_role(Role.OWNER),
        **_inputs_context(design, form),
        # The unbound form's markup is cached by everything it shows (_inputs_form.html): content,
        # not ids, so a reused id (a test's rollback, a restored backup) never shows old markup.
        "form_cache_key": None if bound else digest(design.pk, design.revision, design.inputs,
                                                    assessment.catalog_key, SCHEMA_DIGEST),
        "numbers_cache_key": assessment.key,
        "numbers": assessment.numbers,
        "explain_base": explain_base(design),
        "in_force": assessment.in_force,
        "checklist_panel": panel_context(request, assessment, membership),
        "trend": design_trend_chart(design),
    }
    return render(request, "designs/detail.html", context, status=status)


def design_trend_chart(design: Design) -> dict | None:
    """The trend over the design's milestones (one query; none before two milestones)."""
    if getattr(design, "milestone_count", 2) < 2:
        return None
    return trend_chart([], milestone_points(design.pk))


def _inputs_context(design: Design, form: DesignInputsForm) -> dict:
    # Lazy: a page whose form markup comes from the cache never lays the form out.
    redraw_url = reverse("designs:inputs_form", args=[design.pk])
    return {"design": design, "form": form, "groups": SimpleLazyObject(lambda: layout(form, redraw_url=redraw_url))}


@require_POST
def design_save_inputs(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    catalog = gpu_catalog()
    form = DesignInputsForm(request.POST, design_inputs=design.inputs, revision=design.revision, gpu_catalog=catalog)
    if not form.is_valid():
        return _render_detail(request, design, form, catalog, status=400)
    try:
        services.design_update_inputs(
            design=design, data=form.cleaned_data["document"], revision=form.cleaned_data["revision"], user=request.user
        )
    except services.StaleDesignError as exc:
        form.add_error(None, str(exc))
        exc.design.membership = design.membership
        return _render_detail(request, exc.design, form, catalog, status=409)
    except ValidationError as exc:  # the catalog changed between the form's check and the save
        form.add_error(None, exc)
        return _render_detail(request, design, form, catalog, status=400)
    messages.success(request, f"Saved requirements and architecture (revision {design.revision}).")
    return redirect(reverse("designs:detail", args=[design.pk]) + "#design-forms")


@require_POST
def design_preview_inputs(request: HttpRequest, pk: int) -> HttpResponse:
    """The numbers and findings the posted (unsaved) values imply, in one response: the numbers
    panel, and the findings panel and every field's errors out of band."""
    design = get_design_for_user(request, pk, role=Role.MEMBER, extend=with_assessment)
    membership = design.membership
    catalog = gpu_catalog()
    form = DesignInputsForm(request.POST, design_inputs=design.inputs, revision=design.revision, gpu_catalog=catalog)
    form.evaluate()
    read_at = form.cleaned_data.get("revision")
    if read_at is not None and read_at != design.revision:
        who = design.updated_by.get_username() if design.updated_by else "Someone"
        form.add_error(None, f"{who} saved this design (revision {design.revision}) after you opened it: "
                             "saving these values will be refused. Reload to see their changes.")
    assessment = design_assessment(design, document=form.raw_inputs(), catalog=catalog, validated=form.result)
    context = {**_inputs_context(design, form), "numbers": assessment.numbers, "in_force": assessment.in_force, "oob": True,
               "explain_base": explain_base(design),
               "field_errors_oob": field_errors_oob(form),
               "checklist_panel": panel_context(request, assessment, membership)}
    return render(request, "designs/_preview.html", context)


@require_POST
def design_redraw_inputs(request: HttpRequest, pk: int) -> HttpResponse:
    """The form redrawn from the posted values: fields appear or disappear as choices change."""
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    form = DesignInputsForm(request.POST, design_inputs=design.inputs, revision=design.revision,
                            gpu_catalog=gpu_catalog())
    form.evaluate()
    return render(request, "designs/_inputs_form.html", _inputs_context(design, form))


@require_http_methods(["GET"])
def design_requirements_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    text = requirements_markdown(design, design_assessment(design).numbers)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{requirements_filename(design)}"'
    return response


@require_http_methods(["GET"])
def fact_reference(request: HttpRequest) -> HttpResponse:
    return render(request, "designs/facts.html", {"rows": fact_reference_rows()})


@require_http_methods(["GET"])
def methodology(request: HttpRequest) -> HttpResponse:
    """How these numbers are computed: the chapters docs/facts.md ends with, from the same source."""
    return render(request, "designs/methodology.html", {"chapters": methodology_chapters()})


def explain_base(design: Design) -> str:
    """The design's `designs:number` URL up to the number's path (the panel's rows add it)."""
    return reverse("designs:number", args=[design.pk, "PATH"]).removesuffix("PATH/")


@require_http_methods(["GET", "POST"])
def design_number(request: HttpRequest, pk: int, path: str) -> HttpResponse:
    """One number explained: the panel loads it on demand (POST with the unsaved form values, so it
    reads what the panel shows); GET is its own page, for links and no JavaScript. Saves nothing."""
    design = get_design_for_user(request, pk)
    catalog = gpu_catalog()
    document = posted_inputs(request.POST, design=design, catalog=catalog)
    facts = design_assessment(design, document=document, catalog=catalog).facts
    if path not in facts.meta:
        raise Http404("No such number.")
    context = {"design": design, "explanations": [explain_number(facts, p) for p in related_paths(facts, path)],
               "unsaved": document is not None}
    template = "designs/_number_explain.html" if request.htmx else "designs/number.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def design_edit(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    initial = {"name": design.name, "description": design.description, "revision": design.revision}
    form = DesignEditForm(request.POST or None, initial=initial, team=design.team, exclude_pk=design.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.design_update(
                design=design,
                revision=form.cleaned_data["revision"],
                user=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except services.StaleDesignError as exc:
            form.add_error(None, str(exc))
            return render(request, "designs/edit.html", {"form": form, "design": design}, status=409)
        messages.success(request, "Saved.")
        return redirect("designs:detail", pk=design.pk)
    status = 400 if form.errors else 200
    return render(request, "designs/edit.html", {"form": form, "design": design}, status=status)


@require_http_methods(["GET", "POST"])
def design_delete(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.OWNER)
    if request.method == "POST":
        name = design.name
        services.design_delete(design=design)
        messages.success(request, f"Deleted “{name}”.")
        return redirect("designs:list")
    return render(request, "designs/delete.html", {"design": design})
