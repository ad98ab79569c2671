"""Explained numbers and honest blanks on the design page (issue 12): each number opens its
definition, formula with the design's values and provenance on demand; the panel says which
numbers it could not compute and why; batch designs show their job; the methodology page is the
same text as docs/facts.md."""

import html as html_lib
import re
from pathlib import Path

import pytest
from django.urls import reverse

from engine.design import example_design
from engine.facts.methodology import methodology, plain_text
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design, GpuPrice

HX = {"HTTP_HX_REQUEST": "true"}
ROOT = Path(__file__).resolve().parents[2]
BATCH = {
    "requirements": {"use_case": "Score every product image nightly for moderation.", "workload_timing": "batch",
                     "workload_type": "classify", "records_per_run": 36_000_000, "runs_per_day": 1,
                     "processing_window_h": 5, "deadline_h": 8, "record_size_kb": 200,
                     "model_family": "vision", "model_params_billions": 0.3, "input_tokens_per_request": 256},
    "architecture": {"gpu_type": "l4-24gb", "batching_mode": "dynamic", "max_batch_size": 64,
                     "autoscaling_signal": "queue_depth", "pricing_model": "spot", "inference_mode": "sync"},
}


def number_url(design, path="capacity.replicas"):
    return reverse("designs:number", args=[design.pk, path])


@pytest.fixture
def demo(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


# --- the explanation view ---------------------------------------------------------------------

def test_it_redirects_anonymous_to_login(client, demo):
    assert client.get(number_url(demo)).status_code == 302


def test_an_outsider_gets_404(client_for, outsider, demo):
    assert client_for(outsider).get(number_url(demo)).status_code == 404
    assert client_for(outsider).post(number_url(demo), **HX).status_code == 404


def test_the_wrong_method_is_405(client_for, member, demo):
    assert client_for(member).put(number_url(demo)).status_code == 405


def test_an_unknown_number_is_404(client_for, member, demo):
    assert client_for(member).get(number_url(demo, "capacity.nope")).status_code == 404


def test_a_member_reads_a_numbers_definition_formula_and_provenance(client_for, member, demo):
    response = client_for(member).get(number_url(demo, "capacity.replicas_for_load"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>" in page and demo.name in page  # its own page, for links and no JavaScript
    assert "before redundancy" in page  # the definition
    assert "ceil(<code>capacity.model_peak_qps</code> ÷ (<code>capacity.per_replica_qps</code>" in page
    # With the demo's values: 70 x 0.85 x 0.7 = 41.65 req/s at the model, 34.3 req/s a replica, 70 %.
    assert re.search(r"ceil\(41\.6 ÷ \(34\.3 × 70 %\)\) = <strong>2 replicas</strong>", page), page
    assert '<span class="prov estimated">estimated</span>' in page
    assert "<code>capacity.target_utilisation_pct</code>" in page  # what it reads, with provenance


def test_the_panel_loads_it_with_the_unsaved_values_and_saves_nothing(client_for, member, demo):
    data = form_data(example_design(), revision=demo.revision)
    data["requirements.peak_qps"] = "140"  # double the saved peak
    response = client_for(member).post(number_url(demo, "traffic.peak_qps"), data, **HX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div class="number-explain"')  # replaces the row's placeholder
    assert "= <strong>140 req/s</strong>" in fragment and "saved or not" in fragment
    assert Design.objects.get(pk=demo.pk).inputs == example_design()


def test_a_cost_row_explains_its_price_and_unit_costs_together(client_for, member, demo):
    page = client_for(member).get(number_url(demo, "cost.monthly_usd.spot")).content.decode()
    for path in ("cost.hourly_usd.spot", "cost.monthly_usd.spot", "cost.per_1k_requests_usd.spot",
                 "cost.per_1m_tokens_usd.spot"):
        assert f'data-path="{path}"' in page, path
    assert "The GPU catalog&#x27;s price for the chosen accelerator." in page


def test_a_blank_number_names_the_field_it_waits_for(client_for, member, design):
    page = client_for(member).get(number_url(design, "capacity.replicas")).content.decode()
    assert "Not computed: it waits for" in page and "<strong>Parameter count</strong> (blank)" in page


# --- the panel ----------------------------------------------------------------------------------

def test_every_panel_row_opens_its_explanation_on_demand(client_for, member, demo):
    page = client_for(member).get(reverse("designs:detail", args=[demo.pk])).content.decode()
    url = number_url(demo, "capacity.replicas")
    assert f'<details hx-post="{url}" hx-trigger="toggle once"><summary>Replicas at peak</summary>' in page
    assert f'<a href="{url}">How it is computed</a>' in page  # without JavaScript: a link
    assert 'hx-target="find .number-explain"' in page
    assert page.count('class="number-explain"') >= 30  # every row of the panel, the cost rows too
    assert "ceil(" not in page  # formulas load on demand: the page stays light


def test_the_cached_panel_never_shows_another_designs_links(client_for, member, team, demo, owner):
    twin = Design.objects.create(team=team, name="Twin", inputs=example_design(), created_by=owner)
    client = client_for(member)
    client.get(reverse("designs:detail", args=[demo.pk]))
    page = client.get(reverse("designs:detail", args=[twin.pk])).content.decode()
    assert number_url(twin) in page and number_url(demo) not in page


def test_an_invalid_field_is_left_out_and_the_panel_says_what_it_could_not_compute(client_for, member, demo):
    data = form_data(example_design(), revision=demo.revision)
    data["requirements.latency_p99_ms"] = "2000"  # below the P95 of 6000 ms: invalid
    response = client_for(member).post(reverse("designs:inputs_preview", args=[demo.pk]), data, **HX)
    page = html_lib.unescape(response.content.decode())
    assert "1 field to fix: while invalid, it is left out of every calculation, so these numbers are not " \
           "computed: P99 budget, Left for the model, Model share of P99" in page
    assert 'data-path="latency_budget.p99_budget_ms">—<' in page  # not computed with the bad 2000 ms
    assert "P99 latency is invalid (must be at least the P95 latency (6000 ms))" in page
    assert 'data-testid="not-computed" open' in page


def test_the_cost_caption_names_the_chosen_gpu_and_its_price_date(client_for, member, demo):
    from django.core.management import call_command

    call_command("load_gpu_prices")
    GpuPrice.objects.filter(key="a100-80gb").update(as_of="2026-11-01")  # another GPU, priced later
    page = client_for(member).get(reverse("designs:detail", args=[demo.pk])).content.decode()
    assert "(NVIDIA H100 80GB SXM, catalog prices of 2025-06-01)" in page
    assert "h100-80gb, prices of" not in page and "2026-11-01" not in page


def test_a_negotiated_price_is_used_and_shown_as_entered(client_for, member, demo):
    document = example_design()
    document["architecture"].update(negotiated_prices=True, negotiated_spot_usd_per_hour=1.25)
    response = client_for(member).post(reverse("designs:inputs_preview", args=[demo.pk]),
                                       form_data(document, revision=demo.revision), **HX)
    page = response.content.decode()
    assert re.search(r'data-path="cost.hourly_usd.spot">\$1.25 <span class="prov entered" title="negotiated', page)
    assert "negotiated prices entered for this design" in page
    numbers = response.context["numbers"]
    assert numbers.facts.get("cost.hourly_usd.spot") == 1.25 and numbers.facts.get("cost.hourly_usd.on_demand") == 3.93


def test_a_batch_design_shows_its_job_first(client_for, member, demo):
    import json

    from reviewapp.checklists import services
    from reviewapp.checklists.models import Checklist

    shipped = json.loads((ROOT / "engine" / "data" / "default_checklist.json").read_text())
    version = services.checklist_import(data=shipped, publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    response = client_for(member).post(reverse("designs:inputs_preview", args=[demo.pk]),
                                       form_data(BATCH, revision=demo.revision), **HX)
    page = response.content.decode()
    assert page.index("<caption>Batch job</caption>") < page.index("<caption>Traffic</caption>")
    assert "<caption>Latency budget</caption>" not in page  # a batch job is sized by its window
    assert re.search(r'data-path="batch.job_duration_h">[\d.]+<', page)
    assert re.search(r'data-path="batch.cost_per_run_usd.selected">\$[\d.,]+<', page)
    assert "<th scope=\"col\" class=\"num\">$/run</th>" in page
    # The fit section's serving-mode rule fires: a nightly job on a synchronous endpoint.
    assert 'id="finding-fit_serving_mode_timing" data-outcome="fail"' in page


def test_a_streaming_design_counts_events_not_requests(client_for, member, demo):
    """A stream's rates read as events/s in the panel, not as QPS in req/s (issue 27, item 6)."""
    stream = {"requirements": {"workload_timing": "streaming", "events_per_second": 100, "allowed_lag_s": 2},
              "architecture": {"gpu_type": "h100-80gb"}}
    response = client_for(member).post(reverse("designs:inputs_preview", args=[demo.pk]),
                                       form_data(stream, revision=demo.revision), **HX)
    page = response.content.decode()
    panel = page[page.index("<caption>Stream</caption>"):page.index("<caption>Capacity</caption>") + 3000]
    # What a row shows (its label and unit); the tooltips keep the fact reference's definitions.
    shown = re.sub(r' title="[^"]*"', "", panel)
    assert "QPS" not in shown and "req/s" not in shown
    for path in ("traffic.peak_qps", "capacity.per_replica_qps", "capacity.model_peak_qps"):
        assert re.search(rf'data-path="{re.escape(path)}">[^<]*</td><td class="unit">events/s</td>', page), path


def test_the_snapshot_keeps_what_the_panel_could_not_compute(client_for, member, design):
    from reviewapp.designs.selectors import design_assessment
    from reviewapp.designs.snapshot import numbers_document

    document = numbers_document(design_assessment(design).numbers)
    assert document["shape"] == "online"
    assert {"path": "capacity.replicas", "label": "Replicas at peak", "invalid": False} == {
        k: v for k, v in next(n for n in document["not_computed"] if n["path"] == "capacity.replicas").items()
        if k != "reason"}


# --- the methodology page ------------------------------------------------------------------------

def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_methodology_page_says_what_docs_facts_md_says(client_for, outsider):
    response = client_for(outsider).get(reverse("designs:methodology"))  # any signed-in user
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index(">", page.index('data-testid="methodology"')) + 1
    body = page[start:page.index("</div>", start)]
    inline_tags_dropped = re.sub(r"</?(code|strong)>", "", body)
    page_text = _normalise(html_lib.unescape(re.sub(r"<[^>]+>", " ", inline_tags_dropped)))
    markdown = (ROOT / "docs" / "facts.md").read_text()
    docs = markdown[markdown.index(f"## {methodology()[0].title}"):]
    docs_text = _normalise(re.sub(r"^#+ |^\* ", "", docs.replace("**", "").replace("`", ""), flags=re.M))
    assert page_text == docs_text
    for chapter in methodology():
        assert f'<section id="{chapter.key}">' in page and chapter.title in page_text
    first_bullet = next(b for b in methodology()[0].blocks if isinstance(b, tuple))[0]
    assert plain_text(first_bullet) in page_text


def test_the_design_page_links_to_the_methodology(client_for, member, demo):
    page = client_for(member).get(reverse("designs:detail", args=[demo.pk])).content.decode()
    assert reverse("designs:methodology") in page


def test_the_methodology_page_rejects_post(client_for, member):
    assert client_for(member).post(reverse("designs:methodology")).status_code == 405


def test_a_number_row_written_once_is_not_reused_for_an_equal_value_of_another_type():
    from reviewapp.designs.assessment import Number

    as_int = Number("x.count", "Count", 1, None, "derived", "How many")
    as_bool = Number("x.count", "Count", True, None, "derived", "How many")
    assert as_int == as_bool  # as Python sees them
    assert ">1</td>" in as_int.row("") and ">yes</td>" in as_bool.row("")
    assert ">1</td>" in as_int.row("") and as_int.row("/designs/1/numbers/") != as_int.row("")
    unhashable = Number("x.list", "List", [1, 2], None, "derived", "")
    assert unhashable.row("") == unhashable.row("")


# --- a design that cannot run as designed (issue 25) ------------------------------------------

def test_the_panel_says_cannot_run_as_designed_once_and_shows_no_fleet_or_cost(client_for, member, design):
    inputs = example_design()
    inputs["requirements"].update(model_params_billions=70.0, model_layers=80)
    inputs["architecture"].update(gpu_type="l4-24gb", quantization="none")
    design.inputs = inputs
    design.save(update_fields=["inputs"])
    response = client_for(member).get(reverse("designs:detail", args=[design.pk]))
    page = response.content.decode()
    numbers = response.context["numbers"]
    assert numbers.cannot_run.startswith("Cannot run as designed: the weights (140.0 GB in bf16)")
    assert page.count('data-testid="cannot-run"') == 1
    assert page.count("Cannot run as designed") == 2  # the banner and its one warning, not one per number
    assert "No cost: the design cannot run as designed." in page
    assert re.search(r'data-path="capacity.replicas">—<', page)
    assert re.search(r'data-path="cost.monthly_usd.selected">—<', page) or \
        numbers.facts.get("cost.monthly_usd.selected") is None
    not_computed = {n.path: n.reason for n in numbers.not_computed}
    assert not_computed["capacity.replicas"].startswith("cannot run as designed: the weights")
    # the stored design is what was shown: a GET writes nothing
    design.refresh_from_db()
    assert design.inputs["architecture"]["gpu_type"] == "l4-24gb"


def test_a_design_that_runs_has_no_cannot_run_banner(client_for, member, demo):
    page = client_for(member).get(reverse("designs:detail", args=[demo.pk])).content.decode()
    assert 'data-testid="cannot-run"' not in page and "Cannot run as designed" not in page


def test_the_memory_numbers_are_in_the_panel_and_explained_on_demand(client_for, member, demo):
    page = client_for(member).get(reverse("designs:detail", args=[demo.pk])).content.decode()
    assert "<caption>Memory (one replica)</caption>" in page
    # the demo: 2 x 32 layers x 8 KV heads x 128 x 1 B (fp8) = 65,536 B a token
    assert re.search(r'data-path="memory.kv_bytes_per_token">65,536<', page)
    assert re.search(r'data-path="capacity.estimate.time_per_output_token_ms">[\d.]+<', page)
    response = client_for(member).get(number_url(demo, "memory.kv_bytes_per_token"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<code>memory.kv_heads</code>" in text and "2 × 32 × 8 × 128 × 1" in text


def test_a_non_generative_design_shows_no_kv_cache_rows(client_for, member, design):
    design.inputs = BATCH
    design.save(update_fields=["inputs"])
    page = client_for(member).get(reverse("designs:detail", args=[design.pk])).content.decode()
    assert 'data-path="memory.weights_gb"' in page and 'data-path="memory.kv_bytes_per_token"' not in page
