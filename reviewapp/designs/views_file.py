"""Design files (engine.designfile): export a design, import one as a new design, and serve the
file's JSON Schema. The same format `python -m engine assess` gates on in CI (docs/design-file.md)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from engine import designfile
from reviewapp.designs import services
from reviewapp.designs.access import get_design_for_user
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.forms_file import DesignFileImportForm
from reviewapp.designs.selectors import design_assessment

CONTENT_TYPES = {"yaml": "application/yaml; charset=utf-8", "json": "application/json; charset=utf-8"}


@require_http_methods(["GET"])
def design_file_schema(request: HttpRequest) -> HttpResponse:
    return JsonResponse(designfile.json_schema(), content_type="application/schema+json",
                        json_dumps_params={"indent": 2, "ensure_ascii": False})


@require_http_methods(["GET"])
def design_file_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The design as a design file (YAML, or JSON with ?format=json), with the measurements its
    assessment uses, so `python -m engine assess` on the file says what the page says."""
    design = get_design_for_user(request, pk)
    fmt = request.GET.get("format", "yaml")
    if fmt not in CONTENT_TYPES:
        return HttpResponseBadRequest(f"format: must be yaml or json, not {fmt[:20]!r}.", content_type="text/plain")
    measurements = design_assessment(design).measurements
    text = designfile.dumps(design.inputs, name=design.name, description=design.description,
                            measurements=measurements, fmt=fmt)
    response = HttpResponse(text, content_type=CONTENT_TYPES[fmt])
    filename = f"{slugify(design.name) or 'design'}.design.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def design_file_import(request: HttpRequest) -> HttpResponse:
    """A new design in one of the user's teams, from an uploaded design file. A file with any
    problem creates nothing and lists every problem by its path in the file."""
    teams = services.teams_for_user(request.user)
    if not teams:
        raise PermissionDenied("You belong to no team yet: ask an admin to add you to one.")
    if request.method != "POST":
        return render(request, "designs/import_file.html", {"form": DesignFileImportForm(teams=teams)})
    form = DesignFileImportForm(request.POST, request.FILES, teams=teams)
    path_errors: list[tuple[str, str]] = []
    if form.is_valid():
        try:
            loaded = designfile.load(form.cleaned_data["file"].read(), gpu_catalog=gpu_catalog())
        except designfile.DesignFileError as exc:
            path_errors = exc.errors
            form.add_error("file", f"The file was refused ({len(path_errors)} problem"
                                   f"{'s' if len(path_errors) != 1 else ''}); nothing was created.")
        else:
            try:
                design = services.design_import(team=form.cleaned_data["team"], name=form.cleaned_data["name"],
                                                loaded=loaded, user=request.user)
            except services.DesignNameTakenError as exc:
                form.add_error("name", str(exc) if form.cleaned_data["name"] else
                               f"{exc.team} already has a design named “{exc.name}” (the file's name): "
                               "enter another name.")
            else:
                note = (" The file's benchmark measurements were not imported: upload the result on the "
                        "Benchmarks page." if loaded.measurements else "")
                messages.success(request, f"Imported “{design.name}” from {form.cleaned_data['file'].name}.{note}")
                return redirect("designs:detail", pk=design.pk)
    return render(request, "designs/import_file.html", {"form": form, "path_errors": path_errors}, status=400)
