"""The form generated from the engine schema: every field, as the schema defines it."""

from engine.design import FIELDS, example_design, field
from engine.planning.gpu_catalog import shipped_catalog
from reviewapp.designs.document import DesignInputsForm, form_data, layout

CATALOG = shipped_catalog()


def make(data=None, document=None):
    return DesignInputsForm(data, design_inputs=document, revision=1, gpu_catalog=CATALOG)


def test_every_schema_field_is_in_the_form_in_schema_order():
    form = make()
    keys = [f.spec.key for group in layout(form) for section in group.sections for f in section.fields]
    assert keys == [f.key for f in FIELDS]
    assert [g.key for g in layout(form)] == ["requirements", "architecture"]


def test_numbers_carry_bounds_step_and_unit():
    html = str(make()["requirements.latency_p99_ms"])
    assert 'type="number"' in html and 'min="0.01"' in html and 'max="3600000"' in html and 'step="any"' in html
    assert 'step="1"' in str(make()["architecture.max_replicas"])
    assert make()["requirements.latency_p99_ms"].label == "P99 latency"
    assert field("requirements.latency_p99_ms").help in make()["requirements.latency_p99_ms"].help_text


def test_a_new_design_starts_from_the_schema_defaults():
    form = make(document={})
    assert form["requirements.network_latency_ms"].value() == "10"
    assert form["architecture.pricing_model"].value() == "on_demand"
    assert form["requirements.latency_p99_ms"].value() == ""


def test_stored_blanks_stay_blank():
    document = {"requirements": {"network_latency_ms": None}, "architecture": {}}
    assert make(document=document)["requirements.network_latency_ms"].value() == ""


def test_the_example_round_trips_through_the_form():
    form = make(form_data(example_design(), revision=1))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["document"] == example_design()


def test_engine_errors_become_field_errors_without_the_label():
    data = form_data(example_design(), revision=1)
    data["requirements.latency_p99_ms"] = "100"  # below p95
    form = make(data)
    assert not form.is_valid()
    assert form.errors["requirements.latency_p99_ms"] == ["Must be at least the P95 latency (6000 ms)."]


def test_hidden_fields_are_marked_but_kept_in_the_form():
    form = make(document=example_design())
    views = {f.spec.key: f for g in layout(form) for s in g.sections for f in s.fields}
    assert not views["architecture.max_batch_delay_ms"].shown
    assert views["requirements.output_tokens_per_request"].shown
    assert views["architecture.batching_mode"].controls and not views["requirements.latency_p99_ms"].controls


def test_bool_fields_keep_no_apart_from_blank():
    data = form_data(example_design(), revision=1)
    data["architecture.distillation"] = "false"
    data["architecture.alerting"] = ""
    form = make(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["document"]["architecture"]["distillation"] is False
    assert form.cleaned_data["document"]["architecture"]["alerting"] is None
