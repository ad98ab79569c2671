"""The findings memo: an assessment whose facts changed in a few places runs only the rules that
read those places, and gives exactly what a checklist evaluated from scratch gives."""

import copy
import dataclasses
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import design as design_module
from engine import facts as facts_module
from engine.checklist import Checklist, Item, Section, compile_checklist, default_checklist, evaluate
from engine.checklist import evaluation as evaluation_module
from engine.checklist import memo as memo_module

WARM = compile_checklist(default_checklist())  # shared by every example: its memo fills up


def fresh():
    return compile_checklist(default_checklist())


def facts_of(**changes):
    inputs = design_module.example_design()
    for path, value in changes.items():
        group, name = path.split(".")
        inputs[group][name] = value
    return facts_module.build_facts(inputs).tree


@settings(max_examples=40, deadline=None)
@given(peak_qps=st.integers(1, 50_000), p99=st.floats(5, 5_000), budget=st.integers(0, 200_000),
       versioned=st.booleans(), replicas=st.integers(1, 6))
def test_a_warm_memo_gives_what_an_evaluation_from_scratch_gives(peak_qps, p99, budget, versioned, replicas):
    facts = facts_of(**{"requirements.peak_qps": peak_qps, "requirements.latency_p99_ms": p99,
                        "requirements.monthly_gpu_budget_usd": budget,
                        "architecture.data_versioning": versioned, "architecture.min_replicas": replicas})
    answers = {"incident_runbook": {"status": "pass", "reason": "we have one"}} if versioned else {}
    assert evaluate(WARM, facts, answers) == evaluate(fresh(), facts, answers)


def test_only_the_rules_that_read_a_changed_fact_run_again(monkeypatch):
    compiled = fresh()
    before, after = facts_of(), facts_of(**{"requirements.peak_qps": 5_000})
    evaluate(compiled, before)
    ran = []
    real = evaluation_module._evaluate_item
    monkeypatch.setattr(evaluation_module, "_evaluate_item", lambda citem, *a: ran.append(citem) or real(citem, *a))
    evaluation = evaluate(compiled, after)

    def changed(path):
        return memo_module.lookup(before, path) != memo_module.lookup(after, path)

    assert ran, "a changed peak QPS changes facts that some rules read"
    # an item is evaluated again only when a fact that one of its rules reads changed
    assert all(any(changed(p) for e in (c.applies_when, c.passes_when) if e for p in e.paths) for c in ran)
    items_run = ran
    assert len(items_run) < len(compiled.items) / 2
    assert evaluation == evaluate(fresh(), after)


def tiny(passes_when):
    item = Item("flag", "Flag", severity="high", mode="automatic", passes_when=passes_when, improvement_plan="fix")
    return compile_checklist(Checklist("tiny", "Tiny", sections=(Section("sec", "Section", items=(item,)),)))


def test_values_equal_in_python_but_not_of_one_type_are_not_confused():
    # 1 == 1.0 == True in Python; CEL (and the trace) tell them apart.
    compiled = tiny("facts.flag == true")
    as_bool = evaluate(compiled, {"facts": {"flag": True}}).findings[0]
    as_number = evaluate(compiled, {"facts": {"flag": 1}}).findings[0]
    assert as_bool.outcome == "pass"
    assert as_number.outcome != "pass"
    assert as_number.trace[0].facts == {"facts.flag": 1}
    assert evaluate(compiled, {"facts": {"flag": True}}).findings[0] == as_bool


def test_missing_null_and_nested_values_are_keys_of_their_own():
    compiled = tiny("size(facts.items) > 1")
    outcomes = [evaluate(compiled, tree).findings[0].outcome
                for tree in ({"facts": {"items": ["a", "b"]}}, {"facts": {"items": ["a"]}}, {"facts": {"items": None}},
                             {"facts": {}}, {"facts": {"items": ["a", "b"]}})]
    assert outcomes == ["pass", "fail", "unanswered", "rule_error", "pass"]


def test_a_changed_answer_or_acceptance_is_not_answered_from_the_memo():
    compiled = fresh()
    facts = facts_of()
    manual = next(c.item.key for c in compiled.items if c.item.mode == "manual" and not c.item.is_multiple_choice)
    passed = evaluate(compiled, facts, {manual: {"status": "pass", "reason": "done"}}).finding(manual)
    failed = evaluate(compiled, facts, {manual: {"status": "fail", "reason": "not yet"}}).finding(manual)
    accepted = evaluate(compiled, facts, {manual: {"status": "fail", "reason": "not yet"}},
                        {manual: {"rationale": "next quarter", "expires": None}}).finding(manual)
    assert (passed.outcome, failed.outcome, accepted.outcome) == ("pass", "fail", "accepted_risk")
    assert evaluate(compiled, facts, {manual: {"status": "fail", "reason": "not yet"}}).finding(manual) == failed


def test_the_memo_is_bounded():
    compiled = dataclasses.replace(fresh(), memo=memo_module.FindingMemo(limit=50))
    for qps in range(1, 30):
        evaluate(compiled, facts_of(**{"requirements.peak_qps": qps * 100}))
        assert len(compiled.memo.findings) <= 50


def test_a_macro_variable_named_like_a_fact_does_not_hide_a_read_from_the_memo():
    # `requirements` is bound by the macro, so the path reader cannot see that the rule also
    # reads the fact `requirements`: such an item is evaluated every time.
    compiled = tiny("[1.0].all(requirements, requirements > 0.0) && requirements.peak_qps > 10.0")
    low = evaluate(compiled, {"requirements": {"peak_qps": 5}}).findings[0]
    high = evaluate(compiled, {"requirements": {"peak_qps": 50}}).findings[0]
    assert (low.outcome, high.outcome) == ("fail", "pass")


def _leaf_paths(tree, prefix=()):
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from _leaf_paths(value, prefix + (key,))
        yield prefix + (key,)


REAL = facts_of()
PATHS = sorted(_leaf_paths(REAL))
CHANGES = st.sampled_from(["delete", None, "text", 7, 0.5, True, ["a"], {}])


def _changed(tree, path, change):
    tree = copy.deepcopy(tree)
    node = tree
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        if change == "delete":
            node.pop(path[-1], None)
        else:
            node[path[-1]] = change
    return tree


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), CHANGES), max_size=6))
def test_rules_see_in_their_part_of_the_tree_what_they_would_see_in_the_whole_tree(changes):
    """The CEL activation holds only the paths the changed items' rules read: a rule must reach
    the same outcome, message and trace as with the whole tree (deleted, null, retyped facts)."""
    tree = REAL
    for path, change in changes:
        tree = _changed(tree, path, change)
    partial = evaluate(fresh(), tree)
    with mock.patch.object(evaluation_module, "context_for",
                           lambda citems, facts, whole: memo_module.make_context(facts)):
        whole = evaluate(fresh(), tree)
    assert partial == whole


def test_a_rule_that_reads_a_map_whole_gets_all_of_it():
    compiled = tiny("size(cost.monthly_usd) == 2.0 && cost.monthly_usd.exists(k, k == 'spot') && cost.plan == 'spot'")
    tree = {"cost": {"monthly_usd": {"spot": 1.0, "on_demand": 2.0}, "plan": "spot", "other": {"x": 1}}}
    finding = evaluate(compiled, tree).findings[0]
    assert finding.outcome == "pass", finding.message
    assert memo_module.only(tree, {"cost.monthly_usd", "cost.plan", "cost.monthly_usd.spot", "cost.missing.x"}) == {
        "cost": {"monthly_usd": {"spot": 1.0, "on_demand": 2.0}, "plan": "spot"}}
