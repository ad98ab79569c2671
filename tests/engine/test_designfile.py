"""The design file (engine.designfile): round trips, refusals that name the field or the line, and
the JSON Schema generated from the field definitions (and committed, so it cannot drift)."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine import designfile
from engine.design import FIELDS, example_design, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "design-file.schema.json"


def demo() -> dict:
    return validate(example_design()).document


def demo_file(**changes) -> dict:
    document = designfile.dump(demo(), name="Support assistant", description="RAG on an 8B LLM")
    document.update(changes)
    return document


def errors_of(source) -> list[tuple[str, str]]:
    with pytest.raises(designfile.DesignFileError) as caught:
        designfile.load(source)
    assert caught.value.errors, "a DesignFileError must say what is wrong"
    return caught.value.errors


def paths_of(source) -> list[str]:
    return [path for path, _message in errors_of(source)]


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_it_round_trips_the_demo_design_exactly(fmt):
    inputs = demo()
    text = designfile.dumps(inputs, name="Support assistant", description="RAG\non an 8B LLM", fmt=fmt)
    loaded = designfile.load(text)
    assert loaded.inputs == inputs
    assert json.dumps(loaded.inputs, sort_keys=True) == json.dumps(inputs, sort_keys=True)  # ints stay ints
    assert (loaded.name, loaded.description, loaded.measurements) == ("Support assistant", "RAG\non an 8B LLM", None)


def test_it_round_trips_bytes_and_a_parsed_mapping():
    inputs = demo()
    assert designfile.load(designfile.dumps(inputs, name="x").encode()).inputs == inputs
    assert designfile.load(designfile.dump(inputs, name="x")).inputs == inputs


def test_it_round_trips_a_batch_design_and_awkward_text():
    inputs = copy.deepcopy(demo())
    inputs["requirements"].update(workload_timing="batch", records_per_run=10_000_000_000_000, runs_per_day=0.14,
                                  processing_window_h=6.0, deadline_h=8.0, record_size_kb=0.1,
                                  use_case="Nightly: «scores» — yes: no # not a comment\n- not a list")
    inputs = validate(inputs).document
    assert inputs["requirements"]["records_per_run"] == 10_000_000_000_000
    loaded = designfile.load(designfile.dumps(inputs, name="Nightly scoring"))
    assert loaded.inputs == inputs


def test_a_blank_design_round_trips_and_missing_fields_load_as_blank():
    blank = validate({}).document
    assert designfile.load(designfile.dumps({}, name="Empty")).inputs == blank
    minimal = "format: ai-design-review/design\nversion: 1\nname: Minimal\ninputs: {}\n"
    assert designfile.load(minimal).inputs == blank


def test_dump_writes_every_field_in_form_order_and_only_known_measurements():
    document = designfile.dump(demo(), name="x", measurements={"max_qps_at_p99": 12.5, "source": "benchmark",
                                                                "device": "cpu", "seed": None})
    written = [f"{group}.{name}" for group, values in document["inputs"].items() for name in values]
    assert written == [f.key for f in FIELDS]
    assert document["measurements"] == {"max_qps_at_p99": 12.5, "device": "cpu"}
    loaded = designfile.load(designfile.dumps(demo(), name="x", measurements=document["measurements"]))
    assert loaded.measurements == {"max_qps_at_p99": 12.5, "device": "cpu"}


# --- refusals, each naming the field or the line ----------------------------------------------------


def test_a_wrong_type_is_refused_with_the_field_path_and_line():
    text = designfile.dumps(demo(), name="x").replace("latency_p99_ms: 8000.0", "latency_p99_ms: fast")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "latency_p99_ms: fast" in row)
    [(path, message)] = errors_of(text)
    assert path == "inputs.requirements.latency_p99_ms"
    assert "P99 latency" in message and "expects a number" in message and f"(line {line})" in message


def test_a_number_given_as_text_is_refused_as_the_schema_says():
    document = demo_file()
    document["inputs"]["requirements"]["peak_qps"] = "70"
    [(path, message)] = errors_of(document)
    assert path == "inputs.requirements.peak_qps" and "expects a number" in message


def test_an_out_of_range_value_is_refused_with_the_forms_message():
    document = demo_file()
    document["inputs"]["requirements"]["availability_target_pct"] = 120
    [(path, message)] = errors_of(document)
    assert path == "inputs.requirements.availability_target_pct"
    assert message == "Availability target: must be at most 100 %."


def test_a_cross_field_check_of_the_forms_is_applied():
    document = demo_file()
    document["inputs"]["requirements"]["latency_p99_ms"] = 100.0  # below the P95 of 6000 ms
    assert paths_of(document) == ["inputs.requirements.latency_p99_ms", "inputs.requirements.time_to_first_token_ms"]


def test_an_unknown_choice_is_refused():
    document = demo_file()
    document["inputs"]["architecture"]["serving_framework"] = "my-own-server"
    [(path, message)] = errors_of(document)
    assert path == "inputs.architecture.serving_framework" and "'my-own-server' is not one of" in message


def test_an_unknown_accelerator_is_refused_unless_the_catalog_has_it():
    document = demo_file()
    document["inputs"]["architecture"]["gpu_type"] = "tpu-v5"
    assert paths_of(document) == ["inputs.architecture.gpu_type"]
    catalog = json.loads((ROOT / "engine" / "data" / "gpu_prices.json").read_text())
    catalog["gpus"]["tpu-v5"] = catalog["gpus"]["h100-80gb"]
    assert designfile.load(document, gpu_catalog=catalog).inputs["architecture"]["gpu_type"] == "tpu-v5"


@pytest.mark.parametrize("where, path", [
    (("inputs", "architecture"), "inputs.architecture.max_replica"),
    (("inputs",), "inputs.operations"),
    ((), "colour"),
])
def test_an_unknown_key_is_refused_at_every_level(where, path):
    document = demo_file()
    node = document
    for key in where:
        node = node[key]
    node[path.rsplit(".", 1)[-1]] = 3
    [(error_path, message)] = errors_of(document)
    assert error_path == path and "unknown" in message
    if path == "inputs.architecture.max_replica":
        assert "did you mean 'max_replicas'" in message


def test_a_value_for_a_field_the_design_hides_is_refused_not_dropped():
    document = demo_file()
    document["inputs"]["requirements"]["records_per_run"] = 5000  # an online design has no batch runs
    [(path, message)] = errors_of(document)
    assert path == "inputs.requirements.records_per_run" and "requirements.workload_timing" in message


@pytest.mark.parametrize("change, path, words", [
    ({"format": None}, "format", "is required"),
    ({"format": "ai-design-review/checklist"}, "format", "not a design file"),
    ({"version": 2}, "version", "understands version 1"),
    ({"version": "1"}, "version", "whole number"),
    ({"version": None}, "version", "is required"),
    ({"name": "  "}, "name", "must not be blank"),
    ({"name": None}, "name", "is required"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"inputs": None}, "inputs", "is required"),
    ({"inputs": ["requirements"]}, "inputs", "must be a mapping"),
    ({"measurements": {"max_qps_at_p99": -1}}, "measurements.max_qps_at_p99", "number >= 0"),
    ({"measurements": {"qps": 3}}, "measurements.qps", "unknown measurement"),
])
def test_a_bad_envelope_is_refused_naming_the_key(change, path, words):
    document = demo_file()
    for key, value in change.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    errors = errors_of(document)
    assert [p for p, _m in errors] == [path], errors
    assert words in errors[0][1]


def test_a_missing_format_is_refused_in_yaml_text_with_its_hint():
    text = "version: 1\nname: x\ninputs: {}\n"
    [(path, message)] = errors_of(text)
    assert path == "format" and "ai-design-review/design" in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n", "42\n", "null\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text):
    [(path, message)] = errors_of(text)
    assert path == "(document)" and "must be a mapping" in message


def test_a_json_array_is_refused():
    assert paths_of(b"[1, 2]") == ["(document)"]
    assert paths_of("[1, 2]") == ["(document)"]


def test_invalid_yaml_is_refused_with_its_line():
    text = "format: ai-design-review/design\nversion: 1\nname: x\ninputs:\n  requirements: [1, 2\n"
    [(path, message)] = errors_of(text)
    assert path.startswith("line ") and "invalid YAML at line" in message


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\ufffe"], ids=["nul", "soh", "esc", "u+fffe"])
def test_a_control_character_is_refused_with_its_line_and_column(char):
    text = designfile.dumps(demo(), name="x").replace("name: x", f"name: x{char}y")
    line = text.splitlines().index(f"name: x{char}y") + 1
    [(path, message)] = errors_of(text)
    assert path == f"line {line}"
    assert f"line {line} column 8" in message and f"U+{ord(char):04X}" in message
    [(path, _message)] = errors_of(text.encode())
    assert path == f"line {line}"


def test_invalid_json_is_refused_with_its_line():
    [(path, message)] = errors_of('{\n  "format": "ai-design-review/design",\n  "version": 1,,\n}')
    assert path == "line 3" and "malformed JSON at line 3" in message


def test_a_huge_file_is_refused_before_it_is_parsed():
    huge = "format: ai-design-review/design\n# " + "x" * designfile.MAX_FILE_BYTES + "\n"
    [(path, message)] = errors_of(huge)
    assert path == "(document)" and "at most 1,000,000" in message
    [(path, _message)] = errors_of(huge.encode())
    assert path == "(document)"


def test_yaml_aliases_are_refused_so_an_alias_bomb_cannot_expand():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    [(path, message)] = errors_of(bomb)
    assert path == "line 2" and "aliases" in message


def test_yaml_python_tags_are_refused():
    [(path, message)] = errors_of("name: !!python/object/apply:os.system [echo hi]\n")
    assert path.startswith("line ") and "invalid YAML" in message


def test_a_key_given_twice_is_refused_instead_of_keeping_the_last():
    text = designfile.dumps(demo(), name="x").replace("  architecture:\n", "  architecture:\n    gpu_type: a100-80gb\n")
    [(path, message)] = errors_of(text)
    assert path == "inputs.architecture.gpu_type" and "given twice" in message


def test_not_utf8_and_empty_files_are_refused():
    assert paths_of(b"name: \xff\xfe\xfa\n") == ["(document)"]
    assert paths_of("   \n") == ["(document)"]


def test_every_problem_is_reported_at_once():
    document = demo_file(version=3)
    document["inputs"]["requirements"]["peak_qps"] = True
    document["inputs"]["architecture"]["caches"] = "prompt"
    assert paths_of(document) == ["version", "inputs.requirements.peak_qps", "inputs.architecture.caches"]


# --- the JSON Schema -------------------------------------------------------------------------------


def test_the_committed_schema_is_the_generated_one():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == designfile.json_schema(), (
        "schemas/design-file.schema.json is stale: run `python -m engine schema > schemas/design-file.schema.json`")


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(designfile.json_schema())


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_the_schema_accepts_the_example_design_file(fmt):
    text = designfile.dumps(demo(), name="Support assistant", measurements={"max_qps_at_p99": 30.0}, fmt=fmt)
    jsonschema.validate(yaml.safe_load(text), designfile.json_schema())


def test_the_schema_is_generated_from_the_field_definitions():
    schema = designfile.json_schema()
    assert schema["required"] == ["format", "version", "name", "inputs"]
    groups = schema["properties"]["inputs"]["properties"]
    assert [f"{g}.{n}" for g in groups for n in groups[g]["properties"]] == [f.key for f in FIELDS]
    p99 = groups["requirements"]["properties"]["latency_p99_ms"]
    assert p99["type"] == ["number", "null"] and p99["x-unit"] == "ms" and "Unit: ms." in p99["description"]
    assert (p99["minimum"], p99["maximum"]) == (0.01, 3_600_000.0)
    timing = groups["requirements"]["properties"]["workload_timing"]
    assert timing["enum"] == ["online", "near_real_time", "batch", "streaming", None]
    records = groups["requirements"]["properties"]["records_per_run"]
    assert records["type"] == ["integer", "null"] and 'requirements.workload_timing is "batch"' in records["description"]


@pytest.mark.parametrize("key, value", [
    ("requirements.latency_p99_ms", "fast"),
    ("requirements.availability_target_pct", 120),
    ("architecture.serving_framework", "my-own-server"),
    ("architecture.max_replica", 3),
])
def test_the_schema_refuses_what_load_refuses(key, value):
    document = demo_file()
    group, name = key.split(".")
    document["inputs"][group][name] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, designfile.json_schema())
    assert paths_of(document) == [f"inputs.{key}"]
