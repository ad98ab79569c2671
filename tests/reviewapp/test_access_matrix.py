"""Every named URL x every persona, for GET and POST, generated from the URL conf: a URL without a
row here fails the suite, so a new view states who may use it. (The Django admin has its own test:
test_admin_permissions.)

A row is (GET, POST), each six statuses in PERSONAS order:
    anonymous  outsider  member  reviewer  owner  staff
`outsider` owns another team; `staff` is is_staff in no team (staff manage checklists in the admin;
they do not see teams' designs). POST sends no data: what a view answers to an empty submission
(400 with the form, 409 for an action that does not apply now), never a 500. Each request runs in
a transaction rolled back afterwards, so one persona's POST does not change what the next one sees.
Beyond the statuses: a page that answers 200 to someone outside the team must not show the design.
"""

import pytest
from django.db import transaction
from django.test import Client

from tests.reviewapp.access_matrix_world import PERSONAS, build_world, named_urls

#            anon out mem rev own staff
TEAM_READ = "302 404 200 200 200 404"   # any member of the design's team
NOT_ALLOWED = "302 405 405 405 405 405"  # the wrong method (anonymous is sent to log in first)
MEMBER_FORM = "302 404 400 400 400 404"  # a member's form, refused empty
MEMBER_REDRAW = "302 404 200 200 200 404"  # htmx redraws a member may ask for
REVIEWER_ACTION = "302 404 403 302 302 404"  # reviewers and owners; members are refused
OWN_TEAM = "302 200 200 200 200 403"   # pages about the user's own teams (staff has none)
SIGNED_IN = "302 200 200 200 200 200"
API_SIGNED_IN = "401 200 200 200 200 200"
API_TEAM_READ = "401 404 200 200 200 404"
API_EMPTY_BODY = "401 400 400 400 400 400"
ALL_405 = "405 405 405 405 405 405"

ROWS: dict[str, tuple[str, str]] = {
    "healthz": ("200 200 200 200 200 200", "405 405 405 405 405 405"),
    "healthz_detail": ("403 403 403 403 403 200", "405 405 405 405 405 405"),  # staff or HEALTHZ_TOKEN
    "login": ("200 200 200 200 200 200", "200 200 200 200 200 200"),
    "logout": (NOT_ALLOWED, "302 302 302 302 302 302"),
    # designs
    "designs:list": (SIGNED_IN, NOT_ALLOWED),
    "designs:create": (OWN_TEAM, OWN_TEAM),  # an empty form is shown again (200)
    "designs:facts": (SIGNED_IN, NOT_ALLOWED),
    "designs:methodology": (SIGNED_IN, NOT_ALLOWED),
    "designs:file_schema": (SIGNED_IN, NOT_ALLOWED),  # the design file's JSON Schema
    "designs:import_file": (OWN_TEAM, "302 400 400 400 400 403"),  # a new design from a file; empty: 400
    "designs:export_file": (TEAM_READ, NOT_ALLOWED),
    "designs:number": (TEAM_READ, TEAM_READ),  # one number explained; POST carries the unsaved form values
    "designs:detail": (TEAM_READ, NOT_ALLOWED),
    "designs:edit": (TEAM_READ, MEMBER_REDRAW),  # an empty form is shown again (200)
    "designs:inputs": (NOT_ALLOWED, MEMBER_FORM),
    "designs:inputs_preview": (NOT_ALLOWED, MEMBER_REDRAW),
    "designs:inputs_form": (NOT_ALLOWED, MEMBER_REDRAW),
    "designs:requirements_md": (TEAM_READ, NOT_ALLOWED),
    "designs:kubernetes": (TEAM_READ, NOT_ALLOWED),  # manifests generated from the design
    "designs:kubernetes_yaml": (TEAM_READ, NOT_ALLOWED),  # their download (the matrix's design is complete)
    "designs:delete": ("302 404 403 403 200 404", "302 404 403 403 302 404"),  # owners only
    # templates to start a design from (an empty POST shows the form again)
    "starters:list": (SIGNED_IN, NOT_ALLOWED),
    "starters:use": (OWN_TEAM, OWN_TEAM),
    # alternatives side by side: no picks shows the picker; the PDF needs two or three (400)
    "alternatives:compare": (SIGNED_IN, NOT_ALLOWED),
    "alternatives:compare_pdf": ("302 400 400 400 400 400", NOT_ALLOWED),
    # checklists: the review page and its answers
    "checklists:review": (TEAM_READ, NOT_ALLOWED),
    "checklists:panel": (TEAM_READ, TEAM_READ),
    "checklists:finding": (TEAM_READ, TEAM_READ),
    "checklists:answer": (NOT_ALLOWED, MEMBER_FORM),
    "checklists:accept": (NOT_ALLOWED, "302 404 403 400 400 404"),  # accepting a risk: reviewers
    "checklists:repin": (NOT_ALLOWED, REVIEWER_ACTION),
    # benchmarks
    "benchmarks:list": (TEAM_READ, NOT_ALLOWED),
    "benchmarks:new": (TEAM_READ, MEMBER_FORM),
    "benchmarks:upload": (TEAM_READ, MEMBER_FORM),
    "benchmarks:known": (TEAM_READ, MEMBER_FORM),
    "benchmarks:run": (TEAM_READ, NOT_ALLOWED),
    "benchmarks:cancel": (NOT_ALLOWED, REVIEWER_ACTION),
    "benchmarks:pin": (NOT_ALLOWED, REVIEWER_ACTION),
    # reviews
    "reviews:request": (TEAM_READ, MEMBER_FORM),
    "reviews:withdraw": (NOT_ALLOWED, "302 404 409 409 409 404"),  # no open request to withdraw
    "reviews:decide": ("302 404 403 200 200 404", "302 404 403 400 400 404"),
    "reviews:milestones": (TEAM_READ, MEMBER_FORM),
    "reviews:milestone": (TEAM_READ, NOT_ALLOWED),
    "reviews:milestone_json": (TEAM_READ, NOT_ALLOWED),
    "reviews:compare": (TEAM_READ, NOT_ALLOWED),
    "reviews:history": (TEAM_READ, NOT_ALLOWED),
    # reports
    "reports:list": (TEAM_READ, NOT_ALLOWED),
    "reports:draft": (TEAM_READ, NOT_ALLOWED),
    "reports:draft_md": (TEAM_READ, NOT_ALLOWED),
    "reports:draft_pdf": (NOT_ALLOWED, "302 404 302 302 302 404"),  # queues a PDF, then its page
    "reports:milestone": (TEAM_READ, NOT_ALLOWED),
    "reports:milestone_md": (TEAM_READ, NOT_ALLOWED),
    "reports:milestone_pdf": (NOT_ALLOWED, "302 404 302 302 302 404"),
    "reports:status": (TEAM_READ, NOT_ALLOWED),
    "reports:pdf": ("302 404 302 302 302 404", NOT_ALLOWED),  # not rendered yet: back to its status page
    # actions: writes need a reviewer, or the action's owner (the world's action is the owner's)
    "actions:index": (SIGNED_IN, NOT_ALLOWED),
    "actions:team": (TEAM_READ, NOT_ALLOWED),
    "actions:export_csv": (TEAM_READ, NOT_ALLOWED),
    "actions:export_json": (TEAM_READ, NOT_ALLOWED),
    "actions:detail": (TEAM_READ, NOT_ALLOWED),
    "actions:update": (NOT_ALLOWED, "302 404 403 400 400 404"),
    "actions:track": (NOT_ALLOWED, "302 404 403 400 400 404"),
    # the team dashboard and its consolidated report: each user's own teams' designs (none for staff)
    "portfolio:dashboard": (SIGNED_IN, NOT_ALLOWED),
    "portfolio:report": (SIGNED_IN, NOT_ALLOWED),
    "portfolio:report_json": (SIGNED_IN, NOT_ALLOWED),
    "portfolio:report_pdf": (SIGNED_IN, NOT_ALLOWED),
    # the JSON API (reviewapp/api; tests/reviewapp/test_api_access.py has tokens x endpoints): no
    # credentials is 401, another team's design 404; ninja answers 405 before authenticating. An
    # empty POST body is refused (400) before the design is looked up, so it reveals nothing.
    "api:api-root": ("404 404 404 404 404 404", "404 404 404 404 404 404"),  # ninja's bare prefix
    "api:openapi-json": ("401 200 200 200 200 200", ALL_405),
    "api:openapi-view": ("302 200 200 200 200 200", ALL_405),  # the docs page
    "api:team_list": (API_SIGNED_IN, ALL_405),
    "api:design_list": (API_SIGNED_IN, API_EMPTY_BODY),  # POST: design_create
    "api:design_create": (API_SIGNED_IN, API_EMPTY_BODY),
    "api:design_get": (API_TEAM_READ, ALL_405),
    "api:design_inputs_update": (ALL_405, ALL_405),  # PUT only (test_api_designs)
    "api:design_assessment_get": (API_TEAM_READ, ALL_405),
    "api:design_file_get": (API_TEAM_READ, ALL_405),
    "api:design_file_import": (ALL_405, API_EMPTY_BODY),
    "api:design_kubernetes": (API_TEAM_READ, ALL_405),
    "api:design_assess": (ALL_405, API_EMPTY_BODY),
    "api:checklist_list": (API_SIGNED_IN, ALL_405),
    "api:checklist_export": (API_SIGNED_IN, ALL_405),  # published versions: anyone signed in
    "api:benchmark_list": (API_TEAM_READ, API_EMPTY_BODY),  # POST: benchmark_request
    "api:benchmark_request": (API_TEAM_READ, API_EMPTY_BODY),
    "api:benchmark_get": (API_TEAM_READ, ALL_405),
    "api:benchmark_result": (API_TEAM_READ, ALL_405),
    "api:milestone_list": (API_TEAM_READ, ALL_405),
    "api:milestone_get": (API_TEAM_READ, ALL_405),
    "api:report_list": (API_TEAM_READ, ALL_405),
    "api:report_get": (API_TEAM_READ, ALL_405),
    # personal API tokens (the world's token is the owner's: anyone else's revoke is a 404)
    "tokens:list": (SIGNED_IN, "302 400 400 400 400 400"),  # an empty form is refused
    "tokens:revoke": (NOT_ALLOWED, "302 404 404 404 302 404"),
}
OUTSIDE_THE_TEAM = ("anonymous", "outsider", "staff")


def test_every_named_url_has_a_row():
    missing = sorted(set(named_urls()) - set(ROWS))
    assert not missing, f"add a row for each to ROWS in {__file__}: {missing}"


def expected(cells: str) -> dict[str, int]:
    codes = [int(code) for code in cells.split()]
    assert len(codes) == len(PERSONAS)
    return dict(zip(PERSONAS, codes, strict=True))


@pytest.mark.parametrize("name", sorted(set(ROWS) & set(named_urls())))
def test_each_persona_gets_the_expected_status(db, settings, name):
    settings.HEALTHZ_TOKEN = ""
    world = build_world()
    url = world.url_for(name, named_urls()[name])
    get, post = ROWS[name]
    observed: dict[str, dict[str, int]] = {"GET": {}, "POST": {}}
    for method in ("GET", "POST"):
        for persona in PERSONAS:
            client = Client()
            if persona != "anonymous":
                client.force_login(world.users[persona])
            with transaction.atomic():
                response = client.generic(method, url)
                transaction.set_rollback(True)
            observed[method][persona] = response.status_code
            if persona in OUTSIDE_THE_TEAM and response.status_code == 200:
                assert world.design.name.encode() not in response.content, f"{method} {url} shows the design to {persona}"
    assert observed == {"GET": expected(get), "POST": expected(post)}, url
