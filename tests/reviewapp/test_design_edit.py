from django.urls import reverse

from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:edit", args=[design.pk])


def test_it_redirects_anonymous_to_login(client, design):
    response = client.post(url(design), {"name": "Hacked", "revision": 1})
    assert response.status_code == 302
    design.refresh_from_db()
    assert design.name == "Ranking service"


def test_member_edits_and_revision_moves_on(client_for, member, design):
    response = client_for(member).post(url(design), {"name": "Ranking v2", "description": "new", "revision": 1})
    assert response.status_code == 302
    design.refresh_from_db()
    assert (design.name, design.description, design.revision, design.updated_by) == (
        "Ranking v2", "new", 2, member,
    )


def test_stale_save_is_refused(client_for, member, owner, design):
    Design.objects.filter(pk=design.pk).update(name="Saved by someone else", revision=2)
    response = client_for(member).post(url(design), {"name": "Mine", "description": "", "revision": 1})
    assert response.status_code == 409
    assert "after you opened it" in response.content.decode()
    design.refresh_from_db()
    assert (design.name, design.revision) == ("Saved by someone else", 2)


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).post(url(design), {"name": "x", "revision": 1}).status_code == 404
    design.refresh_from_db()
    assert design.name == "Ranking service"


def test_bad_input_names_the_field(client_for, member, design):
    response = client_for(member).post(url(design), {"name": "", "revision": "zero"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "revision"}
    design.refresh_from_db()
    assert (design.name, design.revision) == ("Ranking service", 1)


def test_it_shows_the_form(client_for, member, design):
    response = client_for(member).get(url(design))
    assert response.status_code == 200
    assert b'name="revision" value="1"' in response.content


def test_it_rejects_delete_method(client_for, member, design):
    assert client_for(member).delete(url(design)).status_code == 405
