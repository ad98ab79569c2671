"""CSV and JSON exports of a team's actions: every status by default, the page's filters apply,
team access as on the page."""

import csv
import io
import json

from reviewapp.actions import services
from tests.reviewapp.action_fixtures import FAILING, action, filled_design, published  # noqa: F401


def test_json_export_lists_every_status(client_for, member, reviewer, action, team, filled_design):
    services.action_update(action=action, user=reviewer, status="done")
    second = services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=reviewer,
                                    due_on=action.due_on)
    response = client_for(member).get(f"/teams/{team.slug}/actions.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["team"] == team.slug
    assert [(a["id"], a["status"], a["owner"]) for a in data["actions"]] == [(action.pk, "done", "mei"),
                                                                             (second.pk, "open", "rafael")]
    assert data["actions"][0]["improvement_plan"] == "Set a p99 budget of at most five seconds."


def test_csv_export_applies_filters_and_defuses_formulas(client_for, member, reviewer, action, team):
    services.action_update(action=action, user=reviewer, status="wont_do", reason="=HYPERLINK(\"x\")")
    response = client_for(member).get(f"/teams/{team.slug}/actions.csv?status=wont_do")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["id"], r["status"], r["item_key"]) for r in rows] == [(str(action.pk), "wont_do", FAILING)]
    assert rows[0]["wont_do_reason"] == "'=HYPERLINK(\"x\")"
    assert list(csv.DictReader(io.StringIO(client_for(member).get(
        f"/teams/{team.slug}/actions.csv?status=open").content.decode()))) == []


def test_exports_wrong_method_and_outsider(client_for, member, outsider, action, team):
    for suffix in ("csv", "json"):
        assert client_for(member).post(f"/teams/{team.slug}/actions.{suffix}").status_code == 405
        assert client_for(outsider).get(f"/teams/{team.slug}/actions.{suffix}").status_code == 404
