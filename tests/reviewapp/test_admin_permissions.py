"""Every custom admin view (beyond Django's add/change/delete/history) checks a model permission:
staff status alone opens none of them. The list is read from the admin's URLs, so a new custom
view is covered without editing this file."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.reviewapp.checklist_fixtures import published  # noqa: F401


def custom_admin_urls() -> list[tuple[str, object]]:
    out = []
    for model_admin in admin.site._registry.values():
        standard = {p.name for p in admin.ModelAdmin.get_urls(model_admin) if p.name}
        out += [(p.name, p) for p in model_admin.get_urls() if p.name and p.name not in standard]
    return sorted(out, key=lambda pair: pair[0])


def url_for(name: str, pattern, version) -> str:
    kwargs = {}
    for key in pattern.pattern.converters:
        kwargs[key] = version.pk if key == "pk" else "ours"
    return reverse(f"admin:{name}", kwargs=kwargs)


def staff_with(*codenames: str):
    user = get_user_model().objects.create_user("stella", password="pw-for-tests-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return get_user_model().objects.get(pk=user.pk)  # a fresh permission cache


def test_the_checklist_admin_has_custom_views():
    names = [name for name, _ in custom_admin_urls()]
    assert "checklists_checklistversion_diff" in names and "checklists_checklist_import" in names


@pytest.mark.parametrize(("name", "pattern"), custom_admin_urls(), ids=[n for n, _ in custom_admin_urls()])
def test_staff_without_permissions_is_refused_every_custom_view(client, published, name, pattern):
    client.force_login(staff_with())
    url = url_for(name, pattern, published)
    assert client.get(url).status_code in (403, 405), url
    assert client.post(url).status_code in (403, 405), url
    assert published.checklist.versions.count() == 1  # no draft was made, nothing published


def test_view_permission_opens_diff_and_export_but_not_publish_or_import(client, published):
    client.force_login(staff_with("view_checklistversion"))
    base = f"/admin/checklists/checklistversion/{published.pk}"
    assert client.get(f"{base}/diff/").status_code == 200
    assert client.get(f"{base}/export/ours/").status_code == 200
    assert client.post(f"{base}/new-draft/").status_code == 403
    assert client.post(f"{base}/publish/").status_code == 403
    assert client.get(reverse("admin:checklists_checklist_import")).status_code == 403
    assert published.checklist.versions.count() == 1


def test_change_permission_makes_a_new_draft(client, published):
    client.force_login(staff_with("change_checklistversion"))
    response = client.post(f"/admin/checklists/checklistversion/{published.pk}/new-draft/")
    assert response.status_code == 302
    assert published.checklist.versions.count() == 2
