"""Explained numbers and the methodology (issue 12): every formula restates its calculator (its
arithmetic with the design's values gives the number), blank numbers name the inputs they wait
for, and the methodology is one source for docs/facts.md and the app."""

import ast
import math
import operator
import re

import pytest

from engine.design import example_design
from engine.facts import build_facts, fact_reference
from engine.facts.explain import FORMULAS, blockers, explain, formula_for
from engine.facts.methodology import inline_parts, methodology, methodology_markdown, parse_blocks, plain_text
from engine.facts.reference import reference_markdown

BATCH = {
    "requirements": {"workload_timing": "batch", "workload_type": "classify", "records_per_run": 36_000_000,
                     "runs_per_day": 2, "processing_window_h": 5, "deadline_h": 8, "record_size_kb": 2,
                     "response_size_kb": 0.1, "model_params_billions": 0.35, "model_family": "encoder",
                     "input_tokens_per_request": 256, "monthly_gpu_budget_usd": 2000},
    "architecture": {"gpu_type": "l4-24gb", "batching_mode": "dynamic", "max_batch_size": 64,
                     "autoscaling_signal": "queue_depth", "pricing_model": "spot", "checkpoint_interval_minutes": 15},
}
STREAM = {
    "requirements": {"workload_timing": "streaming", "workload_type": "score", "events_per_second": 400,
                     "peak_events_per_second": 900, "allowed_lag_s": 2, "model_params_billions": 0.05,
                     "model_family": "mlp", "request_size_kb": 1},
    "architecture": {"gpu_type": "t4-16gb", "batching_mode": "dynamic", "max_batch_size": 32,
                     "autoscaling_signal": "none", "pricing_model": "on_demand", "redundancy": "multi_zone",
                     "failure_domains": 3},
}
FIXED_ONLINE = {**example_design()}
FIXED_ONLINE = {"requirements": dict(FIXED_ONLINE["requirements"]),
                "architecture": {**FIXED_ONLINE["architecture"], "autoscaling_signal": "none",
                                 "pricing_model": "reserved_3y", "negotiated_prices": True,
                                 "negotiated_reserved_3y_usd_per_hour": 1.5}}
DESIGNS = {"demo": example_design(), "batch": BATCH, "stream": STREAM, "fixed": FIXED_ONLINE}

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.LtE: operator.le, ast.USub: operator.neg}


def _evaluate(node):
    """A tiny arithmetic evaluator for the formulas' notation (numbers, + - * /, <=, ceil, min)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _OPS:
        return _OPS[type(node.ops[0])](_evaluate(node.left), _evaluate(node.comparators[0]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("ceil", "min"):
        args = [_evaluate(a) for a in node.args]
        return math.ceil(round(args[0], 9)) if node.func.id == "ceil" else min(args)
    raise ValueError(ast.dump(node))


def arithmetic(formula, facts) -> str | None:
    """The formula with full-precision values in place, as Python arithmetic (None when it has words)."""
    text = formula.text
    for path in formula.operands:
        value = facts.get(path)
        if value is None and path in formula.zero_if_blank:
            value = 0
        if value is None or isinstance(value, (bool, str, list)):
            return None
        text = text.replace("{" + path + "}", repr(float(value)))
    text = (text.replace("×", "*").replace("÷", "/").replace("−", "-").replace("≤", "<=")
            .replace(" %", " / 100"))
    text = re.sub(r"(\d),(\d)", r"\1\2", text)  # thousands separators
    text = re.sub(r"([\d)]) (s|h|days)\b", r"\1", text)
    text = text.replace("30.42", repr(365 / 12))
    if re.search(r"[A-Za-z_]{2,}", re.sub(r"\b(ceil|min)\(", "", text)):
        return None
    return text


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_every_formula_gives_its_number(name):
    facts = build_facts(DESIGNS[name])
    checked = 0
    for path in FORMULAS:
        formula = formula_for(facts, path)
        value = facts.get(path)
        if formula is None or not formula.text or value is None:
            continue
        text = arithmetic(formula, facts)
        if text is None:
            continue
        result = _evaluate(ast.parse(text.replace(" ", ""), mode="eval"))
        assert result == pytest.approx(value, rel=1e-6, abs=1e-9), (path, formula.text, text)
        checked += 1
    assert checked >= 25, checked


def test_every_formula_reads_real_facts():
    paths = {row["path"] for row in fact_reference()}
    for path, formulas in FORMULAS.items():
        assert path in paths, path
        for formula in formulas:
            unknown = [p for p in (*formula.operands, *formula.needs, *formula.zero_if_blank) if p not in paths]
            assert not unknown, (path, unknown)


def test_the_numbers_panel_numbers_have_formulas():
    from engine.facts.explain import FORMULAS as formulas

    for path in ("traffic.average_qps", "traffic.peak_qps", "capacity.replicas", "capacity.per_replica_qps",
                 "cost.monthly_usd.selected", "batch.job_duration_h", "batch.cost_per_run_usd.selected",
                 "batch.spot.suitable", "streaming.headroom_events_per_second"):
        assert path in formulas, path


def test_an_explanation_carries_definition_formula_and_provenance():
    facts = build_facts(example_design())
    explanation = explain(facts, "capacity.replicas_for_load")
    assert explanation.value == 2  # 41.65 req/s at the model / (34.3 req/s x 70 %), rounded up
    assert explanation.provenance == "estimated"
    assert explanation.unit == "replicas" and "before redundancy" in explanation.description
    assert explanation.operands == ("capacity.model_peak_qps", "capacity.per_replica_qps",
                                    "capacity.target_utilisation_pct")
    assert explanation.blockers == ()


def test_the_chosen_plans_formula_follows_the_choice():
    facts = build_facts(BATCH)
    assert formula_for(facts, "cost.monthly_usd.selected").text == "{cost.monthly_usd.spot}"
    assert "batch.spot.hours_factor" in formula_for(facts, "cost.monthly_usd.spot").operands
    assert formula_for(facts, "batch.spot.expected_duration_h").operands[-1] == "batch.spot.checkpoint_interval_minutes"


def test_a_negotiated_price_is_explained_as_entered():
    facts = build_facts(FIXED_ONLINE)
    explanation = explain(facts, "cost.hourly_usd.reserved_3y")
    assert explanation.value == 1.5 and explanation.provenance == "entered"
    assert explanation.operands == ("architecture.negotiated_reserved_3y_usd_per_hour",)
    assert facts.get("cost.negotiated_plans") == ["reserved_3y"]


def test_blank_numbers_name_the_blank_and_invalid_inputs_they_wait_for():
    facts = build_facts({"requirements.latency_p50_ms": "200", "requirements.latency_p95_ms": "300",
                         "requirements.latency_p99_ms": "250", "requirements.peak_qps": "40",
                         "architecture.gpu_type": "h100-80gb"})
    found = {(b.path, b.reason) for b in blockers(facts, "latency_budget.inference_budget_ms")}
    assert found == {("requirements.latency_p99_ms", "invalid")}
    invalid = blockers(facts, "latency_budget.inference_budget_ms")[0]
    assert invalid.label == "P99 latency" and "at least the P95 latency" in invalid.message
    replicas = {(b.path, b.reason) for b in blockers(facts, "capacity.replicas")}
    assert ("requirements.model_params_billions", "blank") in replicas
    assert not any(path == "architecture.min_replicas" for path, _ in replicas)  # optional: counts as none
    assert blockers(facts, "traffic.peak_qps") == []  # it has a value


def test_a_batch_job_has_no_latency_budget_and_says_why():
    facts = build_facts(BATCH)
    formula = formula_for(facts, "latency_budget.p99_budget_ms")
    assert formula.text == "" and "processing window" in formula.note
    assert blockers(facts, "latency_budget.p99_budget_ms") == []


# --- the methodology ---------------------------------------------------------------------------------

def test_the_methodology_covers_shapes_estimate_capacity_cost_and_blanks():
    titles = [chapter.title for chapter in methodology()]
    assert titles == ["Where each number comes from", "Workload shapes: online, batch and streaming",
                      "Accelerator memory: weights and the KV cache",
                      "How per-replica throughput is estimated", "Caches, tiers and quantization",
                      "How capacity is sized", "How cost is modelled"]
    text = " ".join(plain_text(b) if isinstance(b, str) else " ".join(map(plain_text, b))
                    for chapter in methodology() for b in chapter.blocks)
    for phrase in ("An invalid field is left out of every calculation", "spot suits the job",
                   "Fleet semantics", "negotiated price", "mixed plan pays", "Per-token KV bytes = 2",
                   "chunked prefill overlaps decode", "Cannot run as designed", "tensor-parallel efficiency",
                   "cheaper tier (multi-model routing) is its own fleet"):
        assert phrase in text, phrase


def test_docs_facts_md_ends_with_the_methodology():
    markdown = reference_markdown()
    assert markdown.rstrip().endswith("\n".join(methodology_markdown()).rstrip())


def test_docstrings_parse_into_paragraphs_and_bullets():
    blocks = parse_blocks("""Title line.

    A paragraph
    over two lines.

    * one item
      continued
    * two
    After the list.
    """)
    assert blocks == ("Title line.", "A paragraph over two lines.", ("one item continued", "two"), "After the list.")
    assert inline_parts("a `b` **c** d") == [("text", "a "), ("code", "b"), ("text", " "), ("strong", "c"),
                                             ("text", " d")]
