"""Action pages: tracking from a finding, the team's page with filters, one action and its
update; each with the happy path, the wrong method, an outsider (404) and a member without the
role (403), side effects read back from the database."""

import datetime as dt

import pytest

from reviewapp.actions.models import Action
from tests.reviewapp.action_fixtures import FAILING, action, filled_design, published  # noqa: F401


def track_url(design, key=FAILING):
    return f"/designs/{design.pk}/findings/{key}/action/"


# --- tracking a finding --------------------------------------------------------------------


def test_the_finding_page_offers_track_as_action_to_a_reviewer(client_for, reviewer, member, published, filled_design):
    page = client_for(reviewer).get(f"/checklists/design/{filled_design.pk}/findings/{FAILING}/").content.decode()
    assert "Track as action" in page and f'value="{member.pk}"' in page
    page = client_for(member).get(f"/checklists/design/{filled_design.pk}/findings/{FAILING}/").content.decode()
    assert "Track as action" not in page  # members do not assign work


def test_a_reviewer_tracks_a_failing_finding(client_for, reviewer, member, published, filled_design):
    response = client_for(reviewer).post(track_url(filled_design), {"owner": member.pk, "due_on": "2027-01-31"})
    row = Action.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/actions/{row.pk}/"
    assert (row.owner, row.due_on, row.created_by, row.item_key) == (member, dt.date(2027, 1, 31), reviewer, FAILING)
    page = client_for(reviewer).get(f"/checklists/design/{filled_design.pk}/findings/{FAILING}/").content.decode()
    assert f"action #{row.pk}" in page and "Track as action" not in page


def test_tracking_refuses_bad_input_with_the_field_named(client_for, reviewer, member, published, filled_design):
    client = client_for(reviewer)
    response = client.post(track_url(filled_design), {"owner": member.pk, "due_on": "31/01/2027"})
    assert response.status_code == 400 and "Enter a date as YYYY-MM-DD." in response.content.decode()
    response = client.post(track_url(filled_design, "req_reviewed"), {"owner": member.pk, "due_on": "2027-01-31"})
    assert response.status_code == 400 and "Only a failing finding" in response.content.decode()
    assert not Action.objects.exists()


def test_tracking_wrong_method_outsider_and_member(client_for, reviewer, member, outsider, published, filled_design):
    data = {"owner": member.pk, "due_on": "2027-01-31"}
    assert client_for(reviewer).get(track_url(filled_design)).status_code == 405
    assert client_for(outsider).post(track_url(filled_design), data).status_code == 404
    assert client_for(member).post(track_url(filled_design), data).status_code == 403
    assert not Action.objects.exists()


# --- the team's page ---------------------------------------------------------------------------


def test_the_team_page_lists_open_actions_with_overdue_marked(client_for, member, action, team):
    page = client_for(member).get(f"/teams/{team.slug}/actions/").content.decode()
    assert f'id="action-{action.pk}"' in page and 'data-testid="overdue"' in page


def test_the_team_page_filters(client_for, member, reviewer, owner, action, team):
    client = client_for(member)
    assert f'id="action-{action.pk}"' in client.get(f"/teams/{team.slug}/actions/?overdue=1").content.decode()
    assert f'id="action-{action.pk}"' not in client.get(f"/teams/{team.slug}/actions/?owner={owner.pk}").content.decode()
    assert f'id="action-{action.pk}"' not in client.get(f"/teams/{team.slug}/actions/?status=done").content.decode()
    assert f'id="action-{action.pk}"' in client.get(f"/teams/{team.slug}/actions/?status=open&owner={member.pk}").content.decode()


def test_the_team_page_wrong_method_and_outsider(client_for, member, outsider, action, team):
    assert client_for(member).post(f"/teams/{team.slug}/actions/").status_code == 405
    assert client_for(outsider).get(f"/teams/{team.slug}/actions/").status_code == 404


def test_the_actions_index_shows_the_users_overdue_actions(client_for, member, outsider, action):
    assert f'id="action-{action.pk}"' in client_for(member).get("/actions/").content.decode()
    assert f'id="action-{action.pk}"' not in client_for(outsider).get("/actions/").content.decode()


# --- one action and its update -----------------------------------------------------------------


def test_the_action_page_shows_plan_and_history(client_for, member, action):
    page = client_for(member).get(f"/actions/{action.pk}/").content.decode()
    assert "Set a p99 budget of at most five seconds." in page and "Tracked as an action, owner mei" in page
    assert 'data-testid="action-update"' in page  # the owner may update it


def test_the_owner_updates_the_status(client_for, member, action):
    response = client_for(member).post(f"/actions/{action.pk}/update/", {"status": "in_progress", "owner": member.pk,
                                                                          "due_on": "2026-12-01"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress" and action.events.count() == 2


def test_wont_do_without_a_reason_is_refused(client_for, reviewer, action):
    response = client_for(reviewer).post(f"/actions/{action.pk}/update/", {"status": "wont_do"})
    assert response.status_code == 400 and "Say why this will not be done." in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open" and action.events.count() == 1


def test_update_wrong_method_outsider_and_a_member_who_does_not_own_it(client_for, reviewer, owner, outsider, action, team):
    from tests.conftest import _user_in

    other_member = _user_in(team, "nina", "member")
    assert client_for(reviewer).get(f"/actions/{action.pk}/update/").status_code == 405
    assert client_for(outsider).get(f"/actions/{action.pk}/").status_code == 404
    assert client_for(outsider).post(f"/actions/{action.pk}/update/", {"status": "done"}).status_code == 404
    assert client_for(other_member).post(f"/actions/{action.pk}/update/", {"status": "done"}).status_code == 403
    page = client_for(other_member).get(f"/actions/{action.pk}/").content.decode()
    assert 'data-testid="action-update"' not in page
    action.refresh_from_db()
    assert action.status == "open"


def test_the_design_report_lists_open_actions_with_overdue_marked(client_for, member, action, filled_design):
    page = client_for(member).get(f"/designs/{filled_design.pk}/report/").content.decode()
    section = page[page.index('data-testid="report-actions"'):]
    section = section[:section.index("</section>")]
    assert "P99 within five seconds" in section and "overdue" in section


def test_the_findings_panel_details_offer_track_as_action(client_for, reviewer, published, filled_design):
    response = client_for(reviewer).post(f"/checklists/design/{filled_design.pk}/findings/{FAILING}/",
                                         HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="track-action"' in page and "<html" not in page


def test_the_team_page_reads_a_flat_number_of_queries(client_for, member, reviewer, team, action):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from engine.design import example_design

    from reviewapp.actions import services
    from reviewapp.designs.models import Design

    client = client_for(member)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/teams/{team.slug}/actions/?status=all").status_code == 200
        return len(queries)

    one = count()
    for i in range(10):
        design = Design.objects.create(team=team, name=f"Design {i}", inputs=example_design(), created_by=reviewer)
        services.action_create(design=design, item_key=FAILING, user=reviewer, owner=member, due_on=dt.date(2027, 1, i + 1))
    assert count() == one
