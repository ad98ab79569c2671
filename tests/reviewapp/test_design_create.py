import pytest
from django.urls import reverse

from reviewapp.designs.models import Design

URL = reverse("designs:create")


def test_it_redirects_anonymous_to_login(client, team):
    response = client.post(URL, {"team": team.pk, "name": "X"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Design.objects.exists()


def test_member_creates_a_design(client_for, member, team):
    response = client_for(member).post(URL, {"team": team.pk, "name": " Fraud scoring ", "description": "d"})
    design = Design.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("designs:detail", args=[design.pk])
    assert (design.name, design.team, design.created_by, design.status) == (
        "Fraud scoring", team, member, "draft",
    )


def test_it_offers_only_my_teams(client_for, member, team, other_team):
    response = client_for(member).get(URL)
    assert response.status_code == 200
    assert b"Search team" in response.content
    assert b"Other team" not in response.content


def test_outsider_cannot_create_in_our_team(client_for, outsider, team):
    response = client_for(outsider).post(URL, {"team": team.pk, "name": "Sneaky"})
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert not Design.objects.exists()


def test_it_names_the_field_on_bad_input(client_for, member, team):
    response = client_for(member).post(URL, {"team": team.pk, "name": "", "description": "x" * 6000})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "description"}
    assert not Design.objects.exists()


def test_it_refuses_a_duplicate_name_in_the_team(client_for, member, team, design):
    response = client_for(member).post(URL, {"team": team.pk, "name": "ranking SERVICE"})
    assert response.status_code == 400
    assert "already has a design" in response.context["form"].errors["name"][0]
    assert Design.objects.count() == 1


def test_it_handles_garbage_team_ids(client_for, member, team):
    for bad in ["abc", "-1", "99999999999999999999", ""]:
        response = client_for(member).post(URL, {"team": bad, "name": "n"})
        assert response.status_code == 400
    assert not Design.objects.exists()


def test_user_without_team_is_forbidden(client_for, django_user_model):
    loner = django_user_model.objects.create_user("loner", password="pw-for-tests-1")
    assert client_for(loner).get(URL).status_code == 403


def test_it_rejects_put(client_for, member):
    assert client_for(member).put(URL).status_code == 405


@pytest.mark.parametrize("name", ["Fraud\r\nBcc: all@example.com", "Fraud\nscoring", "Fraud\x00", "Fraud\x1b[2J", "Fraud\u2028scoring"])
def test_a_name_with_a_line_break_or_control_character_is_refused(client_for, member, team, name):
    response = client_for(member).post(URL, {"team": team.pk, "name": name, "description": "d"})
    assert response.status_code == 400
    assert any("control character U+" in m for m in response.context["form"].errors["name"])
    assert not Design.objects.exists()


def test_a_description_may_break_lines_but_not_hold_control_characters(client_for, member, team):
    client = client_for(member)
    response = client.post(URL, {"team": team.pk, "name": "Fraud", "description": "one\x07bell"})
    assert response.status_code == 400 and "U+0007" in response.context["form"].errors["description"][0]
    assert not Design.objects.exists()
    client.post(URL, {"team": team.pk, "name": "Fraud", "description": "line one\r\nline two"})
    assert Design.objects.get().description == "line one\r\nline two"
