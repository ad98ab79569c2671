"""Benchmark pages of a design: runs list, request form, run page (polled), cancel, pin, upload,
known throughput. Every view starts with `get_design_for_user` (outsider 404, role too low 403)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from engine.bench.design_spec import spec_from_facts
from engine.charts import benchmark_figures
from reviewapp.accounts.models import Role
from reviewapp.benchmarks import services
from reviewapp.benchmarks.forms import KnownThroughputForm, RunForm, UploadForm
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import design_shape_key, measurements_in_force, runs_for_design
from engine.bench.generative_spec import is_generative
from reviewapp.benchmarks.specs import (
    GENERATIVE_PRESETS,
    adjustable_fields,
    build_spec,
    cli_command,
    error_field,
    spec_rows,
)
from reviewapp.designs.access import get_design_for_user, membership_of
from reviewapp.designs.selectors import design_assessment


def _derived(design):
    return spec_from_facts(design_assessment(design).facts.tree)


def _can_review(request: HttpRequest, design) -> bool:
    return membership_of(request.user, design.team_id).has_role(Role.REVIEWER)


@require_http_methods(["GET"])
def benchmark_list(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    services.runs_reap()
    in_force = measurements_in_force(design)
    shape = in_force.shape_key if in_force else design_shape_key(design.inputs)
    return render(request, "benchmarks/list.html", {
        "design": design, "runs": runs_for_design(design), "in_force": in_force, "shape_key": shape,
        "can_review": _can_review(request, design),
    })  # fmt: skip


@require_http_methods(["GET", "POST"])
def benchmark_new(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    can_review = _can_review(request, design)
    derived = _derived(design)
    form = RunForm(request.POST if request.method == "POST" else None)  # an empty POST is still a POST
    if is_generative(derived.spec):
        form.fields["preset"].choices = [(k, label) for k, (label, _) in GENERATIVE_PRESETS.items()]
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        if form.adjusted and not can_review:
            raise PermissionDenied("Adjusting the spec needs the reviewer role; a member runs it as derived.")
        if valid:
            spec = build_spec(derived.spec, form.cleaned_data["preset"], form.adjustments())
            try:
                run = services.benchmark_request(design=design, user=request.user, spec=spec,
                                                 shape_key=derived.shape_key)
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    field = error_field(key)
                    for message in errors:
                        form.add_error(field, message if field else f"{key}: {message}")
                status = 400
            except services.BenchmarkRefused as exc:
                messages.error(request, str(exc))
                status = 503 if "broker" in str(exc) else 409
            else:
                messages.success(request, f"Benchmark #{run.pk} queued.")
                return redirect(run)
        else:
            status = 400
    return render(request, "benchmarks/new.html", {
        "design": design, "form": form, "derived": derived, "can_review": can_review,
        "spec_rows": spec_rows(derived.spec, derived.sources),
        "adjustable": [form[name] for name in adjustable_fields(derived.spec)],
    }, status=status)  # fmt: skip


def _run_for_user(request: HttpRequest, pk: int, run_pk: int, *, role: str | None = None):
    design = get_design_for_user(request, pk, role=role)
    return design, get_object_or_404(BenchmarkRun, pk=run_pk, design=design)


def _run_context(request: HttpRequest, design, run: BenchmarkRun) -> dict:
    can_review = _can_review(request, design)
    in_force = measurements_in_force(design)
    return {
        "design": design, "run": run, "can_review": can_review,
        "can_cancel": run.is_active and (can_review or run.requested_by_id == request.user.pk),
        "can_pin": can_review and run.status == BenchmarkRun.Status.SUCCEEDED and run.measurements is not None,
        "stale": run.status == BenchmarkRun.Status.SUCCEEDED and run.shape_key != (
            in_force.shape_key if in_force else design_shape_key(design.inputs)),
        "in_force": in_force is not None and in_force.run is not None and in_force.run.pk == run.pk,
        "figures": [{**f, "json_id": f"figure-{run.pk}-{f['key']}"} for f in benchmark_figures(run.result)]
        if run.result and not run.is_active else [],
        "settings": (run.result or {}).get("settings") or {},
        "provenance": (run.result or {}).get("provenance") or {},
    }  # fmt: skip


@require_http_methods(["GET"])
def benchmark_run(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    """The run page; for htmx, only its status fragment (polled each second while the run is active)."""
    design = get_design_for_user(request, pk)
    services.runs_reap()
    run = get_object_or_404(BenchmarkRun, pk=run_pk, design=design)
    context = _run_context(request, design, run)
    template = "benchmarks/_run.html" if request.htmx else "benchmarks/run.html"
    return render(request, template, context)


@require_POST
def benchmark_cancel(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    design, run = _run_for_user(request, pk, run_pk, role=Role.MEMBER)
    if not (_can_review(request, design) or run.requested_by_id == request.user.pk):
        raise PermissionDenied("Only who requested a run, or a reviewer, can cancel it.")
    if services.benchmark_cancel(run=run, user=request.user):
        messages.success(request, f"Benchmark #{run.pk} cancelled.")
    else:
        messages.error(request, f"Benchmark #{run.pk} had already ended ({run.get_status_display().lower()}).")
    return redirect(run)


@require_POST
def benchmark_pin(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    design, run = _run_for_user(request, pk, run_pk, role=Role.REVIEWER)
    pin = request.POST.get("action", "pin") != "unpin"
    try:
        services.benchmark_pin(run=run, user=request.user, pinned=pin)
    except services.BenchmarkRefused as exc:
        messages.error(request, str(exc))
        return redirect(run)
    done = "pinned: the review uses its numbers" if pin else "unpinned"
    messages.success(request, f"Benchmark #{run.pk} {done}.")
    return redirect(run)


@require_http_methods(["GET", "POST"])
def benchmark_upload(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    derived = _derived(design)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    path_errors: list[tuple[str, str]] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            raw = form.cleaned_data["result"].read()
            try:
                run = services.benchmark_upload(design=design, user=request.user, raw=raw,
                                                expected_spec=derived.spec, shape_key=derived.shape_key)
            except ValidationError as exc:
                path_errors = [(key, message) for key, errors in sorted(exc.message_dict.items())
                               for message in errors]
                form.add_error("result", f"The result was refused ({len(path_errors)} problem"
                                         f"{'s' if len(path_errors) != 1 else ''}); nothing was saved.")
            else:
                messages.success(request, f"Uploaded result stored as benchmark #{run.pk}.")
                return redirect(run)
    return render(request, "benchmarks/upload.html", {
        "design": design, "form": form, "derived": derived, "path_errors": path_errors,
        "command": cli_command(derived.spec), "spec_rows": spec_rows(derived.spec, derived.sources),
    }, status=status)  # fmt: skip


@require_http_methods(["GET", "POST"])
def benchmark_known(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    form = KnownThroughputForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = services.benchmark_enter_known(
                    design=design, user=request.user, shape_key=design_shape_key(design.inputs),
                    per_replica_qps=data["per_replica_qps"], p99_ms=data["p99_ms"], source=data["source"],
                    p99_budget_ms=data["p99_budget_ms"], device=data["device"] or None, dtype=data["dtype"] or None,
                )  # fmt: skip
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                messages.success(request, f"Known throughput stored as benchmark #{run.pk}.")
                return redirect(run)
    return render(request, "benchmarks/known.html", {"design": design, "form": form}, status=status)
