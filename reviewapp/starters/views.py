"""Start a design from a template: creating one is importing its design file into a team."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from engine import designfile
from reviewapp.designs import services
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.forms import DesignCreateForm
from reviewapp.starters.menu import starter_menu, starter_or_404


@require_http_methods(["GET"])
def starter_list(request: HttpRequest) -> HttpResponse:
    teams = services.teams_for_user(request.user)
    return render(request, "starters/list.html", {"starters": starter_menu(), "teams": teams})


@require_http_methods(["GET", "POST"])
def starter_use(request: HttpRequest, template_key: str) -> HttpResponse:
    """The template's explanation and a form (team, name, description) that creates the design."""
    starter = starter_or_404(template_key)
    teams = services.teams_for_user(request.user)
    if not teams:
        raise PermissionDenied("You belong to no team yet: ask an admin to add you to one.")
    form = DesignCreateForm(request.POST or None, teams=teams,
                            initial={"name": starter.name, "description": starter.description})
    if request.method == "POST" and form.is_valid():
        try:
            loaded = designfile.load(starter.text, gpu_catalog=gpu_catalog())
        except designfile.DesignFileError as exc:  # e.g. the staff catalog dropped the template's GPU
            form.add_error(None, "This template no longer loads, so nothing was created: "
                                 + "; ".join(f"{where}: {message}" for where, message in exc.errors[:5]))
        else:
            try:
                design = services.design_import(team=form.cleaned_data["team"], name=form.cleaned_data["name"],
                                                description=form.cleaned_data["description"], loaded=loaded,
                                                user=request.user)
            except services.DesignNameTakenError as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, f"Created “{design.name}” from the template “{starter.name}”.")
                return redirect("designs:detail", pk=design.pk)
    return render(request, "starters/use.html", {"starter": starter, "form": form},
                  status=400 if form.errors else 200)
