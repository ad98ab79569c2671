from django.urls import reverse

from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:delete", args=[design.pk])


def test_it_redirects_anonymous_to_login(client, design):
    assert client.post(url(design)).status_code == 302
    assert Design.objects.filter(pk=design.pk).exists()


def test_owner_deletes(client_for, owner, design):
    response = client_for(owner).post(url(design))
    assert response.status_code == 302
    assert not Design.objects.filter(pk=design.pk).exists()


def test_owner_sees_confirmation_first(client_for, owner, design):
    response = client_for(owner).get(url(design))
    assert response.status_code == 200
    assert Design.objects.filter(pk=design.pk).exists()


def test_member_cannot_delete(client_for, member, design):
    assert client_for(member).post(url(design)).status_code == 403
    assert Design.objects.filter(pk=design.pk).exists()


def test_reviewer_cannot_delete(client_for, reviewer, design):
    assert client_for(reviewer).post(url(design)).status_code == 403
    assert Design.objects.filter(pk=design.pk).exists()


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).post(url(design)).status_code == 404
    assert Design.objects.filter(pk=design.pk).exists()


def test_it_rejects_put(client_for, owner, design):
    assert client_for(owner).put(url(design)).status_code == 405
