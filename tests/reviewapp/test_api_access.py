"""Who may use the API: every endpoint x persona with personal tokens (no token 401, another
team's design 404, the roles of the pages), writes by outsiders change nothing, revoked, expired
and malformed tokens are refused, tokens are stored only as digests, and the token page."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from engine.design import example_design

from reviewapp.api.models import ApiToken
from reviewapp.api.tokens import LAST_USED_RESOLUTION, api_token_create, api_token_revoke, api_token_user
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.designs.models import Design
from tests.reviewapp.api_fixtures import API, ApiClient, assert_problem, bearer, token_for
from tests.reviewapp.benchmark_fixtures import make_run

PERSONAS = ("anonymous", "outsider", "member", "reviewer", "owner", "staff")
#            anon out mem rev own staff
TEAM_READ = "401 404 200 200 200 404"
SIGNED_IN = "401 200 200 200 200 200"


@pytest.fixture
def world(team, other_team, owner, reviewer, member, outsider, django_user_model):
    from reviewapp.checklists import services as checklists
    from reviewapp.checklists.models import Checklist
    from reviewapp.reports.models import Report
    from reviewapp.reviews import services as reviews
    from tests.reviewapp.checklist_fixtures import sample

    staff = django_user_model.objects.create_user("stella", password="pw-for-tests-1", is_staff=True)
    version = checklists.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    design = Design.objects.create(team=team, name="Ranking service", inputs=example_design(), created_by=owner)
    run = make_run(design)
    milestone = reviews.milestone_create(design=design, user=owner, name="Baseline")
    report = Report.objects.create(design=design, milestone=milestone, requested_by=owner)
    users = {"outsider": outsider, "member": member, "reviewer": reviewer, "owner": owner, "staff": staff}
    return {"design": design, "run": run, "milestone": milestone, "report": report, "version": version,
            "clients": {p: ApiClient(Client(), token_for(users[p]) if p in users else None) for p in PERSONAS}}


def reads(w):
    d = w["design"].pk
    return {
        "/teams": SIGNED_IN,
        "/designs": SIGNED_IN,
        "/checklists": SIGNED_IN,
        f"/checklists/{w['version'].pk}/export": SIGNED_IN,
        f"/checklists/{w['version'].pk}/export?format=aws-lens": SIGNED_IN,
        f"/designs/{d}": TEAM_READ,
        f"/designs/{d}/assessment": TEAM_READ,
        f"/designs/{d}/designfile": TEAM_READ,
        f"/designs/{d}/kubernetes": TEAM_READ,
        f"/designs/{d}/benchmarks": TEAM_READ,
        f"/designs/{d}/benchmarks/{w['run'].pk}": TEAM_READ,
        f"/designs/{d}/benchmarks/{w['run'].pk}/result": TEAM_READ,
        f"/designs/{d}/milestones": TEAM_READ,
        f"/designs/{d}/milestones/{w['milestone'].number}": TEAM_READ,
        f"/designs/{d}/reports": TEAM_READ,
        f"/designs/{d}/reports/{w['report'].pk}": TEAM_READ,
    }


def test_each_read_endpoint_answers_each_persona_as_its_role_allows(world):
    observed, wanted = {}, {}
    for path, cells in reads(world).items():
        wanted[path] = cells
        observed[path] = " ".join(str(world["clients"][p].get(path).status_code) for p in PERSONAS)
    assert observed == wanted


def test_another_teams_design_is_not_shown_in_any_list(world):
    for persona in ("outsider", "staff"):
        assert world["clients"][persona].get("/designs").json() == []
        body = world["clients"][persona].get("/teams").content.decode()
        assert world["design"].team.name not in body


def test_an_outsiders_token_cannot_write_and_nothing_changes(world):
    design, client = world["design"], world["clients"]["outsider"]
    before = (design.revision, design.inputs)
    d = design.pk
    assert_problem(client.put(f"/designs/{d}/inputs", {"requirements": {"peak_qps": 5}}, HTTP_IF_MATCH='"1"'), 404)
    assert_problem(client.post(f"/designs/{d}/assess", {}), 404)
    assert_problem(client.post(f"/designs/{d}/benchmarks", {"preset": "quick"}), 404)
    # naming the other team's id when creating: refused by name, nothing created
    assert_problem(client.post("/designs", {"team": design.team_id, "name": "Planted"}), 400, "team")
    design.refresh_from_db()
    assert (design.revision, design.inputs) == before
    assert BenchmarkRun.objects.count() == 1 and not Design.objects.filter(name="Planted").exists()


def test_without_a_token_every_endpoint_is_401_with_a_problem_and_www_authenticate(world):
    client = world["clients"]["anonymous"]
    for path in reads(world):
        response = client.get(path)
        assert_problem(response, 401)
        assert response["WWW-Authenticate"] == "Bearer"
    d = world["design"].pk
    assert_problem(client.put(f"/designs/{d}/inputs", {}, HTTP_IF_MATCH='"1"'), 401)
    assert_problem(client.post(f"/designs/{d}/assess", {}), 401)
    assert_problem(client.post("/designs", {"team": world["design"].team_id, "name": "x"}), 401)


def test_a_token_grants_no_more_than_its_users_role(world):
    """A member's token may run the derived benchmark but not adjust it (the pages' rule)."""
    d = world["design"].pk
    response = world["clients"]["member"].post(f"/designs/{d}/benchmarks", {"preset": "quick", "queries": 500})
    assert_problem(response, 403)
    assert BenchmarkRun.objects.count() == 1


@pytest.mark.parametrize("state", ["revoked", "expired", "user inactive", "wrong secret", "malformed", "unknown"])
def test_an_unusable_token_is_refused(client, member, design, state):
    new = api_token_create(user=member, name="ci")
    raw = new.raw
    if state == "revoked":
        assert api_token_revoke(token=new.token)
    elif state == "expired":
        ApiToken.objects.filter(pk=new.token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif state == "user inactive":
        member.is_active = False
        member.save(update_fields=["is_active"])
    elif state == "wrong secret":
        raw = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")
    elif state == "malformed":
        raw = "not-a-token"
    elif state == "unknown":
        raw = "adr_000000000000_" + raw.split("_", 2)[2]
    response = client.get(f"{API}/designs/{design.pk}", **bearer(raw))
    assert_problem(response, 401)


def test_a_valid_token_works_and_the_same_token_after_revocation_does_not(client, member, design):
    new = api_token_create(user=member, name="ci")
    assert client.get(f"{API}/designs/{design.pk}", **bearer(new.raw)).status_code == 200
    api_token_revoke(token=new.token)
    assert_problem(client.get(f"{API}/designs/{design.pk}", **bearer(new.raw)), 401)


def test_tokens_are_not_stored_in_clear(member):
    new = api_token_create(user=member, name="ci")
    row = ApiToken.objects.filter(pk=new.token.pk).values().get()
    secret = new.raw.split("_", 2)[2]
    for column, value in row.items():
        assert new.raw not in str(value) and secret not in str(value), column
    assert len(row["secret_sha256"]) == 64 and row["prefix"] in new.raw


def test_tokens_with_underscores_and_dashes_in_the_secret_work(member, monkeypatch):
    import secrets as secrets_module

    monkeypatch.setattr(secrets_module, "token_urlsafe", lambda n: "a_b-c_d" * 6)
    new = api_token_create(user=member, name="ci")
    assert api_token_user(new.raw) == member


def test_last_used_is_written_at_most_once_a_minute(member):
    new = api_token_create(user=member, name="ci")
    now = timezone.now()
    api_token_user(new.raw, now=now)
    api_token_user(new.raw, now=now + LAST_USED_RESOLUTION / 2)
    new.token.refresh_from_db()
    assert new.token.last_used_at == now
    later = now + LAST_USED_RESOLUTION
    api_token_user(new.raw, now=later)
    new.token.refresh_from_db()
    assert new.token.last_used_at == later


# --- the session (the browser) -----------------------------------------------------------------

def test_a_session_reads_and_a_write_needs_the_csrf_token(member, design):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get(f"{API}/designs/{design.pk}").status_code == 200
    body = '{"requirements": {}, "architecture": {}}'
    response = client.put(f"{API}/designs/{design.pk}/inputs", body, content_type="application/json",
                          HTTP_IF_MATCH='"1"')
    assert_problem(response, 403)
    design.refresh_from_db()
    assert design.revision == 1
    client.get("/designs/")  # sets the CSRF cookie, as any page does
    token = client.cookies["csrftoken"].value
    response = client.put(f"{API}/designs/{design.pk}/inputs", body, content_type="application/json",
                          HTTP_IF_MATCH='"1"', HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    design.refresh_from_db()
    assert design.revision == 2


def test_a_token_needs_no_csrf_token(member, design):
    client = Client(enforce_csrf_checks=True)
    response = client.put(f"{API}/designs/{design.pk}/inputs", '{}', content_type="application/json",
                          HTTP_IF_MATCH='"1"', **bearer(token_for(member)))
    assert response.status_code == 200


# --- the tokens page ---------------------------------------------------------------------------

def test_the_tokens_page_shows_a_new_token_once_and_stores_its_digest(client_for, member):
    client = client_for(member)
    response = client.post("/api/tokens/", {"name": "CI of the search repo", "expires_in_days": "30"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = response.context["created"].raw
    assert raw in response.content.decode()
    token = ApiToken.objects.get(user=member)
    assert token.name == "CI of the search repo" and token.expires_at > timezone.now() + dt.timedelta(days=29)
    assert raw not in client.get("/api/tokens/").content.decode()  # never shown again
    assert api_token_user(raw) == member


def test_a_token_without_a_name_is_refused_and_nothing_is_created(client_for, member):
    response = client_for(member).post("/api/tokens/", {"name": "  ", "expires_in_days": "-1"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_revoking_from_the_page_stops_the_token(client_for, member, design):
    new = api_token_create(user=member, name="ci")
    response = client_for(member).post(f"/api/tokens/{new.token.pk}/revoke/")
    assert response.status_code == 302
    new.token.refresh_from_db()
    assert new.token.revoked_at is not None
    assert_problem(Client().get(f"{API}/designs/{design.pk}", **bearer(new.raw)), 401)


def test_nobody_can_revoke_another_users_token(client_for, member, outsider):
    new = api_token_create(user=member, name="ci")
    assert client_for(outsider).post(f"/api/tokens/{new.token.pk}/revoke/").status_code == 404
    new.token.refresh_from_db()
    assert new.token.revoked_at is None


def test_the_tokens_page_lists_only_the_users_tokens(client_for, member, outsider):
    api_token_create(user=outsider, name="outsider's secret job")
    api_token_create(user=member, name="mine")
    body = client_for(member).get("/api/tokens/").content.decode()
    assert "mine" in body and "outsider&#x27;s secret job" not in body and "outsider's secret job" not in body


def test_the_nav_links_to_the_tokens_page(client_for, member):
    assert 'href="/api/tokens/"' in client_for(member).get("/designs/").content.decode()


def test_a_token_name_with_a_line_break_is_refused_and_nothing_is_created(client_for, member):
    response = client_for(member).post("/api/tokens/", {"name": "CI\nof search", "expires_in_days": "30"})
    assert response.status_code == 400 and "control character U+000A" in response.content.decode()
    assert not ApiToken.objects.exists()
