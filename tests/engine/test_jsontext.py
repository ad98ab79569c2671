"""engine.jsontext: the one JSON reader of every importer. Deep nesting, NUL characters and
malformed text end in a message with a place, never in RecursionError or a failed save."""

import json
from pathlib import Path

import pytest

from engine.bench.design_spec import validate_uploaded_result
from engine.checklist import ChecklistError, LensError, load_checklist, validate_checklist
from engine.checklist.lens import lens_to_checklist
from engine.jsontext import MAX_DEPTH, JsonTextError, read_json

DATA = Path(__file__).parent / "data" / "checklist"
RESULT_FILE = Path(__file__).parents[1] / "reviewapp" / "data" / "benchmark-result-tiny.json"
DEEP = "[" * 1000 + "]" * 1000


def test_it_reads_ordinary_json():
    assert read_json(b'{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
    assert read_json("\ufeff[1]".encode("utf-8")) == [1]
    assert read_json('{"x": "' + "[" * 500 + '"}') == {"x": "[" * 500}  # brackets in strings do not count


@pytest.mark.parametrize(
    ("text", "column"),
    [(DEEP, MAX_DEPTH + 1), ('{"a":' * 1000 + "1" + "}" * 1000, 5 * MAX_DEPTH + 1), ("[" * 100_000, MAX_DEPTH + 1)],
)
def test_deep_nesting_is_a_message_not_a_recursion_error(text, column):
    with pytest.raises(JsonTextError) as raised:
        read_json(text)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(raised.value)
    assert (raised.value.line, raised.value.column) == (1, column)


def test_the_limit_itself_is_allowed():
    assert read_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonTextError):
        read_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_a_big_flat_document_is_read_whole():
    text = "[" + ",".join(['{"k": [1, "\\u0000"]}'] * 20_000) + "]"  # 40,001 brackets; the first NUL is named
    with pytest.raises(JsonTextError) as raised:
        read_json(text)
    assert raised.value.path == "[0].k[1]"
    assert len(read_json(text.replace("\\u0000", "x"))) == 20_000


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"name": "a\\u0000b"}', "name"),
        ('{"sections": [{"items": [{"title": "x\\u0000"}]}]}', "sections[0].items[0].title"),
        ('{"ke\\u0000y": 1}', "ke\\u0000y"),
        ('["\\u0000"]', "[0]"),
    ],
)
def test_a_nul_character_is_refused_at_its_path(text, path):
    with pytest.raises(JsonTextError) as raised:
        read_json(text)
    assert raised.value.path == path and "NUL" in raised.value.message


def test_malformed_json_names_line_and_column():
    with pytest.raises(JsonTextError) as raised:
        read_json('{\n  "a": ,\n}')
    assert (raised.value.line, raised.value.column) == (2, 8)
    assert raised.value.message.startswith("malformed JSON at line 2 column 8")


def test_bytes_that_are_not_text_are_refused():
    with pytest.raises(JsonTextError, match="not UTF-8"):
        read_json(b'{"a": "\xff"}')


# --- the importers read through it ---------------------------------------------------------


@pytest.mark.parametrize("reader", [load_checklist, lens_to_checklist])
@pytest.mark.parametrize("text", [DEEP, '{"name": "x\\u0000"}'])
def test_both_checklist_importers_answer_with_a_problem(reader, text):
    with pytest.raises(ChecklistError) as raised:
        reader(text)
    assert raised.value.problems, raised.value


def checklist_document() -> dict:
    return json.loads((DATA / "checklist_valid.json").read_text())


@pytest.mark.parametrize(
    ("field", "path"),
    [
        (("name",), "name"),
        (("sections", 0, "title"), "sections[0].title"),
        (("sections", 0, "items", 0, "improvement_plan"), "sections[0].items[0].improvement_plan"),
        (("sections", 0, "items", 0, "why"), "sections[0].items[0].why"),
    ],
)
def test_checklist_validation_refuses_nul_in_any_text_field(field, path):
    """Data, not text (the admin's item form validates this way): the validation refuses it."""
    document = checklist_document()
    node = document
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = "before\x00after"
    with pytest.raises(ChecklistError) as raised:
        load_checklist(document)
    assert any(p.path == path and "NUL" in p.message for p in raised.value.problems), raised.value.problems


def test_validate_checklist_reports_nul_with_the_json_path():
    from dataclasses import replace

    checklist = load_checklist(checklist_document())
    section = replace(checklist.sections[0], description="a\x00b")
    problems = validate_checklist(replace(checklist, sections=(section, *checklist.sections[1:])))
    assert [p.path for p in problems] == ["sections[0].description"]


def test_a_lens_given_as_data_refuses_nul_at_its_lens_path():
    lens = json.loads((DATA / "lens_valid.json").read_text())
    lens["pillars"][0]["questions"][0]["title"] = "x\x00"
    with pytest.raises(LensError) as raised:
        lens_to_checklist(lens)
    assert any(p.path == "pillars[0].questions[0].title" and "NUL" in p.message for p in raised.value.problems)


def test_the_benchmark_upload_refuses_deep_nesting_and_nul_at_their_path():
    upload, errors = validate_uploaded_result(DEEP)
    assert upload is None and "Nested more than" in errors["$"]
    document = json.loads(RESULT_FILE.read_text())
    document["provenance"]["device_name"] = "AMD\x00EPYC"
    upload, errors = validate_uploaded_result(json.dumps(document))
    assert upload is None and "NUL" in errors["provenance.device_name"]
