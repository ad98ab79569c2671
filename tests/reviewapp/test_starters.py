"""Templates in the app: every shipped one can be started from; creating from one imports its
design file into the chosen team (and nowhere else); staff add their own in the admin, where a bad
line is refused by its number."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from engine.starters import shipped_starters
from reviewapp.checklists import services as checklist_services
from reviewapp.checklists.models import DesignReview
from reviewapp.designs.models import Design
from reviewapp.reviews.models import HistoryEvent
from reviewapp.starters.models import Starter

SHIPPED = shipped_starters()
RAG = next(s for s in SHIPPED if s.key == "rag-chat-self-hosted")
LIST_URL = reverse("starters:list")


@pytest.fixture
def default_published(db):
    """The shipped default checklist, published and the default (a new design is pinned to it)."""
    version, _created = checklist_services.default_checklist_load()
    return version


def use_url(key: str) -> str:
    return reverse("starters:use", args=[key])


def rows() -> tuple[int, int, int]:
    return Design.objects.count(), DesignReview.objects.count(), HistoryEvent.objects.count()


def test_the_new_design_page_offers_templates(client_for, member, team):
    page = client_for(member).get(reverse("designs:create"))
    assert f'href="{LIST_URL}"'.encode() in page.content
    listing = client_for(member).get(LIST_URL)
    assert listing.status_code == 200
    for starter in SHIPPED:
        assert starter.name.encode() in listing.content
        assert f'href="{use_url(starter.key)}"'.encode() in listing.content


@pytest.mark.parametrize("starter", SHIPPED, ids=lambda s: s.key)
def test_a_member_creates_a_design_from_each_shipped_template(client_for, member, team, starter, default_published):
    page = client_for(member).get(use_url(starter.key))
    assert page.status_code == 200 and b"Why these choices" in page.content
    response = client_for(member).post(use_url(starter.key), {"team": team.pk, "name": starter.name,
                                                                "description": starter.design.description})
    design = Design.objects.get()
    assert response.status_code == 302 and response.url == reverse("designs:detail", args=[design.pk])
    assert (design.team, design.name, design.created_by) == (team, starter.name, member)
    assert design.inputs == starter.design.inputs  # exactly the file's inputs, as an import stores them
    assert design.description == starter.design.description
    assert DesignReview.objects.get(design=design).version == default_published  # pinned like any new design
    assert HistoryEvent.objects.filter(design=design, kind="created").exists()


def test_the_name_and_description_can_be_changed(client_for, member, team):
    client_for(member).post(use_url(RAG.key), {"team": team.pk, "name": "Support bot", "description": "Ours."})
    design = Design.objects.get()
    assert (design.name, design.description, design.inputs) == ("Support bot", "Ours.", RAG.design.inputs)


def test_a_name_the_team_already_has_is_refused(client_for, member, team, design):
    before = rows()
    response = client_for(member).post(use_url(RAG.key), {"team": team.pk, "name": design.name.upper()})
    assert response.status_code == 400
    assert "already has a design named" in response.context["form"].errors["name"][0]
    assert rows() == before


def test_another_teams_id_is_refused(client_for, outsider, team):
    response = client_for(outsider).post(use_url(RAG.key), {"team": team.pk, "name": "Sneaky"})
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert not Design.objects.exists()


def test_a_user_in_no_team_is_refused(client, db):
    user = get_user_model().objects.create_user("loner", password="pw-for-tests-1")
    client.force_login(user)
    assert client.get(use_url(RAG.key)).status_code == 403
    assert client.post(use_url(RAG.key), {"name": "X"}).status_code == 403
    assert not Design.objects.exists()


def test_wrong_method_and_unknown_template(client_for, member, team):
    assert client_for(member).post(LIST_URL).status_code == 405
    assert client_for(member).put(use_url(RAG.key)).status_code == 405
    assert client_for(member).get(use_url("no-such-template")).status_code == 404


def test_anonymous_is_sent_to_log_in(client, team):
    response = client.post(use_url(RAG.key), {"team": team.pk, "name": "X"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not Design.objects.exists()


# --- staff-added templates ------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("admin", password="pw-for-tests-1"))
    return client


ADD_URL = reverse("admin:starters_starter_add")
OWN = RAG.text.replace("name: RAG chat on a self-hosted LLM", "name: Our RAG standard")


def test_staff_add_a_template_that_members_then_use(admin_client, client_for, member, team):
    response = admin_client.post(ADD_URL, {"key": "our-rag", "text": OWN, "is_active": "on", "position": 0})
    assert response.status_code == 302
    starter = Starter.objects.get()
    assert (starter.name, starter.description) == ("Our RAG standard", RAG.design.description)
    assert b"Our RAG standard" in client_for(member).get(LIST_URL).content
    client_for(member).post(use_url("our-rag"), {"team": team.pk, "name": "From ours"})
    assert Design.objects.get().inputs == RAG.design.inputs


def test_a_template_with_a_bad_line_is_refused_naming_the_line(admin_client):
    lines = OWN.splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if "latency_p99_ms:" in line)
    lines[number - 1] = "    latency_p99_ms: fast"
    response = admin_client.post(ADD_URL, {"key": "bad", "text": "\n".join(lines), "position": 0})
    assert response.status_code == 200  # the admin form again, with the error
    errors = " ".join(response.context["adminform"].form.errors["text"])
    assert "inputs.requirements.latency_p99_ms" in errors and f"(line {number})" in errors
    assert not Starter.objects.exists()


def test_a_shipped_key_cannot_be_taken(admin_client):
    response = admin_client.post(ADD_URL, {"key": RAG.key, "text": OWN, "position": 0})
    assert response.status_code == 200 and "key" in response.context["adminform"].form.errors
    assert not Starter.objects.exists()


def test_an_inactive_template_is_not_offered(client_for, member, team):
    Starter.objects.create(key="old", text=OWN, name="Retired one", is_active=False)
    assert b"Retired one" not in client_for(member).get(LIST_URL).content
    assert client_for(member).get(use_url("old")).status_code == 404
