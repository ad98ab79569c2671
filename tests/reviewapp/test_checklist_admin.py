"""The checklist admin: CEL refused with the compiler's message, frozen versions, publish, diff,
export. (Import is in test_checklist_import.)"""

import json

import pytest

from reviewapp.checklists import services
from reviewapp.checklists.models import ChecklistVersion, Item
from tests.reviewapp.checklist_fixtures import published, staff  # noqa: F401


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def draft(published):
    return services.version_new_draft(version=published)


def item_post(item: Item, **changes) -> dict:
    data = {
        "section": item.section_id, "order": item.order, "key": item.key, "title": item.title,
        "question": item.question, "why": item.why, "severity": item.severity, "weight": item.weight,
        "mode": item.mode, "applies_when": item.applies_when, "passes_when": item.passes_when,
        "level": item.level, "improvement_plan": item.improvement_plan,
        "resources": json.dumps(item.resources), "choices": json.dumps(item.choices),
        "risk_rules": json.dumps(item.risk_rules),
    }  # fmt: skip
    data.update(changes)
    return data


def item_url(item: Item) -> str:
    return f"/admin/checklists/item/{item.pk}/change/"


def test_it_saves_a_valid_change_to_a_draft_item(admin_client, draft):
    item = Item.objects.get(section__version=draft, key="req_p99_budget")
    response = admin_client.post(item_url(item), item_post(item, passes_when="requirements.latency_p99_ms <= 9000"))
    assert response.status_code == 302
    assert Item.objects.get(pk=item.pk).passes_when == "requirements.latency_p99_ms <= 9000"


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("passes_when", "requirements.latency_p99_ms <=", "does not compile"),
        ("applies_when", "requirements.latency_p99_ms >> 3", "does not compile"),
        ("passes_when", "requirements.no_such_fact > 1.0", "unknown fact"),
        ("passes_when", "lowerAscii(requirements.use_case) == 'x'", "unknown function"),
    ],
)
def test_it_refuses_an_expression_that_does_not_compile(admin_client, draft, field, text, message):
    item = Item.objects.get(section__version=draft, key="req_p99_budget")
    response = admin_client.post(item_url(item), item_post(item, **{field: text}))
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert getattr(Item.objects.get(pk=item.pk), field) == getattr(item, field)


def test_it_refuses_bad_risk_rules_with_their_path(admin_client, draft):
    item = Item.objects.get(section__version=draft, key="rel_degradation")
    rules = [{"condition": "deg_static", "risk": "LOW_RISK"}, {"condition": "default", "risk": "HIGH_RISK"}]
    response = admin_client.post(item_url(item), item_post(item, risk_rules=json.dumps(rules)))
    assert response.status_code == 200
    assert "risk_rules[0].risk" in " ".join(response.context["adminform"].form.errors["risk_rules"])
    assert Item.objects.get(pk=item.pk).risk_rules == item.risk_rules


def test_a_published_item_is_read_only_in_the_admin(admin_client, published):
    item = Item.objects.get(section__version=published, key="req_p99_budget")
    page = admin_client.get(item_url(item))
    assert page.status_code == 200 and 'name="passes_when"' not in page.content.decode()
    response = admin_client.post(item_url(item), item_post(item, passes_when="true"))
    assert response.status_code == 403
    assert Item.objects.get(pk=item.pk).passes_when == item.passes_when


def test_a_published_version_is_read_only_in_the_admin(admin_client, published):
    url = f"/admin/checklists/checklistversion/{published.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "cannot change" in page and 'name="scoring"' not in page and "Publish this version" not in page
    response = admin_client.post(url, {"scoring": "minimum", "levels": "[]", "notes": "x"})
    assert response.status_code == 403
    assert ChecklistVersion.objects.get(pk=published.pk).scoring == "weighted"


def test_new_draft_then_publish_from_the_version_page(admin_client, published):
    response = admin_client.post(f"/admin/checklists/checklistversion/{published.pk}/new-draft/")
    draft = ChecklistVersion.objects.get(number=2)
    assert response.status_code == 302 and response["Location"].endswith(f"/{draft.pk}/change/")
    assert admin_client.get(f"/admin/checklists/checklistversion/{draft.pk}/publish/").status_code == 405
    admin_client.post(f"/admin/checklists/checklistversion/{draft.pk}/publish/")
    assert ChecklistVersion.objects.get(pk=draft.pk).status == "published"


def test_publish_refuses_an_invalid_draft_with_the_json_path(admin_client, draft):
    Item.objects.filter(section__version=draft, key="rel_breaker").update(passes_when="architecture.circuit_breaker ==")
    response = admin_client.post(f"/admin/checklists/checklistversion/{draft.pk}/publish/", follow=True)
    page = response.content.decode()
    assert "sections[1].items[1].passes_when" in page and "does not compile" in page
    assert ChecklistVersion.objects.get(pk=draft.pk).status == "draft"


def test_publish_action_on_the_changelist(admin_client, draft):
    response = admin_client.post(
        "/admin/checklists/checklistversion/", {"action": "publish", "_selected_action": [draft.pk]}
    )
    assert response.status_code == 302
    assert ChecklistVersion.objects.get(pk=draft.pk).status == "published"


def test_diff_lists_added_removed_and_changed_items(admin_client, published, draft):
    Item.objects.filter(section__version=draft, key="req_p99_budget").update(severity="low", passes_when="true")
    Item.objects.filter(section__version=draft, key="rel_breaker").delete()
    section = draft.sections.first()
    Item.objects.create(section=section, key="req_new", title="A new item", mode="manual")
    page = admin_client.get(f"/admin/checklists/checklistversion/{draft.pk}/diff/?against={published.pk}").content.decode()
    assert "Items added (1)" in page and "req_new" in page
    assert "Items removed (1)" in page and "rel_breaker" in page
    assert "Items changed (1)" in page and "<td>severity</td>" in page and "<td>passes_when</td>" in page


@pytest.mark.parametrize(("fmt", "marker"), [("ours", '"format": "ai-design-review/checklist"'), ("aws-lens", '"schemaVersion": "2021-11-01"')])
def test_export_buttons_download_json(admin_client, published, fmt, marker):
    response = admin_client.get(f"/admin/checklists/checklistversion/{published.pk}/export/{fmt}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert marker in response.content.decode()


def test_a_checklist_with_published_versions_cannot_be_deleted(admin_client, published):
    response = admin_client.post(f"/admin/checklists/checklist/{published.checklist_id}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ChecklistVersion.objects.filter(pk=published.pk).exists()
