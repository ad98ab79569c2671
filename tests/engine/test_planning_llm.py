"""LLM planning that holds (issue 25): the KV cache caps the batch, TTFT and TPOT come from the same
model as the latency and are judged by rules, a design that cannot run gets no fleet, cost or
manifests (and one high finding), every tokenised task takes token counts, and a generative
measurement replaces the estimate."""

import copy
import pathlib

import pytest

from engine.checklist import compile_checklist, evaluate
from engine.checklist.jsonformat import load_checklist
from engine.deploy import generate
from engine.design import example_design, validate
from engine.facts import build_facts, fact_reference
from engine.facts.explain import explain

CHECKLIST = compile_checklist(
    load_checklist((pathlib.Path(__file__).parents[2] / "engine" / "data" / "default_checklist.json").read_text()),
    [row["path"] for row in fact_reference()])
PLANS = ("on_demand", "spot", "reserved_1y", "reserved_3y", "mixed", "selected")


def design(**changes):
    """The demo design (an 8 B RAG chat on one H100) with `requirements__x` / `architecture__x` changed."""
    document = copy.deepcopy(example_design())
    for key, value in changes.items():
        group, name = key.split("__")
        document[group][name] = value
    return document


def high_failures(document, measurements=None):
    evaluation = evaluate(CHECKLIST, build_facts(document, measurements=measurements).tree)
    return [f.item_key for f in evaluation.findings if f.outcome == "fail" and f.risk == "high"]


SEVENTY_B = {"requirements__model_name": "Llama-3.1-70B-Instruct", "requirements__model_params_billions": 70.0,
             "requirements__model_layers": 80, "requirements__model_kv_heads": 8, "requirements__model_head_dim": 128,
             "architecture__quantization": "none"}
# 32 concurrent sequences of 8k tokens (7,500 in, 500 out) on 2 x H100, with a budget they can meet
TWO_H100 = design(**SEVENTY_B, architecture__gpus_per_replica=2, architecture__max_batch_size=32,
                  requirements__input_tokens_per_request=7500, requirements__output_tokens_per_request=500,
                  requirements__latency_p50_ms=20_000.0, requirements__latency_p95_ms=40_000.0,
                  requirements__latency_p99_ms=60_000.0, requirements__time_to_first_token_ms=5_000.0,
                  requirements__time_per_output_token_ms=100.0, architecture__request_timeout_ms=90_000.0)
ONE_L4 = design(**SEVENTY_B, architecture__gpu_type="l4-24gb")


def test_70b_on_two_h100s_with_32_8k_sequences_is_kv_capped_with_a_high_finding():
    facts = build_facts(TWO_H100)
    # 2 x 80 GB x 0.9 = 144 GB usable; 140 GB of weights and 1 GB overhead leave 3 GB; one 8k sequence holds
    # 2 x 80 x 8 x 128 x 2 B = 327,680 B a token x 8,000 = 2.62 GB: one sequence fits, not 32
    assert facts.get("memory.kv_bytes_per_token") == 327_680
    assert facts.get("memory.kv_gb_per_sequence") == pytest.approx(2.62144)
    assert facts.get("memory.kv_room_gb") == pytest.approx(3.0)
    assert facts.get("memory.max_concurrent_sequences") == 1
    assert facts.get("memory.kv_cache_gb") == pytest.approx(32 * 2.62144)
    assert facts.get("memory.fits") is False and facts.get("memory.runs") is True
    assert facts.get("capacity.estimate.batch_size") == 1 and facts.get("capacity.estimate.kv_capped") is True
    # the old estimate planned batch 32 at 0.43 req/s a replica; one sequence at a time gives ~0.05
    assert facts.get("capacity.per_replica_qps") < 0.06
    assert facts.get("capacity.feasible") is True and facts.get("capacity.replicas") > 1000
    assert "srv_kv_cache_holds_batch" in high_failures(TWO_H100)
    kv_notes = [w for w in facts.warnings if w["path"] == "memory.max_concurrent_sequences"]
    assert len(kv_notes) == 1 and kv_notes[0]["severity"] == "error"
    assert "holds 1 sequence of 8,000 tokens" in kv_notes[0]["message"]


def test_the_same_design_with_room_for_its_batch_passes_the_kv_rule():
    roomy = copy.deepcopy(TWO_H100)
    roomy["architecture"].update(gpus_per_replica=8)
    facts = build_facts(roomy)
    assert facts.get("memory.fits") is True and facts.get("memory.max_concurrent_sequences") >= 32
    assert "srv_kv_cache_holds_batch" not in high_failures(roomy)


def test_70b_on_one_l4_cannot_run_no_fleet_cost_or_manifest_and_one_high_finding():
    facts = build_facts(ONE_L4)
    assert facts.get("capacity.feasible") is False
    reason = facts.get("capacity.infeasible_reason")
    assert reason.startswith("the weights (140.0 GB in bf16)") and "21.6 GB usable" in reason
    for path in ("capacity.per_replica_qps", "capacity.replicas", "capacity.replicas_average", "capacity.gpus",
                 "capacity.min_replicas_effective", "capacity.cheap_tier_replicas", "cost.gpu_hours_per_month"):
        assert facts.get(path) is None, path
    for plan in PLANS:
        assert facts.get(f"cost.monthly_usd.{plan}") is None, plan
    errors = [w for w in facts.warnings if w["severity"] == "error"]
    assert [w["message"] for w in errors] == [f"Cannot run as designed: {reason}"]
    assert high_failures(ONE_L4) == ["srv_model_fits_memory"]
    result = generate(ONE_L4, facts.tree, name="big-model")
    assert not result.ok and result.yaml == "" and result.documents == [] and result.missing == ()
    assert result.cannot_run == f"Cannot run as designed: {reason}"


def test_a_design_whose_batch_one_misses_the_budget_cannot_run_either():
    slow = design(requirements__latency_p99_ms=1_000.0, requirements__latency_p95_ms=900.0,
                  requirements__latency_p50_ms=500.0, architecture__request_timeout_ms=2_000.0)
    facts = build_facts(slow)
    assert facts.get("capacity.estimate.meets_budget") is False and facts.get("capacity.feasible") is False
    assert facts.get("capacity.replicas") is None and facts.get("cost.monthly_usd.selected") is None
    assert "even one request at a time" in facts.get("capacity.infeasible_reason")
    assert high_failures(slow) == ["srv_estimate_meets_budget"]
    assert generate(slow, facts.tree).cannot_run.startswith("Cannot run as designed: even one request")


def test_an_8b_design_s_ttft_and_tpot_are_its_latency_and_are_judged_by_rules():
    facts = build_facts(example_design())
    ttft, tpot = facts.get("capacity.estimate.time_to_first_token_ms"), facts.get(
        "capacity.estimate.time_per_output_token_ms")
    out = example_design()["requirements"]["output_tokens_per_request"]
    assert facts.get("capacity.estimate.latency_ms") == pytest.approx(ttft + (out - 1) * tpot)
    # the decode step reads the weights (8 GB in fp8) and the batch's KV cache, so it exceeds a weights-only read
    weights_only_ms = facts.get("memory.weights_gb") / facts.get("capacity.estimate.read_gb_per_s") * 1e3
    assert tpot > weights_only_ms * 1.5
    evaluation = evaluate(CHECKLIST, facts.tree)
    outcome = {f.item_key: f.outcome for f in evaluation.findings}
    assert outcome["srv_estimated_ttft_within_target"] == "pass"
    assert outcome["srv_estimated_tpot_within_target"] == "pass"
    # a TPOT target below what even batch 1 reaches fails its rule (and holds the batch at 1)
    strict = design(requirements__time_per_output_token_ms=round(weights_only_ms * 0.5, 2))
    facts = build_facts(strict)
    assert facts.get("capacity.estimate.batch_size") == 1
    findings = {f.item_key: f for f in evaluate(CHECKLIST, facts.tree).findings}
    assert findings["srv_estimated_tpot_within_target"].outcome == "fail"
    assert findings["srv_estimated_tpot_within_target"].risk == "medium"


def test_a_tpot_target_limits_the_batch_to_what_meets_it():
    loose = build_facts(design(requirements__time_per_output_token_ms=1_000.0))
    # the demo decodes 64 sequences at ~7.4 ms a step; weights alone take 4 ms, so 6 ms needs a smaller batch
    tight = build_facts(design(requirements__time_per_output_token_ms=6.0))
    assert tight.get("capacity.estimate.time_per_output_token_ms") <= 6.0
    assert tight.get("capacity.estimate.batch_size") < loose.get("capacity.estimate.batch_size")


@pytest.mark.parametrize("task", ["rank", "classify", "embed"])
def test_a_ranker_classifier_or_embedder_takes_input_tokens_and_the_estimate_uses_them(task):
    inputs = {"requirements": {"workload_type": task, "workload_timing": "online", "model_params_billions": 0.3,
                               "input_tokens_per_request": 512, "latency_p99_ms": 200.0, "peak_qps": 500.0},
              "architecture": {"gpu_type": "l4-24gb", "batching_mode": "dynamic", "max_batch_size": 32}}
    result = validate(inputs)
    assert "requirements.input_tokens_per_request" not in result.hidden
    assert result.flat()["requirements.input_tokens_per_request"] == 512
    with_tokens = build_facts(inputs).get("capacity.per_replica_qps")
    one_token = copy.deepcopy(inputs)
    one_token["requirements"]["input_tokens_per_request"] = 1
    # 512 tokens a request cost 512 x the FLOPs of one: far fewer requests a second
    assert with_tokens < build_facts(one_token).get("capacity.per_replica_qps") / 5


def test_a_scoring_model_has_no_token_field():
    result = validate({"requirements": {"workload_type": "score"}})
    assert "requirements.input_tokens_per_request" in result.hidden


def test_a_generative_measurement_at_the_slo_replaces_the_estimate():
    measured = {"goodput_rps": 3.5, "output_tokens_per_s": 1_000.0, "ttft_p99_ms": 420.0, "tpot_p99_ms": 21.0,
                "device": "NVIDIA H100 80GB HBM3", "dtype": "fp8"}
    facts = build_facts(example_design(), measurements=measured)
    assert facts.get("benchmark.available") is True and facts.get("benchmark.goodput_rps") == 3.5
    assert facts.get("capacity.per_replica_qps") == 3.5
    assert facts.meta["capacity.per_replica_qps"]["provenance"] == "measured"
    assert explain(facts, "capacity.per_replica_qps").formula.text == "{benchmark.goodput_rps}"
    tokens_only = build_facts(example_design(), measurements={"output_tokens_per_s": 1_000.0})
    assert tokens_only.get("capacity.per_replica_qps") == pytest.approx(1_000.0 / 250)
    assert tokens_only.get("capacity.per_replica_qps_source") == "measured"
    # a measured replica has run: the estimate's verdict does not take its fleet away
    measured_l4 = build_facts(ONE_L4, measurements={"goodput_rps": 0.5})
    assert measured_l4.get("capacity.feasible") is True and measured_l4.get("capacity.replicas") is not None


def test_the_memory_numbers_are_explained_on_demand():
    facts = build_facts(TWO_H100)
    explanation = explain(facts, "memory.kv_bytes_per_token")
    assert explanation.value == 327_680 and explanation.unit == "bytes"
    assert explanation.operands == ("memory.layers", "memory.kv_heads", "memory.head_dim",
                                    "memory.kv_bytes_per_element")
    assert explain(facts, "memory.fits").formula.text == "{memory.required_gb} ≤ {memory.usable_gb}"
    assert "cannot run as designed" in explain(build_facts(ONE_L4), "capacity.feasible").formula.note.lower()


def test_a_blank_shape_is_assumed_from_the_parameter_count_and_said():
    blank = design(requirements__model_layers=None, requirements__model_kv_heads=None,
                   requirements__model_head_dim=None)
    facts = build_facts(blank)
    assert (facts.get("memory.layers"), facts.get("memory.kv_heads"), facts.get("memory.head_dim")) == (32, 8, 128)
    assert facts.get("memory.shape_assumed") is True
    assert any(w["path"] == "memory.kv_bytes_per_token" and "Llama 3 layout" in w["message"]
               for w in facts.warnings)
    assert build_facts(design(requirements__model_params_billions=70.0, requirements__model_layers=None)).get(
        "memory.layers") == 80


@pytest.mark.parametrize(("ttft_ms", "tpot_ms", "outcome"), [(420.0, 21.0, "pass"), (900.0, 21.0, "fail"),
                                                              (420.0, 40.0, "fail")])
def test_measured_token_times_are_judged_against_the_targets(ttft_ms, tpot_ms, outcome):
    # the demo's targets: TTFT 600 ms, TPOT 25 ms
    measured = {"goodput_rps": 3.5, "ttft_p99_ms": ttft_ms, "tpot_p99_ms": tpot_ms}
    findings = {f.item_key: f for f in evaluate(CHECKLIST, build_facts(example_design(), measurements=measured).tree)
                .findings}
    assert findings["srv_measured_token_times_within_targets"].outcome == outcome
    assert findings["srv_estimated_tpot_within_target"].outcome == "not_applicable"  # measured replaces it
    unmeasured = {f.item_key: f for f in evaluate(CHECKLIST, build_facts(example_design()).tree).findings}
    assert unmeasured["srv_measured_token_times_within_targets"].outcome == "not_applicable"
