"""AWS Well-Architected custom lens: reading, writing, limits, both round trips."""

import copy
import json
import pathlib

import pytest

from engine.checklist import (
    Checklist,
    ChecklistError,
    Section,
    compile_checklist,
    evaluate,
)
from engine.checklist.jsonformat import dump_checklist, load_checklist
from engine.checklist.lens import (
    AUTOMATIC_NOTE,
    LensError,
    checklist_to_lens,
    lens_to_checklist,
)

from .test_checklist_rules import auto, manual

DATA = pathlib.Path(__file__).parent / "data" / "checklist"


def sample(name):
    return json.loads((DATA / name).read_text())


def lens_problems(data):
    with pytest.raises(LensError) as caught:
        lens_to_checklist(data)
    assert isinstance(caught.value, ChecklistError)  # one except clause catches both formats
    return [str(p) for p in caught.value.problems]


def test_it_reads_a_lens_as_manual_multiple_choice_items():
    checklist = lens_to_checklist(sample("lens_valid.json"))
    assert (checklist.key, checklist.name) == ("ml_platform_policy", "ML Platform Policy")
    assert [(s.key, s.title, s.order) for s in checklist.sections] == [
        ("reliability", "Reliability", 0), ("costOptimization", "Cost optimization", 1)]
    item = checklist.item("rel_fallback")
    assert (item.mode, item.severity, item.weight) == ("manual", "high", 1.0)
    assert item.question.startswith("Models fail")
    assert item.resources[0].url == "https://example.com/degradation"
    assert [c.id for c in item.choices] == ["smaller_model", "cached_answer", "fallback_no"]
    assert item.choices[1].additional_improvement_plans[1].title == "Expire entries on model change."
    assert checklist.item("rel_breaker").severity == "medium"  # no rule gives HIGH_RISK


def test_an_imported_lens_evaluates_with_its_risk_rules():
    compiled = compile_checklist(lens_to_checklist(sample("lens_valid.json")))
    evaluation = evaluate(compiled, {}, {
        "rel_fallback": {"choices": ["cached_answer"]},
        "rel_breaker": {"choices": ["breaker_on", "breaker_alerts"]},
        "cost_spot": {"choices": ["spot_no"]},
    })
    assert [(f.item_key, f.outcome, f.risk) for f in evaluation.findings] == [
        ("rel_fallback", "fail", "medium"), ("rel_breaker", "pass", None),
        ("cost_spot", "fail", "high")]
    assert evaluation.verdict == "not_ready"


def test_lens_to_checklist_to_lens_is_the_same_lens():
    lens = sample("lens_valid.json")
    assert checklist_to_lens(lens_to_checklist(lens)) == lens


def test_lens_through_our_json_format_and_back_is_the_same_lens():
    lens = sample("lens_valid.json")
    ours = dump_checklist(lens_to_checklist(lens))
    assert checklist_to_lens(load_checklist(json.loads(json.dumps(ours)))) == lens


def test_any_checklist_exports_as_a_valid_lens():
    checklist = load_checklist(sample("checklist_valid.json"))
    lens = checklist_to_lens(checklist)
    assert lens["schemaVersion"] == "2021-11-01"
    questions = {q["id"]: q for p in lens["pillars"] for q in p["questions"]}
    automatic = questions["req_p99_defined"]
    assert AUTOMATIC_NOTE in automatic["description"]
    assert "`requirements.latency_p99_ms != null && requirements.latency_p99_ms > 0`" in automatic["description"]
    assert automatic["description"].startswith("Is there a p99 latency budget")
    assert "Why it matters: Capacity is sized" in automatic["description"]
    assert [c["id"] for c in automatic["choices"]] == ["practice_followed", "practice_no"]
    assert automatic["riskRules"] == [{"condition": "practice_followed", "risk": "NO_RISK"},
                                      {"condition": "default", "risk": "HIGH_RISK"}]
    assert questions["req_reviewed"]["riskRules"][1]["risk"] == "MEDIUM_RISK"  # low severity
    assert questions["rel_degradation"]["choices"][0]["improvementPlan"] == {
        "displayText": "Deploy a distilled fallback model."}
    # the exported lens is accepted by our own strict lens reader
    reread = lens_to_checklist(lens)
    assert len(list(reread.iter_items())) == 4
    assert checklist_to_lens(reread) == lens


def test_export_splits_big_sections_and_cuts_long_text():
    items = tuple(manual(f"item_{n:02}", question="q" * 3000) for n in range(45))
    checklist = Checklist("big_list", "Big", sections=(Section("big", "Big section", items=items),))
    lens = checklist_to_lens(checklist)
    assert [(p["id"], p["name"], len(p["questions"])) for p in lens["pillars"]] == [
        ("big", "Big section", 20), ("big_part2", "Big section (part 2)", 20),
        ("big_part3", "Big section (part 3)", 5)]
    description = lens["pillars"][0]["questions"][0]["description"]
    assert len(description) == 2048 and description.endswith("…")
    assert len(list(lens_to_checklist(lens).iter_items())) == 45


def test_export_refuses_a_checklist_that_needs_more_than_ten_pillars():
    sections = tuple(Section(f"sec_{n:02}", f"S{n}", items=(auto(f"it_{n:02}", "true"),))
                     for n in range(11))
    with pytest.raises(LensError, match="needs 11 lens pillars"):
        checklist_to_lens(Checklist("many_list", "Many", sections=sections))


def test_a_lens_with_an_unknown_risk_value_is_refused():
    assert lens_problems(sample("lens_unknown_risk.json")) == [
        "pillars[0].questions[0].riskRules[1].risk: must be one of HIGH_RISK, MEDIUM_RISK, "
        "NO_RISK, got 'LOW_RISK'"]


def test_a_lens_condition_naming_an_unknown_choice_is_refused():
    assert lens_problems(sample("lens_unknown_choice.json")) == [
        "pillars[1].questions[0].riskRules[0].condition: refers to unknown choice 'spot_everywhere'"]


def test_a_lens_with_another_schema_version_is_refused():
    assert lens_problems(sample("lens_wrong_schema_version.json")) == [
        "schemaVersion: must be '2021-11-01', got '2020-01-01'"]


def test_a_malformed_lens_is_refused_with_line_and_column():
    (problem,) = lens_problems((DATA / "lens_malformed.json").read_text())
    assert problem.startswith("(document): malformed JSON at line ")


def test_an_over_limit_lens_is_refused_with_each_limit():
    problems = lens_problems(sample("lens_over_limit.json"))
    assert problems == [
        "pillars: at most 10 pillars (AWS lens limit), has 11",
        "pillars[0].questions: at most 20 questions (AWS lens limit), has 21",
        "pillars[1].questions[0].choices: at most 15 choices (AWS lens limit), has 16",
        "pillars[1].questions[0].riskRules: at most 3 risk rules (AWS lens limit), has 4",
    ]


def edited(edit):
    lens = sample("lens_valid.json")
    edit(lens)
    return lens


def _q(lens, p=0, q=0):
    return lens["pillars"][p]["questions"][q]


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d.pop("name"), "name: is required"),
    (lambda d: d.update(name="n" * 129), "name: must be at most 128 characters (has 129)"),
    (lambda d: d.update(description="d" * 2049), "description: must be at most 2048 characters"),
    (lambda d: d.update(pillars=[]), "pillars: needs at least one pillar"),
    (lambda d: d["pillars"][1].update(id="reliability"), "pillars[1].id: duplicate pillar id 'reliability'"),
    (lambda d: d["pillars"][0].update(id="re"), "pillars[0].id: must be 3 to 128 letters, digits or underscores, got 're'"),
    (lambda d: d["pillars"][0].update(questions="x"), "pillars[0].questions: must be a list"),
    (lambda d: _q(d, 1).update(id="rel_fallback"), "pillars[1].questions[0].id: duplicate question id 'rel_fallback'"),
    (lambda d: _q(d).update(title=""), "pillars[0].questions[0].title: must not be empty"),
    (lambda d: _q(d).update(title=5), "pillars[0].questions[0].title: must be a string"),
    (lambda d: _q(d)["helpfulResource"].pop("displayText"), "pillars[0].questions[0].helpfulResource.displayText: is required when url is given"),
    (lambda d: _q(d)["helpfulResource"].update(url="example.com"), "pillars[0].questions[0].helpfulResource.url: must start with http:// or https://"),
    (lambda d: _q(d)["choices"][0].pop("improvementPlan"), "pillars[0].questions[0].choices[0].improvementPlan: is required"),
    (lambda d: _q(d)["choices"][1].update(id="smaller_model"), "pillars[0].questions[0].choices[1].id: duplicate choice id 'smaller_model'"),
    (lambda d: _q(d)["choices"][1]["additionalResources"][0].update(type="LINK"), "pillars[0].questions[0].choices[1].additionalResources[0].type: must be one of HELPFUL_RESOURCE, IMPROVEMENT_PLAN"),
    (lambda d: _q(d)["choices"][1]["additionalResources"][1].update(content=[{"displayText": "x"}] * 6), "pillars[0].questions[0].choices[1].additionalResources[1].content: at most 5 resources"),
    (lambda d: _q(d).update(riskRules=[]), "pillars[0].questions[0].riskRules: needs at least one risk rule"),
    (lambda d: _q(d)["riskRules"].pop(), "pillars[0].questions[0].riskRules[1].condition: the last risk rule must be 'default'"),
    (lambda d: _q(d)["riskRules"][0].update(condition="smaller_model &&& cached_answer"), "pillars[0].questions[0].riskRules[0].condition: unexpected character '&'"),
    (lambda d: _q(d)["riskRules"][0].update(condition="default"), "pillars[0].questions[0].riskRules[0].condition: 'default' must be the last rule"),
    (lambda d: _q(d)["riskRules"][1].update(risk="HIGH_RISK"), "pillars[0].questions[0].riskRules[2].risk: risk HIGH_RISK is already set"),
    (lambda d: _q(d)["riskRules"][0].pop("condition"), "pillars[0].questions[0].riskRules[0].condition: is required"),
    (lambda d: d["pillars"].append([]), "pillars[2]: must be an object"),
])
def test_each_lens_problem_is_reported_with_its_json_path(edit, expected):
    problems = lens_problems(edited(edit))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_lens_must_be_an_object():
    assert lens_problems([]) == ["(document): must be an object"]


def test_a_lens_is_not_changed_by_reading_it():
    lens = sample("lens_valid.json")
    before = copy.deepcopy(lens)
    lens_to_checklist(lens)
    assert lens == before
