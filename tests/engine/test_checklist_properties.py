"""Properties: no input makes the parsers or the evaluator crash, and our format round-trips."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.checklist import ChecklistError, compile_checklist, default_checklist, evaluate
from engine.checklist.conditions import ConditionError, choice_ids, evaluate_condition, parse_condition
from engine.checklist.jsonformat import dump_checklist, load_checklist
from engine.checklist.lens import lens_to_checklist

CONDITION_ALPHABET = st.sampled_from(["a_1", "b_2", "c_3", "&&", "||", "!", "(", ")", " ", "default", "&", "x"])
JSON_LEAVES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=5)
JSON_VALUES = st.recursive(JSON_LEAVES, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(string.ascii_lowercase, max_size=4), children, max_size=3),
                           max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(CONDITION_ALPHABET, max_size=12).map(" ".join))
def test_conditions_parse_or_raise_condition_error_only(text):
    try:
        node = parse_condition(text)
    except ConditionError:
        return
    assert evaluate_condition(node, choice_ids(node)) in (True, False)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["requirements", "architecture", "cost", "benchmark", "capacity",
                                        "traffic", "latency_budget", "data_volume"]), JSON_VALUES, max_size=8))
def test_any_facts_tree_evaluates_without_raising(tree):
    evaluation = evaluate(COMPILED_DEFAULT, tree)
    assert len(evaluation.findings) == len(COMPILED_DEFAULT.items)
    assert 0.0 <= evaluation.score.overall <= 100.0


@settings(max_examples=60, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_loaded_or_refused_with_problems(value):
    for reader in (load_checklist, lens_to_checklist):
        try:
            reader(value)
        except ChecklistError as exc:
            assert exc.problems


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["weighted", "minimum", "levels"]), st.floats(0.1, 50),
       st.text(st.characters(blacklist_characters="\x00"), max_size=40))  # NUL is refused (cannot be stored)
def test_edited_default_checklist_round_trips(strategy, weight, text):
    data = dump_checklist(default_checklist())
    data["scoring"] = strategy
    data["description"] = text
    data["sections"][0]["items"][0]["weight"] = weight
    data["sections"][0]["items"][0]["why"] = text
    checklist = load_checklist(data)
    assert dump_checklist(checklist) == data
    assert load_checklist(dump_checklist(checklist)) == checklist


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=20).map(lambda t: t[:10] + "\x00" + t[10:]))
def test_text_with_a_nul_character_is_refused_at_its_path(text):
    data = dump_checklist(default_checklist())
    data["sections"][0]["items"][0]["why"] = text
    try:
        load_checklist(data)
    except ChecklistError as exc:
        assert [p.path for p in exc.problems] == ["sections[0].items[0].why"]
    else:
        raise AssertionError("a NUL character was accepted")


COMPILED_DEFAULT = compile_checklist(default_checklist())
