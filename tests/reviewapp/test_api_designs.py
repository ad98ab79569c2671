"""Designs through the API: list, get, create, update the inputs with ETag / If-Match (428
without, 412 when stale, nothing written), and assess without saving (no write at all)."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from engine.design import example_design

from reviewapp.designs.models import Design
from reviewapp.reviews.models import HistoryEvent
from tests.reviewapp.api_fixtures import api_for, assert_problem  # noqa: F401


@pytest.fixture
def saved(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


def test_list_shows_the_users_designs_with_their_role(api_for, member, saved, other_team):
    Design.objects.create(team=other_team, name="Not theirs")
    body = api_for(member).get("/designs").json()
    assert [(d["id"], d["name"], d["team"]["role"]) for d in body] == [(saved.pk, "Ranking service", "member")]


def test_get_returns_the_inputs_and_the_revision_as_etag(api_for, member, saved):
    response = api_for(member).get(f"/designs/{saved.pk}")
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == '"1"' == body["etag"]
    assert body["inputs"] == saved.inputs and body["revision"] == 1 and body["team"]["role"] == "member"


def test_create_makes_the_design_in_the_team_with_validated_inputs(api_for, member, team):
    inputs = example_design()
    response = api_for(member).post("/designs", {"team": team.pk, "name": "Search API", "description": "d",
                                                 "inputs": inputs})
    assert response.status_code == 201, response.content
    design = Design.objects.get(name="Search API")
    assert response["Location"] == f"/api/v1/designs/{design.pk}"
    assert (design.team, design.description, design.created_by.username) == (team, "d", "mei")
    assert design.inputs["requirements"]["latency_p99_ms"] == inputs["requirements"]["latency_p99_ms"]
    assert HistoryEvent.objects.filter(design=design).exists()  # the same service as the page


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Ranking service"}, "name"),  # taken in the team (case-insensitive, as the form)
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"team": 999999}, "team"),
    ({"inputs": {"requirements": {"latency_p99_ms": "fast"}}}, "inputs.requirements.latency_p99_ms"),
    ({"inputs": {"requirements": {"no_such_field": 1}}}, "inputs.requirements.no_such_field"),
    ({"name": "Search\r\nBcc: everyone@example.com"}, "name"),  # a header injection in the e-mail subject
    ({"description": "red \x1b[31m text"}, "description"),
])
def test_create_refuses_bad_input_by_name_and_creates_nothing(api_for, member, team, saved, body, field):
    response = api_for(member).post("/designs", {"team": team.pk, "name": "New one", **body})
    assert_problem(response, 400, field)
    assert Design.objects.count() == 1


def test_create_in_no_team_is_forbidden(api_for, django_user_model):
    loner = django_user_model.objects.create_user("loner", password="pw-for-tests-1")
    assert_problem(api_for(loner).post("/designs", {"team": 1, "name": "x"}), 403)
    assert not Design.objects.exists()


# --- update with If-Match -------------------------------------------------------------------------

def changed_inputs(design):
    inputs = copy.deepcopy(design.inputs)
    inputs["requirements"]["peak_qps"] = 99.0
    return inputs


def test_update_with_the_current_etag_saves_and_bumps_the_etag(api_for, member, saved):
    response = api_for(member).put(f"/designs/{saved.pk}/inputs", changed_inputs(saved), HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"' == response.json()["etag"]
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs["requirements"]["peak_qps"], saved.updated_by.username) == (2, 99.0, "mei")
    assert HistoryEvent.objects.filter(design=saved, summary__startswith="Saved revision 2").exists()


def test_the_openapi_schema_says_if_match_is_required_where_428_answers_without_it(api_for, member):
    """The schema marked If-Match optional while a PUT without it gets 428 (issue 27, item 9)."""
    schema = api_for(member).get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/designs/{pk}/inputs"]["put"]
    [if_match] = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "If-Match"]
    assert if_match["required"] is True and "428" in operation["responses"]
    assert if_match["schema"]["type"] == "string"  # not the optional anyOf [string, null] any more


def test_update_without_if_match_is_428_and_writes_nothing(api_for, member, saved):
    response = api_for(member).put(f"/designs/{saved.pk}/inputs", changed_inputs(saved))
    assert_problem(response, 428, "header.If-Match")
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs) == (1, example_design())


@pytest.mark.parametrize("if_match", ['"0"', '"2"', "1", 'W/"1"', "*", '"one"', '"1", "2"'])
def test_update_with_a_stale_or_malformed_etag_is_412_and_writes_nothing(api_for, member, saved, if_match):
    response = api_for(member).put(f"/designs/{saved.pk}/inputs", changed_inputs(saved), HTTP_IF_MATCH=if_match)
    assert_problem(response, 412, "header.If-Match")
    assert response["ETag"] == '"1"'
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs) == (1, example_design())


def test_two_clients_with_the_same_etag_cannot_both_save(api_for, member, owner, saved):
    first = api_for(member).put(f"/designs/{saved.pk}/inputs", changed_inputs(saved), HTTP_IF_MATCH='"1"')
    assert first.status_code == 200
    theirs = example_design()
    theirs["requirements"]["peak_qps"] = 5.0
    second = api_for(owner).put(f"/designs/{saved.pk}/inputs", theirs, HTTP_IF_MATCH='"1"')
    body = assert_problem(second, 412)
    assert "mei" in body["detail"]
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs["requirements"]["peak_qps"]) == (2, 99.0)


def test_a_race_between_the_check_and_the_write_is_412_too(api_for, member, saved, monkeypatch):
    """The service's compare-and-set is the last word: a save landing after the If-Match check."""
    from reviewapp.designs import services

    real = services.design_update_inputs

    def someone_else_saves_first(**kwargs):
        Design.objects.filter(pk=saved.pk).update(revision=5)
        return real(**kwargs)

    monkeypatch.setattr(services, "design_update_inputs", someone_else_saves_first)
    response = api_for(member).put(f"/designs/{saved.pk}/inputs", changed_inputs(saved), HTTP_IF_MATCH='"1"')
    assert_problem(response, 412)
    assert response["ETag"] == '"5"'
    saved.refresh_from_db()
    assert saved.inputs == example_design()


@pytest.mark.parametrize(("body", "field"), [
    ({"requirements": {"latency_p99_ms": -3}}, "requirements.latency_p99_ms"),
    ({"requirements": {"latency_p99_ms": "fast"}}, "requirements.latency_p99_ms"),
    ({"architecture": {"gpu_type": "no-such-gpu"}}, "architecture.gpu_type"),
    ({"architecture": {"typo_field": 1}}, "architecture.typo_field"),
    ({"requirements": [1, 2]}, "requirements"),
    ({"extra": {}}, "extra"),
])
def test_update_refuses_invalid_inputs_by_field_and_writes_nothing(api_for, member, saved, body, field):
    response = api_for(member).put(f"/designs/{saved.pk}/inputs", body, HTTP_IF_MATCH='"1"')
    assert_problem(response, 400, field)
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs) == (1, example_design())


# --- assess without saving ----------------------------------------------------------------------

def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            and "api_apitoken" not in q["sql"]]


def test_assess_answers_numbers_findings_and_score_of_the_posted_inputs_and_writes_nothing(
        api_for, member, saved, published_checklist):
    api = api_for(member)
    api.get("/teams")  # the token's last-used time is recorded now, not during the assessment
    posted = changed_inputs(saved)
    posted["requirements"]["peak_qps"] = 4000.0
    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"/designs/{saved.pk}/assess", posted)
    assert response.status_code == 200, response.content
    assert writes(queries.captured_queries) == []
    assert not [q for q in queries.captured_queries if "api_apitoken" in q["sql"] and "UPDATE" in q["sql"]]
    body = response.json()
    assert body["assessed"] == "posted" and body["facts"]["requirements"]["peak_qps"] == 4000.0
    assert body["checklist"]["key"] and body["checklist"]["pinned"] is False
    assert body["findings"] and body["score"] is not None and body["verdict"]
    saved.refresh_from_db()
    assert (saved.revision, saved.inputs) == (1, example_design())
    saved_view = api.get(f"/designs/{saved.pk}/assessment").json()
    assert saved_view["assessed"] == "saved" and saved_view["facts"]["requirements"]["peak_qps"] != 4000.0


def test_assess_refuses_invalid_inputs_like_a_save(api_for, member, saved):
    response = api_for(member).post(f"/designs/{saved.pk}/assess", {"requirements": {"peak_qps": "lots"}})
    assert_problem(response, 400, "requirements.peak_qps")


@pytest.fixture
def published_checklist(db):
    from reviewapp.checklists import services as checklists
    from reviewapp.checklists.models import Checklist
    from tests.reviewapp.checklist_fixtures import sample

    version = checklists.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    return version
