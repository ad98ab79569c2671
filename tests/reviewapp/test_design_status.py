from django.urls import reverse


def url(design):
    return reverse("designs:status", args=[design.pk])


def test_it_redirects_anonymous_to_login(client, design):
    assert client.post(url(design), {"status": "approved"}).status_code == 302
    design.refresh_from_db()
    assert design.status == "draft"


def test_member_submits_for_review(client_for, member, design):
    assert client_for(member).post(url(design), {"status": "in_review"}).status_code == 302
    design.refresh_from_db()
    assert design.status == "in_review"


def test_member_cannot_approve(client_for, member, design):
    assert client_for(member).post(url(design), {"status": "approved"}).status_code == 403
    design.refresh_from_db()
    assert design.status == "draft"


def test_reviewer_approves(client_for, reviewer, design):
    assert client_for(reviewer).post(url(design), {"status": "approved"}).status_code == 302
    design.refresh_from_db()
    assert (design.status, design.updated_by) == ("approved", reviewer)


def test_unknown_status_changes_nothing(client_for, owner, design):
    response = client_for(owner).post(url(design), {"status": "shipped"}, follow=True)
    assert b"Status: " in response.content
    design.refresh_from_db()
    assert design.status == "draft"


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).post(url(design), {"status": "in_review"}).status_code == 404


def test_it_rejects_get(client_for, owner, design):
    assert client_for(owner).get(url(design)).status_code == 405
