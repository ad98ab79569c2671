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


def test_owner_is_offered_delete_and_verdicts(client_for, owner, member, design):
    from reviewapp.reviews.services import review_request

    response = client_for(owner).get(url(design))
    assert reverse("designs:delete", args=[design.pk]).encode() in response.content
    assert b'value="approved"' not in response.content  # nothing to decide until a review is requested
    review_request(design=design, user=member, revision=design.revision)
    assert b'value="approved"' in client_for(owner).get(url(design)).content


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).get(url(design)).status_code == 404


def test_missing_design_is_404(client_for, member, design):
    assert client_for(member).get(reverse("designs:detail", args=[design.pk + 1000])).status_code == 404


def test_it_rejects_post(client_for, member, design):
    assert client_for(member).post(url(design)).status_code == 405


def test_it_shows_the_forms_numbers_and_findings_panel(client_for, member, design):
    from engine.design import example_design
    from reviewapp.designs.models import Design

    Design.objects.filter(pk=design.pk).update(inputs=example_design())
    response = client_for(member).get(url(design))
    html = response.content.decode()
    assert '<div id="design-forms">' in html
    assert 'name="requirements.latency_p99_ms"' in html and 'name="architecture.fallback_chain"' in html
    assert '<section id="design-numbers"' in html
    assert 'data-path="cost.monthly_usd.on_demand">$' in html
    assert "checklists/_panel.html" in [t.name for t in response.templates]
    assert reverse("designs:requirements_md", args=[design.pk]).encode() in response.content


def test_a_new_design_shows_the_form_with_defaults_and_no_numbers_yet(client_for, member, design):
    html = client_for(member).get(url(design)).content.decode()
    assert 'name="requirements.network_latency_ms" value="10"' in html
    assert 'data-path="capacity.replicas">—<' in html


def test_the_seeded_demo_shows_real_numbers_on_first_login(client, db):
    from django.core.management import call_command

    from reviewapp.designs.models import Design

    call_command("seed_demo")
    call_command("load_gpu_prices")
    demo = Design.objects.get(name="Support assistant (RAG chat)")
    client.post(reverse("login"), {"username": "demo", "password": "demo-review-2026"})  # through the login throttle
    response = client.get(url(demo))
    assert response.status_code == 200
    numbers = response.context["numbers"]
    assert numbers.input_errors == 0
    for path in ("traffic.peak_qps", "latency_budget.inference_budget_ms", "data_volume.ingest_gb_per_day",
                 "capacity.replicas", "cost.monthly_usd.mixed", "cost.per_1k_requests_usd.spot",
                 "cost.per_1m_tokens_usd.reserved_1y", "cost.build_vs_buy.api_monthly_usd"):
        assert numbers.facts.get(path) is not None, path
    missing = [key for key in numbers.facts.validation.missing]
    assert missing == [], missing
