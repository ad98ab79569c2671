"""A design's review status moves only through the review flow (reviewapp.reviews): a member
requests a review, a reviewer decides; the old free status dropdown is gone."""

from django.urls import reverse

from reviewapp.reviews.models import Decision


def request_url(design):
    return reverse("reviews:request", args=[design.pk])


def decide_url(design):
    return reverse("reviews:decide", args=[design.pk])


def status_of(design):
    design.refresh_from_db()
    return design.status


def submit(client, design):
    return client.post(request_url(design), {"revision": design.revision})


def test_it_redirects_anonymous_to_login(client, design):
    assert client.post(decide_url(design), {"outcome": "approved", "comment": "ok", "revision": 1}).status_code == 302
    assert submit(client, design).status_code == 302
    assert status_of(design) == "draft"


def test_the_old_status_url_is_gone(client_for, owner, design):
    assert client_for(owner).post(f"/designs/{design.pk}/status/", {"status": "approved"}).status_code == 404
    assert status_of(design) == "draft"


def test_member_submits_for_review(client_for, member, design):
    assert submit(client_for(member), design).status_code == 302
    assert status_of(design) == "in_review"


def test_member_cannot_approve(client_for, member, design):
    client = client_for(member)
    submit(client, design)
    response = client.post(decide_url(design), {"outcome": "approved", "comment": "ok", "revision": design.revision})
    assert response.status_code == 403
    assert status_of(design) == "in_review"


def test_reviewer_approves(client_for, member, reviewer, design):
    submit(client_for(member), design)
    response = client_for(reviewer).post(decide_url(design), {"outcome": "approved", "comment": "ok",
                                                              "revision": design.revision})
    assert response.status_code == 302
    assert status_of(design) == "approved"
    assert Decision.objects.get(design=design).decided_by == reviewer


def test_unknown_outcome_changes_nothing(client_for, member, owner, design):
    submit(client_for(member), design)
    response = client_for(owner).post(decide_url(design), {"outcome": "shipped", "comment": "x", "revision": design.revision})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert status_of(design) == "in_review" and not Decision.objects.exists()


def test_outsider_gets_404(client_for, outsider, design):
    assert submit(client_for(outsider), design).status_code == 404
    assert status_of(design) == "draft"


def test_it_rejects_get_on_withdraw(client_for, owner, design):
    assert client_for(owner).get(reverse("reviews:withdraw", args=[design.pk])).status_code == 405
