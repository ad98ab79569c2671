"""The design schema: one definition per field, validation that never raises, cross-field checks."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.design import (
    FIELDS, KINDS, LIST_KINDS, example_design, empty_design, field, schema, sections, validate, visible_fields,
)
from engine.design.fields import SECTION_INFO
from engine.design.schema import Field, check_condition, condition_fields
from engine.planning.gpu_catalog import shipped_catalog

REQUIREMENT_SECTIONS = ["workload", "batch", "stream", "latency", "traffic", "data_volume", "availability", "model",
                        "budget"]
ARCHITECTURE_SECTIONS = ["data", "serving", "scaling", "reliability", "cost", "monitoring"]


# --- the schema ----------------------------------------------------------------------------------

def test_it_defines_every_key_once_in_its_group():
    keys = [f.key for f in FIELDS]
    assert len(keys) == len(set(keys))
    assert all(f.key == f"{f.group}.{f.name}" and f.group in ("requirements", "architecture") for f in FIELDS)
    assert all(f.kind in KINDS for f in FIELDS)


def test_it_orders_sections_as_the_seed_lessons():
    assert [s.key for s in sections("requirements")] == REQUIREMENT_SECTIONS
    assert [s.key for s in sections("architecture")] == ARCHITECTURE_SECTIONS
    in_sections = [f.key for group in ("requirements", "architecture") for s in sections(group) for f in s.fields]
    assert in_sections == [f.key for f in FIELDS]
    assert set(SECTION_INFO) == set(REQUIREMENT_SECTIONS + ARCHITECTURE_SECTIONS)
    with pytest.raises(KeyError):
        sections("nope")


def test_it_covers_the_issue_fields():
    for key in [
        "requirements.workload_timing", "requirements.workload_type", "requirements.latency_p50_ms",
        "requirements.latency_p95_ms", "requirements.latency_p99_ms", "requirements.time_to_first_token_ms",
        "requirements.time_per_output_token_ms", "requirements.average_qps", "requirements.peak_qps",
        "requirements.daily_active_users", "requirements.requests_per_user_per_day", "requirements.peak_factor",
        "requirements.request_size_kb", "requirements.response_size_kb", "requirements.input_tokens_per_request",
        "requirements.output_tokens_per_request", "requirements.availability_target_pct",
        "requirements.rto_minutes", "requirements.rpo_minutes", "requirements.training_data_gb",
        "requirements.new_data_per_day_gb", "requirements.retention_days", "requirements.feature_freshness_s",
        "requirements.model_family", "requirements.model_params_billions", "requirements.model_dtype",
        "requirements.sequence_length_tokens", "requirements.monthly_gpu_budget_usd", "requirements.regions",
        "architecture.pipeline_pattern", "architecture.feature_store", "architecture.storage_pattern",
        "architecture.data_versioning", "architecture.inference_mode", "architecture.serving_framework",
        "architecture.batching_mode", "architecture.max_batch_size", "architecture.max_batch_delay_ms",
        "architecture.rollout_strategy", "architecture.model_routing", "architecture.autoscaling_signal",
        "architecture.min_replicas", "architecture.max_replicas", "architecture.gpu_type", "architecture.caches",
        "architecture.prompt_cache_hit_rate_pct", "architecture.embedding_cache_hit_rate_pct",
        "architecture.result_cache_hit_rate_pct", "architecture.parallelism", "architecture.scaling_direction",
        "architecture.fallback_chain", "architecture.circuit_breaker", "architecture.request_timeout_ms",
        "architecture.max_retries", "architecture.health_checks", "architecture.slos", "architecture.redundancy",
        "architecture.pricing_model", "architecture.quantization", "architecture.distillation",
        "architecture.cheap_tier_share_pct", "architecture.api_price_per_1m_input_tokens_usd",
        "architecture.dashboards", "architecture.alerting",
    ]:
        assert field(key).key == key


def leaf_conditions(condition):
    if "all" in condition or "any" in condition:
        for sub in condition.get("all", condition.get("any")):
            yield from leaf_conditions(sub)
    else:
        yield condition


def test_it_keeps_shown_when_conditions_valid():
    by_key = {f.key: f for f in FIELDS}
    for f in FIELDS:
        if f.shown_when is None:
            continue
        check_condition(f.shown_when)
        for dep in condition_fields(f.shown_when):
            controller = by_key[dep]
            assert FIELDS.index(controller) < FIELDS.index(f) or controller.group == "requirements"
        for leaf in leaf_conditions(f.shown_when):
            values = leaf.get("in") or leaf.get("not_in") or [leaf.get("contains")]
            for value in values:
                if by_key[leaf["field"]].kind == "bool":
                    assert isinstance(value, bool)
                else:
                    assert value in by_key[leaf["field"]].choice_values


def test_it_describes_itself_as_json():
    described = schema()
    text = json.dumps(described)
    assert "architecture.max_batch_delay_ms" in text
    delay = field("architecture.max_batch_delay_ms").to_dict()
    assert delay["shown_when"] == {"field": "architecture.batching_mode", "in": ["dynamic"]}
    assert delay["unit"] == "ms" and delay["kind"] == "float" and delay["type"] == "double"


def test_it_offers_every_catalog_gpu():
    assert set(field("architecture.gpu_type").choice_values) == set(shipped_catalog()["gpus"])


def test_it_rejects_bad_field_definitions():
    with pytest.raises(ValueError):
        Field("other.x", "X", "int", "workload")
    with pytest.raises(ValueError):
        Field("requirements.x", "X", "choice", "workload")
    with pytest.raises(ValueError):
        Field("requirements.x", "X", "weird", "workload")
    with pytest.raises(ValueError):
        check_condition({"field": "requirements.x"})


# --- validation ----------------------------------------------------------------------------------

def test_it_accepts_the_example_design_unchanged():
    result = validate(example_design())
    assert result.ok, result.errors
    assert result.document == example_design()


def test_it_fills_every_shown_field_in_the_example():
    result = validate(example_design())
    assert result.missing == ()
    # Issue 12: an online design hides the batch and stream shapes, the batch job's spot
    # assumptions, and the negotiated prices it does not have.
    assert result.hidden == (
        "requirements.records_per_run", "requirements.runs_per_day", "requirements.processing_window_h",
        "requirements.deadline_h", "requirements.record_size_kb", "requirements.events_per_second",
        "requirements.peak_events_per_second", "requirements.allowed_lag_s", "architecture.max_batch_delay_ms",
        "architecture.spot_interruption_rate_pct", "architecture.checkpoint_interval_minutes",
        "architecture.restart_minutes", "architecture.negotiated_on_demand_usd_per_hour",
        "architecture.negotiated_spot_usd_per_hour", "architecture.negotiated_reserved_1y_usd_per_hour",
        "architecture.negotiated_reserved_3y_usd_per_hour",
    )


def test_it_parses_flat_form_strings():
    result = validate({
        "requirements.latency_p99_ms": " 120 ",
        "requirements.daily_active_users": "1,000,000",
        "requirements.log_payloads": "on",
        "requirements.workload_type": "Generative",
        "architecture.caches": "result, prompt",
        "architecture.fallback_chain": ["cache", "rules"],
        "requirements.regions": "us-east-1\neu-west-1, us-east-1",
        "architecture.max_retries": ["2"],
        "csrfmiddlewaretoken": "abc",
    })
    assert result.ok, result.errors
    doc = result.document
    assert doc["requirements"]["latency_p99_ms"] == 120.0
    assert doc["requirements"]["daily_active_users"] == 1_000_000
    assert doc["requirements"]["log_payloads"] is True
    assert doc["requirements"]["workload_type"] == "generative"
    assert doc["architecture"]["caches"] == ["prompt", "result"]  # choice order
    assert doc["architecture"]["fallback_chain"] == ["cache", "rules"]  # entered order
    assert doc["requirements"]["regions"] == ["us-east-1", "eu-west-1"]
    assert doc["architecture"]["max_retries"] == 2
    assert result.unknown_keys == ("csrfmiddlewaretoken",)


def test_it_accepts_nested_and_mixed_shapes():
    result = validate({"requirements": {"peak_qps": 10, "bogus": 1}, "architecture.min_replicas": "3"})
    assert result.document["requirements"]["peak_qps"] == 10.0
    assert isinstance(result.document["requirements"]["peak_qps"], float)
    assert result.document["architecture"]["min_replicas"] == 3
    assert result.unknown_keys == ("requirements.bogus",)


def test_it_allows_a_half_filled_design():
    result = validate({"requirements.peak_qps": "5"})
    assert result.ok
    assert "requirements.latency_p99_ms" in result.missing
    assert empty_design()["architecture"]["fallback_chain"] == []
    assert empty_design()["requirements"]["latency_p99_ms"] is None


@pytest.mark.parametrize("raw, message", [
    ("abc", "P99 latency: expects a number."),
    ("nan", "P99 latency: must be a finite number."),
    ("inf", "P99 latency: must be a finite number."),
    ("1e999", "P99 latency: must be a finite number."),
    ("-5", "P99 latency: must be at least 0.01 ms."),
    ("99999999999", "P99 latency: must be at most 3,600,000 ms."),
    (["1", "2"], "P99 latency: expects a single value, not a list."),
    ({"a": 1}, "P99 latency: expects a single value."),
    (True, "P99 latency: expects a number."),
    (float("nan"), "P99 latency: must be a finite number."),
])
def test_it_names_the_field_in_number_errors(raw, message):
    result = validate({"requirements.latency_p99_ms": raw})
    assert result.errors == {"requirements.latency_p99_ms": [message]}
    assert result.document["requirements"]["latency_p99_ms"] is None


@pytest.mark.parametrize("key, raw, message", [
    ("architecture.max_retries", "2.5", "Max retries: expects a whole number."),
    ("architecture.circuit_breaker", "maybe", "Circuit breaker: answer yes or no."),
    ("architecture.batching_mode", "turbo", "Batching: 'turbo' is not one of none, dynamic, continuous, static."),
    ("architecture.batching_mode", 7, "Batching: choose one of none, dynamic, continuous, static."),
    ("architecture.fallback_chain", "rules, rules", "Fallback chain: lists 'rules' twice."),
    ("architecture.caches", "result, disk", "Caches: 'disk' is not one of prompt, embedding, result."),
    ("architecture.caches", 5, "Caches: expects a list."),
    ("architecture.caches", [1], "Caches: every item must be text."),
    ("requirements.model_name", "x" * 201, "Model name: at most 200 characters (got 201)."),
    ("requirements.model_name", ["a", "b"], "Model name: expects a single value, not a list."),
    ("architecture.gpu_type", "h900", None),
])
def test_it_names_the_field_in_other_errors(key, raw, message):
    result = validate({key: raw})
    assert list(result.errors) == [key]
    assert result.errors[key][0].startswith(field(key).label + ":")
    if message:
        assert result.errors[key] == [message]


def test_it_accepts_gpus_from_a_staff_catalog():
    catalog = shipped_catalog()
    catalog["gpus"]["mi300x-192gb"] = dict(catalog["gpus"]["h100-80gb"], label="AMD MI300X")
    assert validate({"architecture.gpu_type": "mi300x-192gb"}, gpu_catalog=catalog).ok
    assert not validate({"architecture.gpu_type": "mi300x-192gb"}).ok


@pytest.mark.parametrize("inputs, key, fragment", [
    ({"requirements.latency_p50_ms": "200", "requirements.latency_p95_ms": "100"},
     "requirements.latency_p95_ms", "P95 latency: must be at least the P50 latency (200 ms)."),
    ({"requirements.latency_p95_ms": "200", "requirements.latency_p99_ms": "150"},
     "requirements.latency_p99_ms", "P99 latency: must be at least the P95 latency (200 ms)."),
    ({"requirements.latency_p50_ms": "200", "requirements.latency_p99_ms": "150"},
     "requirements.latency_p99_ms", "P99 latency: must be at least the P50 latency (200 ms)."),
    ({"requirements.average_qps": "50", "requirements.peak_qps": "20"},
     "requirements.peak_qps", "Peak QPS: must be at least the average QPS (50 req/s)."),
    ({"architecture.min_replicas": "5", "architecture.max_replicas": "2"},
     "architecture.min_replicas", "Min replicas: must not exceed the max replicas (2)."),
    ({"architecture.pricing_model": "mixed", "architecture.reserved_share_pct": "70",
      "architecture.spot_share_pct": "40"},
     "architecture.spot_share_pct", "Spot share (mixed plan): reserved + spot shares add up to 110 %"),
    ({"requirements.workload_type": "generative", "requirements.latency_p99_ms": "500",
      "requirements.time_to_first_token_ms": "600"},
     "requirements.time_to_first_token_ms", "Time to first token: cannot exceed the P99 latency (500 ms)."),
    ({"requirements.workload_type": "generative", "requirements.sequence_length_tokens": "1000",
      "requirements.input_tokens_per_request": "900", "requirements.output_tokens_per_request": "200"},
     "requirements.output_tokens_per_request", "input + output tokens (1,100) exceed the max sequence length"),
    ({"architecture.batching_mode": "dynamic", "architecture.max_batch_delay_ms": "100",
      "requirements.latency_p99_ms": "100"},
     "architecture.max_batch_delay_ms", "Max batch delay: must be below the P99 latency (100 ms)."),
    ({"requirements.workload_timing": "batch", "requirements.processing_window_h": "6",
      "requirements.deadline_h": "4"},
     "requirements.deadline_h", "Deadline: must be at least the processing window (6 h)"),
    ({"requirements.workload_timing": "streaming", "requirements.events_per_second": "500",
      "requirements.peak_events_per_second": "100"},
     "requirements.peak_events_per_second", "Peak events per second: must be at least the average (500 events/s)."),
])
def test_it_attaches_cross_field_errors_to_the_field_concerned(inputs, key, fragment):
    result = validate(inputs)
    assert list(result.errors) == [key]
    assert fragment in result.errors[key][0]
    assert result.errors[key][0].startswith(field(key).label + ":")
    # Honest blanks: the invalid value is left out (blank) while it is invalid.
    group, name = key.split(".")
    assert result.document[group][name] in (None, [])


def test_an_invalid_field_counts_as_blank_and_not_missing():
    result = validate({"requirements.average_qps": "50", "requirements.peak_qps": "20"})
    assert result.document["requirements"]["peak_qps"] is None
    assert result.document["requirements"]["average_qps"] == 50.0
    assert "requirements.peak_qps" not in result.missing


@pytest.mark.parametrize("timing, shown, hidden", [
    (None, ["requirements.average_qps", "requirements.latency_p99_ms", "architecture.target_utilisation_pct"],
     ["requirements.records_per_run", "requirements.events_per_second"]),
    ("online", ["requirements.peak_qps", "requirements.peak_factor"], ["requirements.processing_window_h"]),
    ("batch", ["requirements.records_per_run", "requirements.runs_per_day", "requirements.processing_window_h",
               "requirements.deadline_h", "requirements.record_size_kb", "architecture.checkpoint_interval_minutes",
               "architecture.spot_interruption_rate_pct", "architecture.restart_minutes"],
     ["requirements.average_qps", "requirements.peak_qps", "requirements.daily_active_users",
      "requirements.peak_factor", "requirements.latency_p99_ms", "requirements.network_latency_ms",
      "requirements.request_size_kb", "architecture.target_utilisation_pct", "requirements.allowed_lag_s"]),
    ("streaming", ["requirements.events_per_second", "requirements.peak_events_per_second",
                   "requirements.allowed_lag_s", "requirements.network_latency_ms", "requirements.request_size_kb"],
     ["requirements.average_qps", "requirements.latency_p99_ms", "requirements.records_per_run",
      "architecture.checkpoint_interval_minutes"]),
])
def test_the_workload_shape_decides_which_traffic_fields_show(timing, shown, hidden):
    visible = visible_fields({"requirements.workload_timing": timing})
    assert all(key in visible for key in shown), [k for k in shown if k not in visible]
    assert not [key for key in hidden if key in visible]


def test_a_fixed_fleet_has_no_min_or_max_replicas_and_negotiated_prices_show_on_request():
    assert "architecture.min_replicas" not in visible_fields({"architecture.autoscaling_signal": "none"})
    assert "architecture.max_replicas" in visible_fields({"architecture.autoscaling_signal": "queue_depth"})
    assert "architecture.min_replicas" in visible_fields({})  # not decided yet: shown
    assert "architecture.negotiated_spot_usd_per_hour" not in visible_fields({})
    assert "architecture.negotiated_spot_usd_per_hour" in visible_fields({"architecture.negotiated_prices": "yes"})


def test_not_in_conditions_hold_for_blank_and_hidden_controllers():
    from engine.design.validate import condition_holds

    condition = {"field": "requirements.workload_timing", "not_in": ["batch"]}
    assert condition_holds(condition, {}, {})
    assert condition_holds(condition, {"requirements.workload_timing": "online"}, {})
    assert not condition_holds(condition, {"requirements.workload_timing": "batch"}, {})
    assert condition_holds(condition, {"requirements.workload_timing": "batch"},
                           {"requirements.workload_timing": False})  # hidden counts as blank
    with pytest.raises(ValueError):
        check_condition({"field": "x", "in": ["a"], "not_in": ["b"]})


def test_it_clears_and_ignores_hidden_fields():
    result = validate({
        "architecture.batching_mode": "continuous",
        "architecture.max_batch_delay_ms": "garbage",  # hidden: not checked
        "architecture.max_batch_size": "32",
        "requirements.workload_type": "classify",
        "requirements.output_tokens_per_request": "200",
        "architecture.caches": ["result"],
        "architecture.prompt_cache_hit_rate_pct": "50",
        "architecture.result_cache_hit_rate_pct": "20",
    })
    assert result.ok, result.errors
    doc = result.document
    assert doc["architecture"]["max_batch_delay_ms"] is None
    assert doc["architecture"]["max_batch_size"] == 32
    assert doc["requirements"]["output_tokens_per_request"] is None
    assert doc["architecture"]["prompt_cache_hit_rate_pct"] is None
    assert doc["architecture"]["result_cache_hit_rate_pct"] == 20.0


def test_it_shows_token_and_delay_fields_only_when_they_apply():
    shown = visible_fields({"requirements.workload_type": "generative", "architecture.batching_mode": "dynamic"})
    assert "requirements.output_tokens_per_request" in shown
    assert "architecture.max_batch_delay_ms" in shown
    shown = visible_fields({"requirements.workload_type": "embed", "architecture.batching_mode": "none"})
    assert "requirements.input_tokens_per_request" in shown
    assert "requirements.output_tokens_per_request" not in shown
    assert "architecture.max_batch_delay_ms" not in shown
    assert "architecture.max_batch_size" not in shown
    assert "architecture.circuit_breaker_open_s" not in visible_fields({"architecture.circuit_breaker": "no"})
    assert "architecture.circuit_breaker_open_s" in visible_fields({"architecture.circuit_breaker": "yes"})


def test_it_does_not_count_a_list_as_a_choice_in_conditions():
    assert "architecture.max_batch_delay_ms" not in visible_fields({"architecture.batching_mode": ["dynamic", "x"]})


# --- never raises (property) ---------------------------------------------------------------------

_keys = st.sampled_from([f.key for f in FIELDS] + ["requirements", "architecture", "junk"])
_scalars = st.one_of(
    st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.sampled_from(["1e308", "-0", "1,2,3", "nan", "dynamic", "generative", "result", "on"]),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4), st.dictionaries(st.text(max_size=5), _scalars,
                                                                               max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=25))
def test_it_never_raises_and_always_names_the_field(inputs):
    result = validate(inputs)
    assert set(result.document) == {"requirements", "architecture"}
    for key, messages in result.errors.items():
        assert messages and all(m.startswith(field(key).label + ":") for m in messages)
    for f in FIELDS:
        value = result.document[f.group][f.name]
        if f.kind in LIST_KINDS:
            assert isinstance(value, list)
        elif value is not None:
            expected = {"int": int, "float": float, "bool": bool}.get(f.kind, str)
            assert type(value) is expected
            if isinstance(value, float):
                assert math.isfinite(value)
    json.dumps(result.document)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([f.key for f in FIELDS]), st.text(max_size=20), max_size=40))
def test_it_never_raises_on_form_text(inputs):
    result = validate(inputs)
    assert all(key in {f.key for f in FIELDS} for key in result.errors)


def test_it_survives_non_mapping_inputs():
    for inputs in (None, [], "text", 5, {"requirements": "x"}, {"requirements": {1: 2}}):
        assert set(validate(inputs).document) == {"requirements", "architecture"}


def test_nul_characters_are_refused_in_text_and_lists():
    # PostgreSQL cannot store NUL in JSON text, so the engine refuses it by field.
    from engine.design import validate as validate_design

    result = validate_design({"requirements.use_case": "a\x00b", "requirements.regions": ["eu-west\x00"]})
    assert "NUL" in result.errors["requirements.use_case"][0]
    assert "NUL" in result.errors["requirements.regions"][0]
