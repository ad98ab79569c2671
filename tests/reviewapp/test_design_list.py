from django.urls import reverse

from reviewapp.designs.models import Design


def test_it_redirects_anonymous_to_login(client, design):
    response = client.get(reverse("designs:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_lists_only_my_teams_designs(client_for, member, design, other_team, outsider):
    Design.objects.create(team=other_team, name="Secret fraud model")
    response = client_for(member).get(reverse("designs:list"))
    assert response.status_code == 200
    assert b"Ranking service" in response.content
    assert b"Secret fraud model" not in response.content


def test_outsider_sees_none_of_our_designs(client_for, outsider, design):
    response = client_for(outsider).get(reverse("designs:list"))
    assert response.status_code == 200
    assert b"Ranking service" not in response.content


def test_it_rejects_post(client_for, member, design):
    assert client_for(member).post(reverse("designs:list")).status_code == 405


def test_root_redirects_to_list(client_for, member):
    response = client_for(member).get("/")
    assert response.status_code == 302
    assert response.url == reverse("designs:list")
