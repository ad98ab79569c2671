"""Saving the requirements and architecture: atomic, validated by the engine, no lost updates."""

import pytest
from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:inputs", args=[design.pk])


def post_data(document=None, revision=1, **changes):
    data = form_data(document or example_design(), revision=revision)
    data.update(changes)
    return data


def row(design):
    return Design.objects.filter(pk=design.pk).values("inputs", "revision", "updated_by").get()


def test_it_redirects_anonymous_to_login(client, design):
    before = row(design)
    response = client.post(url(design), post_data())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert row(design) == before


def test_member_saves_and_revision_moves_on(client_for, member, design):
    response = client_for(member).post(url(design), post_data())
    assert response.status_code == 302
    assert response.url == reverse("designs:detail", args=[design.pk]) + "#design-forms"
    design.refresh_from_db()
    assert design.revision == 2
    assert design.updated_by == member
    assert design.inputs == example_design()


def test_saved_values_are_normalised_by_the_engine(client_for, member, design):
    # Hidden fields are cleared; numbers with separators are typed.
    data = post_data(**{
        "architecture.batching_mode": "none",
        "architecture.max_batch_size": "128",
        "requirements.daily_active_users": "1_000_000",
        "requirements.regions": "us-east-1,\neu-west-1",
    })
    assert client_for(member).post(url(design), data).status_code == 302
    design.refresh_from_db()
    assert design.inputs["architecture"]["max_batch_size"] is None
    assert design.inputs["requirements"]["daily_active_users"] == 1_000_000
    assert design.inputs["requirements"]["regions"] == ["us-east-1", "eu-west-1"]


def test_fallback_chain_keeps_its_order(client_for, member, design):
    data = post_data(**{"architecture.fallback_chain": ["cache", "", "rules", "smaller_model"]})
    assert client_for(member).post(url(design), data).status_code == 302
    design.refresh_from_db()
    assert design.inputs["architecture"]["fallback_chain"] == ["cache", "rules", "smaller_model"]


def test_invalid_field_is_refused_with_its_error_and_nothing_changes(client_for, member, design):
    before = row(design)
    response = client_for(member).post(url(design), post_data(**{"requirements.latency_p99_ms": "-5"}))
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["requirements.latency_p99_ms"]
    assert "at least" in form.errors["requirements.latency_p99_ms"][0]
    assert b'id="f-requirements-latency-p99-ms-errors"><li>' in response.content
    assert row(design) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"requirements.latency_p50_ms": "500", "requirements.latency_p95_ms": "400"}, "requirements.latency_p95_ms"),
        ({"requirements.average_qps": "100", "requirements.peak_qps": "50"}, "requirements.peak_qps"),
        ({"architecture.min_replicas": "9", "architecture.max_replicas": "3"}, "architecture.min_replicas"),
        ({"architecture.reserved_share_pct": "80", "architecture.spot_share_pct": "40"}, "architecture.spot_share_pct"),
    ],
)
def test_cross_field_errors_name_the_field(client_for, member, design, changes, field):
    before = row(design)
    response = client_for(member).post(url(design), post_data(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert row(design) == before


def test_stale_save_is_refused_and_theirs_survives(client_for, member, owner, design):
    theirs = example_design()
    theirs["requirements"]["peak_qps"] = 99.0
    Design.objects.filter(pk=design.pk).update(inputs=theirs, revision=2, updated_by=owner)
    response = client_for(member).post(url(design), post_data(revision=1))
    assert response.status_code == 409
    assert "after you opened it" in response.content.decode()
    design.refresh_from_db()
    assert (design.inputs, design.revision, design.updated_by) == (theirs, 2, owner)


def test_missing_revision_is_refused(client_for, member, design):
    before = row(design)
    data = post_data()
    del data["revision"]
    response = client_for(member).post(url(design), data)
    assert response.status_code == 400
    assert "revision" in response.context["form"].errors
    assert "reload the page" in response.content.decode()
    assert row(design) == before


def test_unknown_key_is_refused(client_for, member, design):
    before = row(design)
    response = client_for(member).post(url(design), post_data(**{"requirements.evil": "1"}))
    assert response.status_code == 400
    assert "Unknown field: requirements.evil (not part of a design)" in response.content.decode()
    assert row(design) == before


def test_outsider_gets_404(client_for, outsider, design):
    before = row(design)
    assert client_for(outsider).post(url(design), post_data()).status_code == 404
    assert row(design) == before


@pytest.mark.parametrize("persona", ["reviewer", "owner"])
def test_every_role_may_edit(client_for, request, design, persona):
    user = request.getfixturevalue(persona)
    assert client_for(user).post(url(design), post_data()).status_code == 302
    assert row(design)["updated_by"] == user.pk


def test_it_rejects_get(client_for, member, design):
    assert client_for(member).get(url(design)).status_code == 405
