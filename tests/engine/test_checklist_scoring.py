"""Scoring strategies, checked against numbers computed by hand."""

import dataclasses

import pytest

from engine.checklist import Checklist, Section, compile_checklist, evaluate

from .test_checklist_rules import auto, manual, multiple_choice

# Effective weight = weight x severity multiplier (high 3, medium 2, low 1).
SECTION_A = Section("sec_a", "Section A", order=1, items=(
    auto("a_1", "true", severity="high", weight=2, level="bronze"),        # pass,  ew 6
    auto("a_2", "false", severity="medium", level="silver"),               # fail,  ew 2
    auto("a_3", "true", applies_when="false", severity="low", level="bronze"),  # n/a
))
SECTION_B = Section("sec_b", "Section B", order=2, items=(
    auto("b_1", "true", severity="low", weight=2, level="bronze"),         # pass,  ew 2
    dataclasses.replace(multiple_choice("b_2"), level="gold"),             # MEDIUM_RISK, ew 2, credit 0.5
    auto("b_3", "requirements.nope > 1.0", level="gold"),                  # rule error, not scored
    manual("b_4", severity="high", level="gold"),                          # unanswered, ew 3
))
ANSWERS = {"b_2": {"choices": ["aaa"]}}


def evaluate_with(strategy):
    checklist = Checklist("score_test", "Score test", scoring=strategy,
                          sections=(SECTION_B, SECTION_A))  # file order differs from `order`
    return evaluate(compile_checklist(checklist), {"requirements": {}}, ANSWERS)


def test_weighted_score_by_hand():
    evaluation = evaluate_with("weighted")
    score = evaluation.score
    # possible 6 + 2 + 2 + 2 + 3 = 15, earned 6 + 0 + 2 + 1 + 0 = 9
    assert score.overall == pytest.approx(60.0)
    assert [(s.key, s.score, s.earned_weight, s.possible_weight) for s in score.sections] == [
        ("sec_a", pytest.approx(75.0), 6.0, 8.0),
        ("sec_b", pytest.approx(300 / 7), 3.0, 7.0),
    ]
    lost = {line.item_key: round(line.overall_points_lost, 3) for line in score.lines}
    assert lost == {"b_4": 20.0, "a_2": 13.333, "b_2": 6.667, "b_3": 0.0}
    assert [line.item_key for line in score.lines] == ["b_4", "a_2", "b_2", "b_3"]
    assert sum(line.overall_points_lost for line in score.lines) == pytest.approx(100 - score.overall)
    by_key = {line.item_key: line for line in score.lines}
    assert by_key["a_2"].points_lost == pytest.approx(25.0)          # of section A's 8
    assert by_key["b_4"].points_lost == pytest.approx(300 / 7)       # 3 of section B's 7
    assert by_key["b_3"].credit is None and "rule" in by_key["b_3"].reason
    assert "9 of 15 weight points" in score.explanation[0]


def test_weighted_counts_and_verdict():
    evaluation = evaluate_with("weighted")
    assert evaluation.counts == {"pass": 2, "fail": 2, "not_applicable": 1, "unanswered": 1,
                                 "rule_error": 1, "accepted_risk": 0}
    assert (evaluation.high_risk_count, evaluation.medium_risk_count, evaluation.unanswered_high_count) == (0, 2, 1)
    # b_4 is a high-severity manual item nobody answered: an unknown high risk, not a caveat.
    assert evaluation.verdict == "not_ready"
    assert evaluation.verdict_reasons == ("1 high-severity item not answered",)


def test_unanswered_high_severity_items_make_it_not_ready_until_answered():
    """Seven unanswered high manual items read "0 high" and "Ready with risks" before (issue 27,
    item 7): a review that has not looked at its high-severity items cannot call the design ready."""
    items = tuple(manual(f"h_{i}", severity="high") for i in range(7)) + (
        manual("m_1", severity="medium"), auto("ok_1", "true", weight=40))
    compiled = compile_checklist(Checklist("u_test", "Unanswered", sections=(Section("s_1", "S", items=items),)))
    evaluation = evaluate(compiled, {})
    assert evaluation.score.overall == pytest.approx(80 / (80 + 7 * 3 + 2) * 100)  # 77.7: above 50
    assert (evaluation.high_risk_count, evaluation.unanswered_count, evaluation.unanswered_high_count) == (0, 8, 7)
    assert (evaluation.verdict, evaluation.verdict_reasons) == ("not_ready", ("7 high-severity items not answered",))

    answered = {f"h_{i}": {"status": "pass"} for i in range(7)}
    evaluation = evaluate(compiled, {}, answered)
    assert evaluation.unanswered_high_count == 0
    assert (evaluation.verdict, evaluation.verdict_reasons) == ("ready_with_risks", ("1 item not answered",))
    assert evaluate(compiled, {}, {**answered, "m_1": {"status": "pass"}}).verdict == "ready"


def test_minimum_score_is_the_weakest_section():
    evaluation = evaluate_with("minimum")
    score = evaluation.score
    assert score.overall == pytest.approx(300 / 7)
    lost = {line.item_key: round(line.overall_points_lost, 3) for line in score.lines}
    # only the weakest section's items move the overall score
    assert lost == {"b_4": 42.857, "b_2": 14.286, "a_2": 0.0, "b_3": 0.0}
    assert "Section B" in score.explanation[0]
    assert evaluation.verdict == "not_ready"
    assert evaluation.verdict_reasons == ("1 high-severity item not answered", "score 42.9 is below 50")


def test_levels_are_reached_bottom_up():
    score = evaluate_with("levels").score
    assert [(lv.key, lv.reached, lv.passed, lv.total, lv.blocking) for lv in score.levels] == [
        ("bronze", True, 3, 3, ()),                      # a_1 pass, a_3 n/a, b_1 pass
        ("silver", False, 0, 1, ("a_2",)),
        ("gold", False, 0, 3, ("b_2", "b_3", "b_4")),
    ]
    assert score.level_reached == "bronze"
    assert score.overall == pytest.approx(100 / 3)
    assert {line.item_key: line.blocks_level for line in score.lines}["a_2"] == "silver"
    assert score.explanation == ("1 of 3 levels reached (highest: bronze).",
                                 "Level 'Silver' is blocked by a_2.")


def test_a_higher_level_does_not_count_while_a_lower_one_is_missed():
    checklist = Checklist("lv_test", "Levels", scoring="levels", sections=(Section("s_1", "S", items=(
        auto("l_bronze", "false", level="bronze"), auto("l_silver", "true", level="silver"),
    )),))
    score = evaluate(compile_checklist(checklist), {}).score
    assert [lv.reached for lv in score.levels] == [False, False, False]
    assert (score.overall, score.level_reached) == (0.0, "")


def test_an_open_high_risk_means_not_ready_and_a_clean_sheet_means_ready():
    risky = Checklist("v_test", "Verdict", sections=(Section("s_1", "S", items=(
        auto("ok_1", "true", weight=10), auto("bad_1", "false", severity="high"),
    )),))
    evaluation = evaluate(compile_checklist(risky), {})
    assert evaluation.score.overall == pytest.approx(20 / 23 * 100)
    assert (evaluation.verdict, evaluation.verdict_reasons) == ("not_ready", ("1 open high-risk issue",))

    clean = Checklist("v_test", "Verdict", sections=(Section("s_1", "S", items=(
        auto("ok_1", "true"), auto("low_1", "false", severity="low", weight=0.1),
    )),))
    evaluation = evaluate(compile_checklist(clean), {})
    assert evaluation.low_risk_count == 1
    assert evaluation.verdict == "ready"  # low-risk issues alone do not block


def test_nothing_applicable_scores_100():
    checklist = Checklist("empty_ok", "Empty", sections=(Section("s_1", "S", items=(
        auto("na_1", "false", applies_when="false"),)),))
    evaluation = evaluate(compile_checklist(checklist), {})
    assert evaluation.score.overall == 100.0
    assert evaluation.verdict == "ready"


def test_evaluation_as_dict_is_json_ready():
    import json

    data = evaluate_with("weighted").as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["score"]["overall"] == pytest.approx(60.0)
    assert data["findings"][0]["trace"][0]["field"] in ("passes_when", "applies_when")
