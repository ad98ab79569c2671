"""Redrawing the form as choices change: fields that do not apply disappear, server-rendered."""

import re

from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:inputs_form", args=[design.pk])


def shown(html: str, key: str) -> bool:
    match = re.search(rf'<div class="field[^"]*" id="[^"]+" data-key="{re.escape(key)}"([^>]*)>', html)
    assert match, f"{key} is not in the form"
    return " hidden" not in match.group(1)


def redraw(client, design, **changes):
    data = form_data(example_design(), revision=design.revision)
    data.update(changes)
    response = client.post(url(design), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_batch_delay_only_with_dynamic_batching(client_for, member, design):
    client = client_for(member)
    assert not shown(redraw(client, design, **{"architecture.batching_mode": "continuous"}), "architecture.max_batch_delay_ms")
    html = redraw(client, design, **{"architecture.batching_mode": "dynamic"})
    assert shown(html, "architecture.max_batch_delay_ms")
    assert html.lstrip().startswith('<form id="design-form"')


def test_token_fields_only_for_generative_workloads(client_for, member, design):
    client = client_for(member)
    generative = redraw(client, design, **{"requirements.workload_type": "generative"})
    classify = redraw(client, design, **{"requirements.workload_type": "classify"})
    for key in ("requirements.time_to_first_token_ms", "requirements.output_tokens_per_request",
                "architecture.api_price_per_1m_output_tokens_usd"):
        assert shown(generative, key) and not shown(classify, key), key


def test_cache_hit_rates_follow_the_chosen_caches(client_for, member, design):
    html = redraw(client_for(member), design, **{"architecture.caches": ["result"]})
    assert shown(html, "architecture.result_cache_hit_rate_pct")
    assert not shown(html, "architecture.prompt_cache_hit_rate_pct")


def test_controlling_fields_redraw_the_form(client_for, member, design):
    html = redraw(client_for(member), design)
    controlling = re.search(r'data-key="architecture.batching_mode"\s*hx-post="([^"]+)" hx-trigger="change" '
                            r'hx-target="#design-form"', html)
    assert controlling and controlling.group(1) == url(design)
    assert 'data-key="requirements.latency_p99_ms">' in html  # plain fields do not redraw


def test_it_shows_errors_inline_and_saves_nothing(client_for, member, design):
    before = Design.objects.filter(pk=design.pk).values().get()
    html = redraw(client_for(member), design, **{"architecture.max_replicas": "-1"})
    assert re.search(r'id="f-architecture-max-replicas-errors"><li>Must be at least 0', html)
    assert Design.objects.filter(pk=design.pk).values().get() == before


def test_it_redirects_anonymous_to_login(client, design):
    assert client.post(url(design), {}).status_code == 302


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).post(url(design), {}).status_code == 404


def test_it_rejects_get(client_for, member, design):
    assert client_for(member).get(url(design)).status_code == 405
