from django.urls import reverse


def url(design):
    return reverse("designs:detail", args=[design.pk])


def test_it_redirects_anonymous_to_login(client, design):
    response = client.get(url(design))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_member_reads(client_for, member, design):
    response = client_for(member).get(url(design))
    assert response.status_code == 200
    assert b"Ranking service" in response.content
    # A member is not offered the owner's delete or the reviewer's verdicts.
    assert reverse("designs:delete", args=[design.pk]).encode() not in response.content
    assert b'value="approved"' not in response.content


def test_owner_is_offered_delete_and_verdicts(client_for, owner, design):
    response = client_for(owner).get(url(design))
    assert reverse("designs:delete", args=[design.pk]).encode() in response.content
    assert b'value="approved"' in response.content


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).get(url(design)).status_code == 404


def test_missing_design_is_404(client_for, member, design):
    assert client_for(member).get(reverse("designs:detail", args=[design.pk + 1000])).status_code == 404


def test_it_rejects_post(client_for, member, design):
    assert client_for(member).post(url(design)).status_code == 405
