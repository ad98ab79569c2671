"""What every app's admin shares: one permission check for custom admin views."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import path


def has_model_permission(model_admin: admin.ModelAdmin, request: HttpRequest, action: str) -> bool:
    """The model-level permission `action` ("view", "add", "change", "delete") on the admin's
    model; "view" is also granted by "change", as in Django's own changelist."""
    opts = model_admin.model._meta
    user = request.user

    def has(name: str) -> bool:
        return user.has_perm(f"{opts.app_label}.{get_permission_codename(name, opts)}")

    return has(action) or (action == "view" and has("change"))


class CustomAdminViews:
    """Mixed into a ModelAdmin: `custom_path` registers a custom view with the permission and the
    methods it needs, so no custom view can exist without a permission check (staff status alone,
    which `admin_view` checks, is not enough)."""

    def custom_path(self, route: str, view, name: str, *, permission: str, methods: tuple[str, ...] = ("GET",)):
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            if not has_model_permission(self, request, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return path(route, self.admin_site.admin_view(guarded), name=name)
