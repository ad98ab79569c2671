"""Benchmark runs, checklists, milestones and reports through the API: the same services and rules
as the pages (a request creates the run row; the cap is 409, the broker down 503, neither leaves a
row), run status and result, checklist exports in both formats, milestones with their snapshot and
reports' status."""

import pytest

from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.checklists import services as checklists
from tests.reviewapp.api_fixtures import api_for, assert_problem  # noqa: F401
from tests.reviewapp.benchmark_fixtures import make_run, tiny_design  # noqa: F401
from tests.reviewapp.checklist_fixtures import sample

Status = BenchmarkRun.Status


def runs_url(design, *rest):
    return "/".join([f"/designs/{design.pk}/benchmarks", *map(str, rest)])


def test_a_member_requests_the_derived_run_and_the_row_is_created(api_for, member, tiny_design):
    response = api_for(member).post(runs_url(tiny_design), {"preset": "quick"})
    assert response.status_code == 201, response.content
    run = BenchmarkRun.objects.get()
    assert response["Location"] == f"/api/v1{runs_url(tiny_design, run.pk)}"
    body = response.json()
    assert (body["id"], body["status"], body["design_revision"]) == (run.pk, "queued", tiny_design.revision)
    assert (run.requested_by, run.status, run.spec["queries"]) == (member, Status.QUEUED, 300)


def test_a_reviewer_may_adjust_the_spec(api_for, reviewer, tiny_design):
    response = api_for(reviewer).post(runs_url(tiny_design), {"preset": "quick", "queries": 500, "seed": 7})
    assert response.status_code == 201, response.content
    run = BenchmarkRun.objects.get()
    assert (run.spec["queries"], run.spec["seed"]) == (500, 7)


def test_a_member_may_not_adjust_the_spec_and_nothing_is_queued(api_for, member, tiny_design):
    assert_problem(api_for(member).post(runs_url(tiny_design), {"queries": 500}), 403)
    assert not BenchmarkRun.objects.exists()


def test_the_teams_cap_is_409_and_queues_nothing_more(api_for, member, tiny_design, settings):
    settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = 1
    make_run(tiny_design, status="queued", measurements=None)
    body = assert_problem(api_for(member).post(runs_url(tiny_design), {"preset": "quick"}), 409)
    assert "at most 1 at a time" in body["detail"]
    assert BenchmarkRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_is_503_and_leaves_no_run(api_for, member, tiny_design, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    settings.BENCHMARK_PUBLISH_TIMEOUT_S = 1
    body = assert_problem(api_for(member).post(runs_url(tiny_design), {"preset": "quick"}), 503)
    assert "broker" in body["detail"]
    assert not BenchmarkRun.objects.exists()


def test_status_and_result_of_a_succeeded_run(api_for, member, tiny_design):
    run = make_run(tiny_design, requested_by=member)
    api = api_for(member)
    listed = api.get(runs_url(tiny_design)).json()
    assert [r["id"] for r in listed] == [run.pk]
    status = api.get(runs_url(tiny_design, run.pk)).json()
    assert (status["status"], status["progress"], status["requested_by"]) == ("succeeded", 100.0, "mei")
    result = api.get(runs_url(tiny_design, run.pk, "result")).json()
    assert result["result"] == run.result and result["measurements"] == run.measurements


def test_the_result_of_a_queued_run_is_409(api_for, member, tiny_design):
    run = make_run(tiny_design, status="queued", measurements=None)
    body = assert_problem(api_for(member).get(runs_url(tiny_design, run.pk, "result")), 409)
    assert "queued" in body["detail"]


def test_a_run_of_another_design_is_404(api_for, member, tiny_design, team):
    from reviewapp.designs.models import Design

    other = Design.objects.create(team=team, name="Other design")
    run = make_run(other)
    assert_problem(api_for(member).get(runs_url(tiny_design, run.pk)), 404)


# --- checklists ----------------------------------------------------------------------------------

@pytest.fixture
def versions(db):
    published = checklists.checklist_import(data=sample(), publish=True)
    draft = checklists.version_new_draft(version=published)
    return published, draft


def test_checklists_list_published_versions_and_drafts_only_for_staff(api_for, member, versions, django_user_model):
    published, draft = versions
    assert [v["id"] for v in api_for(member).get("/checklists").json()] == [published.pk]
    staff = django_user_model.objects.create_user("stella", password="pw-for-tests-1", is_staff=True)
    assert {v["id"] for v in api_for(staff).get("/checklists").json()} == {published.pk, draft.pk}
    assert_problem(api_for(member).get(f"/checklists/{draft.pk}/export"), 404)


def test_export_in_our_format_matches_the_admins_export(api_for, member, versions):
    from reviewapp.checklists.convert import version_export

    published, _ = versions
    body = api_for(member).get(f"/checklists/{published.pk}/export").json()
    assert body == version_export(published) and body["key"] == "test_checklist"


def test_export_as_an_aws_lens(api_for, member, versions):
    from engine.checklist.lens import checklist_to_lens
    from reviewapp.checklists.convert import version_checklist

    published, _ = versions
    body = api_for(member).get(f"/checklists/{published.pk}/export?format=aws-lens").json()
    assert body == checklist_to_lens(version_checklist(published)) and "pillars" in body


# --- milestones and reports ----------------------------------------------------------------------

def test_milestones_list_and_one_with_its_snapshot(api_for, member, owner, design):
    from reviewapp.reviews import services as reviews

    milestone = reviews.milestone_create(design=design, user=owner, name="Baseline")
    api = api_for(member)
    listed = api.get(f"/designs/{design.pk}/milestones").json()
    assert [(m["number"], m["name"], m["created_by"]) for m in listed] == [(milestone.number, "Baseline", "olivia")]
    one = api.get(f"/designs/{design.pk}/milestones/{milestone.number}").json()
    assert one["snapshot"] == milestone.snapshot
    assert_problem(api.get(f"/designs/{design.pk}/milestones/99"), 404)


def test_reports_list_their_status_and_the_pdf_link_when_ready(api_for, member, owner, design):
    from reviewapp.reports.models import Report
    from reviewapp.reviews import services as reviews

    milestone = reviews.milestone_create(design=design, user=owner, name="Baseline")
    queued = Report.objects.create(design=design, milestone=milestone, requested_by=owner)
    ready = Report.objects.create(design=design, status=Report.Status.READY, cache_key="k", pdf=b"%PDF", page_count=3)
    api = api_for(member)
    listed = {r["id"]: r for r in api.get(f"/designs/{design.pk}/reports").json()}
    assert (listed[queued.pk]["status"], listed[queued.pk]["milestone"], listed[queued.pk]["pdf_url"]) == (
        "queued", milestone.number, None)
    assert listed[ready.pk]["pdf_url"] == f"/designs/{design.pk}/reports/{ready.pk}/pdf"
    assert api.get(f"/designs/{design.pk}/reports/{ready.pk}").json()["page_count"] == 3
