"""Our JSON checklist format: loading, dumping, lossless round trip, errors with JSON paths."""

import copy
import json
import pathlib

import pytest

from engine.checklist import ChecklistError, compile_checklist, evaluate
from engine.checklist.jsonformat import FORMAT, dump_checklist, load_checklist

DATA = pathlib.Path(__file__).parent / "data" / "checklist"


def sample(name):
    return json.loads((DATA / name).read_text())


def problems_of(data):
    with pytest.raises(ChecklistError) as caught:
        load_checklist(data)
    return [str(p) for p in caught.value.problems]


def test_it_loads_the_sample_with_every_kind_of_item():
    checklist = load_checklist(sample("checklist_valid.json"))
    assert checklist.key == "sample_checklist"
    assert [s.key for s in checklist.sections] == ["requirements", "reliability"]
    modes = [(i.key, i.mode, i.is_multiple_choice) for _, i in checklist.iter_items()]
    assert modes == [("req_p99_defined", "automatic", False), ("req_reviewed", "manual", False),
                     ("rel_fallback_chain", "automatic", False), ("rel_degradation", "manual", True)]
    item = checklist.item("rel_degradation")
    assert item.choices[1].additional_helpful_resources[0].url == "https://example.com/patterns"
    assert item.risk_rules[-1].condition == "default"


def test_export_import_export_is_lossless():
    data = sample("checklist_valid.json")
    checklist = load_checklist(data)
    exported = dump_checklist(checklist)
    assert exported == data  # the sample is written in canonical form
    assert load_checklist(exported) == checklist
    assert dump_checklist(load_checklist(json.loads(json.dumps(exported)))) == exported


def test_loading_text_works_and_defaults_fill_optional_fields():
    minimal = {"format": FORMAT, "format_version": 1, "key": "tiny_list", "name": "Tiny",
               "sections": [{"key": "only", "title": "Only", "items": [
                   {"key": "one", "title": "One"}]}]}
    checklist = load_checklist(json.dumps(minimal))
    item = checklist.item("one")
    assert (item.mode, item.severity, item.weight, checklist.scoring) == ("manual", "medium", 1.0, "weighted")
    assert [lv.key for lv in checklist.levels] == ["bronze", "silver", "gold"]
    assert load_checklist(dump_checklist(checklist)) == checklist


def test_the_sample_evaluates():
    compiled = compile_checklist(load_checklist(sample("checklist_valid.json")))
    facts = {"requirements": {"workload_timing": "online", "latency_p99_ms": 300.0,
                              "availability_target_pct": 99.5},
             "architecture": {"fallback_chain": []}}
    evaluation = evaluate(compiled, facts, {"rel_degradation": {"choices": ["cached_answer"]}})
    assert [f.outcome for f in evaluation.findings] == ["pass", "unanswered", "not_applicable", "fail"]


def test_the_invalid_sample_reports_every_problem_with_its_path():
    assert problems_of(sample("checklist_invalid.json")) == [
        "sections[0].items[0].severity: must be one of high, medium, low, got 'critical'",
        "sections[0].items[1].key: duplicate item key 'req_p99_defined'",
        "sections[0].items[1].weight: must be a number greater than 0, got 0.0",
        "sections[1].items[0].passes_when: does not compile: at 1:37: Syntax error: mismatched "
        "input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, "
        "NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n| size(architecture.fallback_chain) >=\n"
        "| ....................................^",
        "sections[1].items[1].risk_rules[0].condition: refers to unknown choice 'warm_cache'",
        "sections[1].items[1].risk_rules[1].risk: must be one of HIGH_RISK, MEDIUM_RISK, NO_RISK, "
        "got 'SOME_RISK'",
    ]


def test_malformed_json_names_line_and_column():
    text = (DATA / "checklist_valid.json").read_text()[:200]
    (problem,) = problems_of(text)
    assert problem.startswith("(document): malformed JSON at line ")


def edited(edit):
    data = sample("checklist_valid.json")
    edit(data)
    return data


def _items(data, s=0):
    return data["sections"][s]["items"]


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d.update(format="other"), "format: must be 'ai-design-review/checklist', got 'other'"),
    (lambda d: d.update(format_version=2), "format_version: must be 1, got 2"),
    (lambda d: d.pop("key"), "key: is required"),
    (lambda d: d.update(scoring="average"), "scoring: must be one of weighted, minimum, levels, got 'average'"),
    (lambda d: d.update(sections={}), "sections: must be a list, got an object"),
    (lambda d: d["sections"].append("x"), "sections[2]: must be an object, got a string"),
    (lambda d: d["sections"][1].update(key="requirements"), "sections[1].key: duplicate section key 'requirements'"),
    (lambda d: d["sections"][1].update(order="2"), "sections[1].order: must be an integer, got a string"),
    (lambda d: _items(d)[0].update(severty="high"), "sections[0].items[0].severty: unknown field (allowed: key, title, question"),
    (lambda d: _items(d)[0].update(weight=True), "sections[0].items[0].weight: must be a number, got a boolean"),
    (lambda d: _items(d)[0].update(weight=-1), "sections[0].items[0].weight: must be a number greater than 0, got -1.0"),
    (lambda d: _items(d)[0].update(mode="auto"), "sections[0].items[0].mode: must be one of automatic, manual, got 'auto'"),
    (lambda d: _items(d)[0].update(passes_when=""), "sections[0].items[0].passes_when: is required for an automatic item"),
    (lambda d: _items(d)[1].update(passes_when="true"), "sections[0].items[1].passes_when: only automatic items have passes_when"),
    (lambda d: _items(d)[0].update(key="p-9"), "sections[0].items[0].key: must be 3 to 128 letters, digits or underscores, got 'p-9'"),
    (lambda d: _items(d)[0].update(title="x" * 129), "sections[0].items[0].title: must be at most 128 characters (has 129)"),
    (lambda d: _items(d)[0].update(level="platinum"), "sections[0].items[0].level: must be one of"),
    (lambda d: _items(d)[0].update(applies_when="requirements.x.lowerAscii()"), "sections[0].items[0].applies_when: does not compile: unknown function 'lowerAscii'"),
    (lambda d: _items(d)[0]["resources"][0].update(url="ftp://x"), "sections[0].items[0].resources[0].url: must start with http:// or https://"),
    (lambda d: _items(d, 1)[1]["choices"][1].update(id="smaller_model"), "sections[1].items[1].choices[1].id: duplicate choice id 'smaller_model'"),
    (lambda d: _items(d, 1)[1]["choices"][0].update(improvement_plan=None), "sections[1].items[1].choices[0].improvement_plan: is required"),
    (lambda d: _items(d, 1)[1].update(risk_rules=[]), "sections[1].items[1].risk_rules: a multiple-choice item needs risk rules"),
    (lambda d: _items(d, 1)[1]["risk_rules"].pop(), "sections[1].items[1].risk_rules[1].condition: the last risk rule must be 'default'"),
    (lambda d: _items(d, 1)[1]["risk_rules"].insert(0, {"condition": "default", "risk": "LOW"}), "sections[1].items[1].risk_rules: at most 3 risk rules"),
    (lambda d: _items(d, 1)[1]["risk_rules"][1].update(risk="NO_RISK"), "sections[1].items[1].risk_rules[1].risk: risk NO_RISK is already set"),
    (lambda d: _items(d, 1)[1]["risk_rules"][0].update(condition="smaller_model &&"), "sections[1].items[1].risk_rules[0].condition: condition ends too early"),
    (lambda d: _items(d, 1)[1]["risk_rules"][0].pop("risk"), "sections[1].items[1].risk_rules[0].risk: is required"),
    (lambda d: _items(d)[1].update(risk_rules=[{"condition": "default", "risk": "HIGH_RISK"}]), "sections[0].items[1].risk_rules: risk rules need choices"),
    (lambda d: _items(d, 1)[1].update(choices=[dict(_items(d, 1)[1]["choices"][0], id=f"c_{i:02}") for i in range(16)], risk_rules=[{"condition": "default", "risk": "HIGH_RISK"}]), "sections[1].items[1].choices: at most 15 choices"),
    (lambda d: d.update(scoring="levels") or _items(d)[0].update(level=""), "sections[0].items[0].level: is required by the levels strategy"),
])
def test_each_problem_is_reported_with_its_json_path(edit, expected):
    problems = problems_of(edited(edit))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_non_object_document_is_refused():
    assert problems_of([1, 2]) == ["(document): must be an object, got a list"]


def test_unknown_fact_paths_are_refused_when_the_fact_reference_is_given():
    known = {"requirements.workload_timing", "requirements.latency_p99_ms",
             "requirements.availability_target_pct"}
    problems = []
    with pytest.raises(ChecklistError) as caught:
        load_checklist(sample("checklist_valid.json"), known_paths=known)
    problems = [str(p) for p in caught.value.problems]
    assert problems == ["sections[1].items[0].passes_when: does not compile: unknown fact "
                        "'architecture.fallback_chain'"]
    original = copy.deepcopy(sample("checklist_valid.json"))
    load_checklist(original, known_paths=known | {"architecture.fallback_chain"})
