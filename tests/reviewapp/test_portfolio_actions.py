"""The dashboard's overdue-actions column: each design's overdue improvement actions, linked, and
gone once the action closes (the cached results are keyed on what the column shows)."""

from reviewapp.actions.models import Action
from tests.reviewapp.action_fixtures import action, filled_design, fix_p99, published  # noqa: F401

URL = "/portfolio/"


def overdue_cell(html: str, design) -> str:
    row = html.split(f'data-design="{design.pk}"', 1)[1].split("</tr>", 1)[0]
    return row.split('data-col="overdue-actions"', 1)[1].split("</td>", 1)[0]


def test_an_overdue_action_shows_on_its_design_row_and_leaves_when_it_closes(
        client_for, member, owner, action, filled_design):
    client = client_for(member)
    html = client.get(URL).content.decode()
    assert "<th>Overdue actions</th>" in html
    cell = overdue_cell(html, filled_design)
    assert f'href="/actions/{action.pk}/"' in cell and action.title[:20] in cell

    fix_p99(filled_design, owner)  # the finding passes: the action closes itself
    assert Action.objects.get(pk=action.pk).status == Action.Status.DONE
    cell = overdue_cell(client.get(URL).content.decode(), filled_design)  # not the cached page
    assert "/actions/" not in cell and "–" in cell


def test_an_action_not_yet_due_is_not_overdue_and_outsiders_never_see_it(
        client_for, member, outsider, action, filled_design):
    Action.objects.filter(pk=action.pk).update(due_on="2999-01-01")
    assert "/actions/" not in overdue_cell(client_for(member).get(URL).content.decode(), filled_design)
    Action.objects.filter(pk=action.pk).update(due_on="2026-01-01")  # overdue now: not the cached page
    assert f'href="/actions/{action.pk}/"' in overdue_cell(client_for(member).get(URL).content.decode(), filled_design)
    html = client_for(outsider).get(URL).content.decode()
    assert f"/actions/{action.pk}/" not in html and f'data-design="{filled_design.pk}"' not in html
