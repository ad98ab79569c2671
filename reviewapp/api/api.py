"""The JSON API under /api/v1/ (django-ninja; OpenAPI 3 at /api/v1/openapi.json, docs at /api/v1/docs).

Endpoints are short: they fetch through the same access helper as the pages
(`get_design_for_user`: another team's design is a 404, a role too low a 403), validate with the
same forms and engine checks, and write only through the same services. Errors are problem
details (reviewapp.api.problems). docs/api.md is the user's guide.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Header, NinjaAPI, Query, Status

from engine import deploy, designfile
from engine.bench.design_spec import spec_from_facts
from engine.checklist import ChecklistError
from reviewapp.accounts.models import Membership, Role
from reviewapp.api import schemas as s
from reviewapp.api.auth import session_auth, token_auth
from reviewapp.api.problems import CONTENT_TYPE, Problem, field_errors, form_errors, install, problem_response
from reviewapp.api.tokens import api_token_user
from reviewapp.benchmarks import services as benchmarks
from reviewapp.benchmarks.forms import RunForm
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import runs_for_design
from reviewapp.benchmarks.specs import build_spec
from reviewapp.checklists.convert import version_checklist, version_export
from reviewapp.checklists.models import ChecklistVersion
from reviewapp.designs import services as designs
from reviewapp.designs.access import get_design_for_user, membership_of
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.document import validate_inputs
from reviewapp.designs.forms import DesignCreateForm
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import DesignAssessment, design_assessment
from reviewapp.designs.snapshot import numbers_document
from reviewapp.reports.models import Report
from reviewapp.reviews.models import Milestone


def docs_access(view):
    """The docs page and the OpenAPI document: for a signed-in browser or a valid token."""

    @login_not_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            user = api_token_user(header[7:].strip())
            if user is not None:
                request.user = user
                return view(request, *args, **kwargs)
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return problem_response(401, "Sign in or send `Authorization: Bearer <token>`.",
                                    headers={"WWW-Authenticate": "Bearer"})
        return redirect_to_login(request.get_full_path())

    return wrapped


class ReviewAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Error answers are documented as what they are: application/problem+json. If-Match is
        required where the operation answers 428 without it: the view declares it optional only so
        that a missing one gets that problem (with the ETag to send) instead of a validation error."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for code, answer in operation.get("responses", {}).items():
                    if str(code)[0] in "45" and "application/json" in answer.get("content", {}):
                        answer["content"] = {CONTENT_TYPE: answer["content"]["application/json"]}
                if "428" in operation.get("responses", {}) or 428 in operation.get("responses", {}):
                    for parameter in operation.get("parameters", []):
                        if parameter["in"] == "header" and parameter["name"] == "If-Match":
                            parameter.update(required=True, schema={"title": "If-Match", "type": "string"})
        return schema


api = ReviewAPI(
    title="AI design review API",
    version="1",
    description="Designs, assessments, checklists, benchmark runs, milestones and reports. "
    "Authenticate with a personal token (`Authorization: Bearer …`, made at /api/tokens/) or a "
    "signed-in session (with the CSRF token for writes). Errors are RFC 9457 problem details. "
    "Guide: docs/api.md.",
    urls_namespace="api",
    auth=[token_auth, session_auth],
    docs_decorator=docs_access,
)
install(api)


def api_urls():
    """The API's URL patterns for reviewapp/urls.py. Ninja answers 401 itself (a problem, not a
    login redirect), so LoginRequiredMiddleware must let its views through."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if getattr(pattern.callback, "login_required", True):
            pattern.callback.login_required = False
    return patterns, app_name, namespace


def errors(*codes: int) -> dict:
    return {code: s.ProblemOut for code in codes}


READ = errors(400, 401, 404)  # 400: a path parameter that is not a number


# --- teams and designs -----------------------------------------------------------------------------

@api.get("/teams", response={200: list[s.TeamOut], **errors(401)}, tags=["designs"])
def team_list(request: HttpRequest):
    """Your teams and your role in each."""
    return [{"id": m.team.pk, "name": m.team.name, "slug": m.team.slug, "role": m.role}
            for m in Membership.objects.filter(user=request.user).select_related("team")]


def etag(design: Design) -> str:
    return f'"{design.revision}"'


def _design_out(design: Design, response: HttpResponse | None = None) -> dict:
    if response is not None:
        response["ETag"] = etag(design)
    role = getattr(getattr(design, "membership", None), "role", None) or getattr(design, "user_role", None)
    return {
        "id": design.pk, "name": design.name, "description": design.description, "status": design.status,
        "revision": design.revision, "inputs": design.inputs, "created_at": design.created_at,
        "updated_at": design.updated_at, "etag": etag(design),
        "team": {"id": design.team.pk, "name": design.team.name, "slug": design.team.slug, "role": role},
    }  # fmt: skip


@api.get("/designs", response={200: list[s.DesignSummaryOut], **errors(401)}, tags=["designs"])
def design_list(request: HttpRequest):
    """The designs of your teams."""
    rows = Design.objects.for_user(request.user).select_related("team")
    return [_design_out(d) for d in rows.annotate(user_role=F("team__memberships__role"))]


def _validated_inputs(payload: s.DesignInputsIn | dict, *, catalog: dict, prefix: str = "") -> dict:
    """The normalised design document, or a 400 naming every unknown or invalid field (the same
    engine check as the forms)."""
    data = payload if isinstance(payload, dict) else payload.model_dump()
    result = validate_inputs(data, gpu_catalog=catalog)
    problems = [{"field": prefix + key, "message": "Unknown field (not part of a design)."}
                for key in result.unknown_keys]
    problems += [{"field": prefix + key, "message": m} for key, messages in result.errors.items() for m in messages]
    if problems:
        raise Problem(400, "The design inputs are not valid: " + ", ".join(p["field"] for p in problems[:5]) + ".",
                      errors=problems)
    return result.document


@api.post("/designs", response={201: s.DesignOut, **errors(400, 401, 403)}, tags=["designs"])
def design_create(request: HttpRequest, response: HttpResponse, payload: s.DesignCreateIn):
    """A new design in one of your teams (any member may create one), optionally with its inputs."""
    teams = designs.teams_for_user(request.user)
    if not teams:
        raise PermissionDenied("You belong to no team yet: ask an admin to add you to one.")
    form = DesignCreateForm({"team": payload.team, "name": payload.name, "description": payload.description},
                            teams=teams)
    inputs = (_validated_inputs(payload.inputs, catalog=gpu_catalog(), prefix="inputs.")
              if payload.inputs is not None else None)
    if not form.is_valid():
        raise Problem(400, "The design is not valid.", errors=form_errors(form))
    design = designs.design_create(team=form.cleaned_data["team"], name=form.cleaned_data["name"],
                                   description=form.cleaned_data["description"], user=request.user, inputs=inputs)
    response["Location"] = reverse("api:design_get", args=[design.pk])
    design.membership = membership_of(request.user, design.team_id)
    return Status(201, _design_out(design, response))


# Before /designs/{pk}: Django takes the first pattern that matches the path.
@api.post("/designs/import", response={201: s.DesignOut, **errors(400, 401, 403)}, tags=["designs"])
def design_file_import(request: HttpRequest, response: HttpResponse, payload: s.DesignFileImportIn):
    """A new design from a design file; a file with any problem creates nothing and each problem is
    named by its path in the file (`file.inputs.requirements.latency_p99_ms`). Benchmark
    measurements in the file are not imported (upload the result on the Benchmarks page)."""
    teams = designs.teams_for_user(request.user)
    if not teams:
        raise PermissionDenied("You belong to no team yet: ask an admin to add you to one.")
    team = next((t for t in teams if t.pk == payload.team), None)
    if team is None:
        raise Problem(400, "Not one of your teams.", errors=[{"field": "team", "message": "Not one of your teams."}])
    try:
        loaded = designfile.load(payload.file, gpu_catalog=gpu_catalog())
    except designfile.DesignFileError as exc:
        raise Problem(400, f"The design file was refused ({len(exc.errors)} problems); nothing was created.",
                      errors=[{"field": f"file.{path}", "message": message} for path, message in exc.errors]) from None
    form = DesignCreateForm({"team": team.pk, "name": payload.name.strip() or loaded.name,
                             "description": loaded.description}, teams=teams)
    if not form.is_valid():
        raise Problem(400, "The design is not valid.", errors=form_errors(form))
    try:
        design = designs.design_create(team=team, name=form.cleaned_data["name"], user=request.user,
                                       description=form.cleaned_data["description"], inputs=loaded.inputs)
    except IntegrityError:  # the same name, created by someone else since the form's check
        taken = f"{team} already has a design named “{form.cleaned_data['name']}”."
        raise Problem(400, "The design is not valid.", errors=[{"field": "name", "message": taken}]) from None
    response["Location"] = reverse("api:design_get", args=[design.pk])
    design.membership = membership_of(request.user, design.team_id)
    return Status(201, _design_out(design, response))


@api.get("/designs/{pk}", response={200: s.DesignOut, **READ}, tags=["designs"])
def design_get(request: HttpRequest, response: HttpResponse, pk: int):
    """One design with its inputs; the ETag header (and `etag`) is its revision."""
    return _design_out(get_design_for_user(request, pk), response)


IF_MATCH = re.compile(r'^\s*"(\d{1,10})"\s*$')


def _revision_from(if_match: str | None, design: Design) -> int:
    """The revision the client read, from If-Match: missing is 428, anything but the current
    ETag is 412 (RFC 9110: a strong comparison; `*` and weak tags are not accepted here, so an
    update always says which revision it is based on)."""
    if if_match is None or not if_match.strip():
        raise Problem(428, f"Send If-Match: {etag(design)} (the ETag you read) so that nobody's save is "
                      "silently overwritten.", errors=[{"field": "header.If-Match", "message": "Required."}])
    match = IF_MATCH.match(if_match)
    if match is None or int(match.group(1)) != design.revision:
        who = design.updated_by.get_username() if design.updated_by_id and design.updated_by else "someone"
        raise Problem(412, f"The design is at revision {design.revision} (ETag {etag(design)}), saved by {who}; "
                      "your If-Match does not match it. Nothing was saved: read it again, then apply your changes.",
                      errors=[{"field": "header.If-Match",
                               "message": f"Does not match the current ETag {etag(design)}."}],
                      headers={"ETag": etag(design)})
    return int(match.group(1))


@api.put("/designs/{pk}/inputs", response={200: s.DesignOut, **errors(400, 401, 403, 404, 412, 428)},
         tags=["designs"])
def design_inputs_update(request: HttpRequest, response: HttpResponse, pk: int, payload: s.DesignInputsIn,
                         if_match: str | None = Header(None, alias="If-Match")):
    """Replace the requirements and architecture (a field left out is blank). Needs If-Match with
    the ETag you read: 428 without it, 412 when the design changed since."""
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    revision = _revision_from(if_match, design)
    document = _validated_inputs(payload, catalog=gpu_catalog())
    try:
        saved = designs.design_update_inputs(design=design, data=document, revision=revision, user=request.user)
    except designs.StaleDesignError as exc:  # saved by someone else between the check and the write
        raise Problem(412, str(exc), headers={"ETag": etag(exc.design)}) from None
    except ValidationError as exc:  # the GPU catalog changed between the check and the save
        raise Problem(400, "The design inputs are not valid.", errors=field_errors(exc)) from None
    saved.membership = design.membership
    return _design_out(saved, response)


# --- design files and Kubernetes manifests --------------------------------------------------------

@api.get("/designs/{pk}/designfile", response={200: dict[str, Any], **READ}, tags=["designs"])
def design_file_get(request: HttpRequest, pk: int):
    """The design as a design file (JSON), with the measurements its assessment uses, so that
    `python -m engine assess` on the file says what the page says."""
    design = get_design_for_user(request, pk)
    measurements = design_assessment(design).measurements
    return designfile.dump(design.inputs, name=design.name, description=design.description, measurements=measurements)


@api.get("/designs/{pk}/kubernetes", response={200: s.KubernetesOut, **READ}, tags=["designs"])
def design_kubernetes(request: HttpRequest, pk: int):
    """Kubernetes manifests for the design's serving tier (as the design page's Kubernetes tab),
    or what is missing for them (`ok` false, `missing` lists it), or why the design cannot run as
    designed (`ok` false, `cannot_run` says it; no manifests for what cannot run)."""
    design = get_design_for_user(request, pk)
    assessment = design_assessment(design)
    result = deploy.generate(dict(assessment.document), assessment.facts.tree, name=design.name)
    return {"ok": result.ok, "missing": list(result.missing), "cannot_run": result.cannot_run,
            "documents": result.documents, "yaml": result.yaml, "filename": deploy.yaml_filename(design.name)}


# --- assessment ----------------------------------------------------------------------------------

def _assessment_out(assessment: DesignAssessment, *, posted: bool) -> dict:
    design, evaluation, version = assessment.design, assessment.evaluation, assessment.version
    plain = evaluation.as_dict() if evaluation is not None else None
    return {
        "design_id": design.pk, "revision": design.revision, "assessed": "posted" if posted else "saved",
        "checklist": {"key": version.checklist.key, "name": version.checklist.name, "version": version.number,
                      "version_id": version.pk, "pinned": assessment.pinned} if version is not None else None,
        "score": plain["score"] if plain else None,
        "verdict": plain["verdict"] if plain else None,
        "verdict_reasons": plain["verdict_reasons"] if plain else [],
        "counts": plain["counts"] if plain else {},
        "findings": plain["findings"] if plain else [],
        "numbers": numbers_document(assessment.numbers),
        "facts": assessment.facts.tree,
        "measured": assessment.measurements is not None,
    }  # fmt: skip


@api.get("/designs/{pk}/assessment", response={200: s.AssessmentOut, **READ}, tags=["assessment"])
def design_assessment_get(request: HttpRequest, pk: int):
    """The saved design's numbers, findings and score (what its page shows)."""
    design = get_design_for_user(request, pk)
    return _assessment_out(design_assessment(design), posted=False)


@api.post("/designs/{pk}/assess", response={200: s.AssessmentOut, **errors(400, 401, 403, 404)},
          tags=["assessment"])
def design_assess(request: HttpRequest, pk: int, payload: s.DesignInputsIn):
    """The numbers, findings and score these inputs would get, without saving anything (the
    design's checklist, answers and measurements apply as to the saved design)."""
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    catalog = gpu_catalog()
    document = _validated_inputs(payload, catalog=catalog)
    return _assessment_out(design_assessment(design, document=document, catalog=catalog), posted=True)


# --- checklists ----------------------------------------------------------------------------------

def _versions_for(user):
    """Published and retired versions for everyone; drafts only for staff (who edit them)."""
    versions = ChecklistVersion.objects.select_related("checklist").order_by("checklist__key", "-number")
    return versions if user.is_staff else versions.exclude(status=ChecklistVersion.Status.DRAFT)


@api.get("/checklists", response={200: list[s.ChecklistVersionOut], **errors(401)}, tags=["checklists"])
def checklist_list(request: HttpRequest):
    """Checklist versions (drafts only for staff)."""
    return [{"id": v.pk, "checklist_key": v.checklist.key, "checklist_name": v.checklist.name, "number": v.number,
             "status": v.status, "is_default": v.checklist.is_default, "published_at": v.published_at,
             "notes": v.notes} for v in _versions_for(request.user)]  # fmt: skip


@api.get("/checklists/{version_pk}/export", response={200: dict[str, Any], **errors(400, 401, 404, 422)},
         tags=["checklists"])
def checklist_export(request: HttpRequest, version_pk: int,
                     fmt: Literal["ours", "aws-lens"] = Query("ours", alias="format")):
    """One version as a file: our JSON format (`ours`) or an AWS Well-Architected custom lens."""
    version = get_object_or_404(_versions_for(request.user), pk=version_pk)
    try:
        if fmt == "aws-lens":
            from engine.checklist.lens import checklist_to_lens

            return checklist_to_lens(version_checklist(version))
        return version_export(version)
    except ChecklistError as exc:
        raise Problem(422, "This version cannot be exported until its problems are fixed.",
                      errors=[{"field": p.path, "message": p.message} for p in exc.problems]) from None


# --- benchmark runs ------------------------------------------------------------------------------

def _run_out(run: BenchmarkRun) -> dict:
    return {
        "id": run.pk, "design_id": run.design_id, "design_revision": run.design_revision, "source": run.source,
        "status": run.status, "progress": run.progress, "phase": run.phase, "reason": run.reason, "device": run.device,
        "shape_key": run.shape_key, "spec": run.spec, "measurements": run.measurements, "pinned": run.pinned,
        "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
    }  # fmt: skip


@api.get("/designs/{pk}/benchmarks", response={200: list[s.BenchmarkRunOut], **READ}, tags=["benchmarks"])
def benchmark_list(request: HttpRequest, pk: int):
    design = get_design_for_user(request, pk)
    benchmarks.runs_reap()  # as the runs page: no run stays "running" after its worker is gone
    return [_run_out(run) for run in runs_for_design(design)]


@api.post("/designs/{pk}/benchmarks", response={201: s.BenchmarkRunOut, **errors(400, 401, 403, 404, 409, 503)},
          tags=["benchmarks"])
def benchmark_request(request: HttpRequest, response: HttpResponse, pk: int, payload: s.BenchmarkRequestIn):
    """Queue a benchmark of the design's derived spec (adjustments need the reviewer role). 409:
    the team's cap on active runs is reached; 503: the job queue cannot be reached. Nothing is
    saved when refused."""
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    data = {k: v for k, v in payload.model_dump().items() if v is not None}
    form = RunForm(data)
    valid = form.is_valid()
    if form.adjusted and not design.membership.has_role(Role.REVIEWER):
        raise PermissionDenied("Adjusting the spec needs the reviewer role; a member runs it as derived.")
    if not valid:
        raise Problem(400, "The benchmark request is not valid.", errors=form_errors(form))
    derived = spec_from_facts(design_assessment(design).facts.tree)
    spec = build_spec(derived.spec, form.cleaned_data["preset"], form.adjustments())
    try:
        run = benchmarks.benchmark_request(design=design, user=request.user, spec=spec, shape_key=derived.shape_key)
    except ValidationError as exc:
        raise Problem(400, "The benchmark spec is not valid.", errors=field_errors(exc)) from None
    except benchmarks.BenchmarkRefused as exc:
        raise Problem(503 if "broker" in str(exc) else 409, str(exc)) from None
    response["Location"] = reverse("api:benchmark_get", args=[design.pk, run.pk])
    return Status(201, _run_out(run))


def _run_for(request: HttpRequest, pk: int, run_pk: int) -> BenchmarkRun:
    design = get_design_for_user(request, pk)
    benchmarks.runs_reap()
    return get_object_or_404(BenchmarkRun.objects.select_related("requested_by"), pk=run_pk, design=design)


@api.get("/designs/{pk}/benchmarks/{run_pk}", response={200: s.BenchmarkRunOut, **READ},
         tags=["benchmarks"])
def benchmark_get(request: HttpRequest, pk: int, run_pk: int):
    """A run's status: poll it while `status` is queued or running."""
    return _run_out(_run_for(request, pk, run_pk))


@api.get("/designs/{pk}/benchmarks/{run_pk}/result", response={200: s.BenchmarkResultOut, **errors(400, 401, 404, 409)},
         tags=["benchmarks"])
def benchmark_result(request: HttpRequest, pk: int, run_pk: int):
    """The full result of a succeeded run (409 while it runs, or when it ended without one)."""
    run = _run_for(request, pk, run_pk)
    if run.status != BenchmarkRun.Status.SUCCEEDED or not run.result:
        raise Problem(409, f"Run #{run.pk} has no result: it is {run.get_status_display().lower()}"
                      + (f" ({run.reason})" if run.reason else "") + ".")
    return {"id": run.pk, "status": run.status, "measurements": run.measurements, "result": run.result}


# --- milestones and reports ----------------------------------------------------------------------

def _milestone_out(m: Milestone, *, snapshot: bool = False) -> dict:
    out = {"number": m.number, "name": m.name, "kind": m.kind, "design_revision": m.design_revision,
           "content_hash": m.content_hash, "created_at": m.created_at,
           "created_by": m.created_by.get_username() if m.created_by else None}
    if snapshot:
        out["snapshot"] = m.snapshot
    return out


@api.get("/designs/{pk}/milestones", response={200: list[s.MilestoneOut], **READ}, tags=["reviews"])
def milestone_list(request: HttpRequest, pk: int):
    design = get_design_for_user(request, pk)
    rows = Milestone.objects.filter(design=design).select_related("created_by").defer("snapshot")
    return [_milestone_out(m) for m in rows]


@api.get("/designs/{pk}/milestones/{number}", response={200: s.MilestoneDetailOut, **READ}, tags=["reviews"])
def milestone_get(request: HttpRequest, pk: int, number: int):
    """A milestone with its frozen snapshot (the assessment as it was)."""
    design = get_design_for_user(request, pk)
    milestone = get_object_or_404(Milestone.objects.select_related("created_by"), design=design, number=number)
    return _milestone_out(milestone, snapshot=True)


def _report_out(report: Report) -> dict:
    ready = report.status == Report.Status.READY
    return {"id": report.pk, "milestone": report.milestone.number if report.milestone_id else None,
            "status": report.status, "reason": report.reason, "page_count": report.page_count,
            "pdf_size_bytes": report.pdf_size_bytes, "created_at": report.created_at,
            "finished_at": report.finished_at,
            "pdf_url": reverse("reports:pdf", args=[report.design_id, report.pk]) if ready else None}


def _reports(design: Design):
    return Report.objects.filter(design=design).select_related("milestone").defer("pdf", "snapshot",
                                                                                   "milestone__snapshot")


@api.get("/designs/{pk}/reports", response={200: list[s.ReportOut], **READ}, tags=["reports"])
def report_list(request: HttpRequest, pk: int):
    """The design's PDF reports and their status (newest first)."""
    return [_report_out(r) for r in _reports(get_design_for_user(request, pk))]


@api.get("/designs/{pk}/reports/{report_pk}", response={200: s.ReportOut, **READ}, tags=["reports"])
def report_get(request: HttpRequest, pk: int, report_pk: int):
    return _report_out(get_object_or_404(_reports(get_design_for_user(request, pk)), pk=report_pk))
