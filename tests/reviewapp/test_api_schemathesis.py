"""Schemathesis against the live test server: every API operation, examples generated from the
OpenAPI document the app serves, sent over HTTP with a member's token. Checks: no server error,
every answer conforms to its documented schema, status code and content type.

Bounded and deterministic: derandomized Hypothesis with MAX_EXAMPLES per operation (the whole
file takes well under a minute on two cores). Runs under CI=true like any other test (no skip).

Path parameters, team ids and If-Match headers are pointed at the world's real objects for
most examples (else nearly every call would be a 404, 400 or 412, and no write would happen);
the team's cap on benchmark runs is 0, so a generated run request is
refused (409) rather than queued for a real worker.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reviewapp.api.api import api
from tests.reviewapp.api_fixtures import token_for

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))


@pytest.fixture
def world(db, team, owner, member):
    """A design with a benchmark run, a milestone and a report, and a published default checklist."""
    from engine.design import example_design

    from reviewapp.checklists import services as checklists
    from reviewapp.checklists.models import Checklist
    from reviewapp.designs.models import Design
    from reviewapp.reports.models import Report
    from reviewapp.reviews import services as reviews
    from tests.reviewapp.benchmark_fixtures import make_run
    from tests.reviewapp.checklist_fixtures import sample

    version = checklists.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    design = Design.objects.create(team=team, name="Fuzzed", inputs=example_design(), created_by=owner)
    run = make_run(design)
    milestone = reviews.milestone_create(design=design, user=owner, name="Baseline")
    report = Report.objects.create(design=design, milestone=milestone, requested_by=owner)
    return {"pk": design.pk, "run_pk": run.pk, "number": milestone.number, "report_pk": report.pk,
            "version_pk": version.pk, "team": team.pk, "token": token_for(member)}


def aim_at_the_world(case, world) -> None:
    """Point most generated ids at real objects, so that examples reach the endpoints' logic and
    writes really happen: odd generated values stay as they are (a 404 or 400 path)."""
    from reviewapp.designs.models import Design

    for name, value in (case.path_parameters or {}).items():
        if name in world and not (isinstance(value, int) and value % 2):
            case.path_parameters[name] = world[name]
    body = case.body if isinstance(case.body, dict) else None
    if body is not None and isinstance(body.get("team"), int) and not body["team"] % 2:
        body["team"] = world["team"]  # a create in the member's team
    if case.headers is not None and "If-Match" in case.headers and case.path_parameters.get("pk") == world["pk"]:
        if len(case.headers["If-Match"]) % 2 == 0:  # the current ETag: the update is applied
            case.headers["If-Match"] = f'"{Design.objects.get(pk=world["pk"]).revision}"'


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None,
                     suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, world, live_server, settings):
    settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = 0
    aim_at_the_world(case, world)
    case.call_and_validate(base_url=live_server.url, headers={"Authorization": f"Bearer {world['token']}"},
                           checks=CHECKS)
