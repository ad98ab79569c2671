"""The personal API tokens page: list, create (the secret is shown once) and revoke."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reviewapp.api.forms import TokenCreateForm
from reviewapp.api.models import ApiToken
from reviewapp.api.tokens import TokenRefused, api_token_create, api_token_revoke


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                           expires_at=form.expires_at())
            except TokenRefused as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                form = TokenCreateForm()
        else:
            status = 400
    tokens = ApiToken.objects.filter(user=request.user)
    # The secret is in this one response only: never cached, never stored.
    response = render(request, "api/tokens.html", {"form": form, "tokens": tokens, "created": created}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request: HttpRequest, token_pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_pk, user=request.user)  # another user's token: 404
    if api_token_revoke(token=token):
        messages.success(request, f"Revoked “{token.name}”: it no longer works.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("tokens:list")
