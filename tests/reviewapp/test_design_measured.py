"""Measured numbers in force on the design page (issues 8 and 9): a measurement of the design's
current model shape replaces the throughput estimate in the numbers and the findings of the same
assessment; a measurement of another shape is stale and changes nothing."""

import re

import pytest
from engine.design import example_design

from reviewapp.benchmarks import services
from reviewapp.benchmarks.selectors import design_shape_key
from reviewapp.checklists import services as checklists
from reviewapp.checklists.models import Checklist

RULE = "scl_measured_capacity_covers_peak"  # default checklist: applies when benchmark.available


@pytest.fixture
def default_checklist(db):
    version, _ = checklists.default_checklist_load()
    assert Checklist.objects.get(is_default=True).key == version.checklist.key
    return version


@pytest.fixture
def example(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


def provenance(html: str, path: str) -> str:
    row = re.search(rf'data-path="{re.escape(path)}">[^<]*</td><td class="unit">[^<]*</td><td><span class="prov (\w+)"', html)
    return row.group(1)


def outcome(html: str, key: str) -> str:
    return re.search(rf'id="finding-{key}" data-outcome="(\w+)"', html).group(1)


def enter(design, user, qps: float, *, shape: str | None = None):
    return services.benchmark_enter_known(
        design=design, user=user, shape_key=shape or design_shape_key(design.inputs),
        per_replica_qps=qps, p99_ms=900.0, source="load test on our staging cluster, 2026-11",
    )  # fmt: skip


def test_a_measurement_replaces_the_estimate_and_moves_a_benchmark_rule(client_for, member, example, default_checklist):
    client = client_for(member)
    before = client.get(f"/designs/{example.pk}/").content.decode()
    assert provenance(before, "capacity.per_replica_qps") == "estimated"
    assert outcome(before, RULE) == "not_applicable" and 'data-testid="measured-by"' not in before

    run = enter(example, member, 0.5)  # far too slow: the measured fleet cannot carry the peak
    slow = client.get(f"/designs/{example.pk}/").content.decode()
    assert provenance(slow, "capacity.per_replica_qps") == "measured"
    assert re.search(r'data-path="capacity.per_replica_qps">0.5<', slow)
    assert f'href="{run.get_absolute_url()}"' in slow  # the number links to what measured it
    assert outcome(slow, RULE) in ("fail", "pass")  # now judged, no longer not applicable

    enter(example, member, 500.0)  # the newest entered figure is in force
    fast = client.get(f"/designs/{example.pk}/").content.decode()
    assert re.search(r'data-path="capacity.per_replica_qps">500<', fast)
    replicas = lambda html: float(re.search(r'data-path="capacity.replicas">([\d,]+)<', html).group(1).replace(",", ""))
    assert replicas(fast) < replicas(slow)


def test_a_measurement_of_another_model_shape_is_stale(client_for, member, example, default_checklist):
    enter(example, member, 500.0, shape="transformer/1000/fp32/16")
    html = client_for(member).get(f"/designs/{example.pk}/").content.decode()
    assert provenance(html, "capacity.per_replica_qps") == "estimated"
    assert outcome(html, RULE) == "not_applicable"
    assert "another model shape (stale)" in html


def test_typed_values_that_change_the_model_make_the_measurement_stale_in_the_preview(client_for, member, example, default_checklist):
    from reviewapp.designs.document import form_data

    enter(example, member, 500.0)
    data = form_data(example.inputs, revision=example.revision)
    client = client_for(member)
    same = client.post(f"/designs/{example.pk}/inputs/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert provenance(same, "capacity.per_replica_qps") == "measured"
    data["requirements.model_params_billions"] = "70"  # another model: the measurement no longer applies
    other = client.post(f"/designs/{example.pk}/inputs/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert provenance(other, "capacity.per_replica_qps") == "estimated"
