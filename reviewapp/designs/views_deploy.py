"""The design's Kubernetes manifests (engine.deploy): a page that shows them, or what is missing,
and the YAML as a download. Both read the design's one assessment (its facts tree) and save nothing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from engine.deploy import DeployResult, generate, yaml_filename
from reviewapp.designs.access import get_design_for_user
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment


def _manifests(design: Design) -> DeployResult:
    assessment = design_assessment(design)
    return generate(dict(assessment.document), assessment.facts.tree, name=design.name)


@require_http_methods(["GET"])
def design_kubernetes(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    result = _manifests(design)
    return render(request, "designs/kubernetes.html",
                  {"design": design, "result": result, "filename": yaml_filename(design.name)})


@require_http_methods(["GET"])
def design_kubernetes_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The manifests as a file; 409 (the design exists, its state conflicts with what was asked)
    with the reason when it cannot run as designed, or with the list of what is missing while it
    is incomplete."""
    design = get_design_for_user(request, pk)
    result = _manifests(design)
    if result.cannot_run:
        return HttpResponse(result.cannot_run, status=409, content_type="text/plain; charset=utf-8")
    if not result.ok:
        text = "The design is incomplete: the Kubernetes manifests need\n" + "".join(f"- {m}\n" for m in result.missing)
        return HttpResponse(text, status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(result.yaml, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{yaml_filename(design.name)}"'
    return response
