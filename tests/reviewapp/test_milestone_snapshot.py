"""Milestones freeze a design's assessment: the snapshot reads the same after the design is edited,
a new checklist version is published and a GPU price changes; a milestone is never changed."""

import json

import pytest
from engine.design import example_design

from reviewapp.checklists import services as checklists
from reviewapp.designs import services as designs
from reviewapp.designs.models import GpuPrice
from reviewapp.designs.snapshot import FORMAT, content_hash
from reviewapp.reviews.models import ImmutableMilestoneError, Milestone
from reviewapp.reviews.services import milestone_create
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401


def test_a_snapshot_holds_what_the_page_shows(owner, published, filled_design):
    milestone = milestone_create(design=filled_design, user=owner, name="Before the board")
    snap = milestone.snapshot
    assert snap["format"] == FORMAT and snap["design"]["name"] == filled_design.name
    assert snap["inputs"] == example_design()
    assert snap["checklist"]["version"] == published.number
    assert snap["evaluation"]["score"]["overall"] is not None
    findings = {f["item_key"]: f for f in snap["evaluation"]["findings"]}
    assert findings["req_p99_budget"]["outcome"] == "fail" and findings["req_p99_budget"]["trace"]
    assert snap["items"]["req_p99_budget"]["improvement_plan"]
    assert [s["key"] for s in snap["sections"]] == ["requirements", "reliability"]
    rows = {r["path"]: r for s in snap["numbers"]["sections"] for r in s["rows"]}
    assert rows["capacity.replicas"]["provenance"] == "estimated" and rows["capacity.replicas"]["value"] > 0
    assert milestone.content_hash == content_hash(snap) and milestone.number == 1


def test_a_milestone_reads_the_same_after_edits_versions_and_prices(owner, published, filled_design):
    from django.core.management import call_command

    call_command("load_gpu_prices")
    milestone = milestone_create(design=filled_design, user=owner, name="M1")
    frozen = json.dumps(Milestone.objects.get(pk=milestone.pk).snapshot, sort_keys=True)

    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 700.0
    designs.design_update_inputs(design=filled_design, data=inputs, revision=filled_design.revision, user=owner)
    checklists.version_publish(version=checklists.version_new_draft(version=published))
    GpuPrice.objects.update(on_demand_usd_per_hour=99.0)

    assert json.dumps(Milestone.objects.get(pk=milestone.pk).snapshot, sort_keys=True) == frozen
    later = milestone_create(design=filled_design, user=owner, name="M2")
    assert later.number == 2 and later.snapshot["inputs"]["requirements"]["peak_qps"] == 700.0
    assert later.content_hash != milestone.content_hash


def test_a_milestone_is_never_changed(owner, published, filled_design):
    milestone = milestone_create(design=filled_design, user=owner, name="M1")
    milestone.name = "renamed"
    with pytest.raises(ImmutableMilestoneError):
        milestone.save()
    with pytest.raises(ImmutableMilestoneError):
        Milestone.objects.filter(pk=milestone.pk).update(name="renamed")
    with pytest.raises(ImmutableMilestoneError):
        Milestone.objects.filter(pk=milestone.pk).delete()
    assert Milestone.objects.get(pk=milestone.pk).name == "M1"
