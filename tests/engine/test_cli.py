"""`python -m engine`: the design-file gate a team runs in CI. Every run here is a subprocess in
which Django and Celery cannot be imported (a control proves it), so the gate needs neither."""

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import designfile
from engine.assessment import assess
from engine.checklist import compile_checklist, default_checklist
from engine.design import example_design, validate

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "checklist"
BENCH_RESULT = ROOT / "tests" / "reviewapp" / "data" / "benchmark-result-tiny.json"

# Loaded before anything else by `site`: any import of django, celery or reviewapp fails.
BLOCKER = '''
import sys

class _NoDjango:
    BLOCKED = {"django", "celery", "reviewapp"}

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"{name} is blocked: the engine CLI must run without Django")
        return None

sys.meta_path.insert(0, _NoDjango())
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    blocker = tmp_path_factory.mktemp("no_django")
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{blocker}:{ROOT}", "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8"}


def run(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def demo_inputs() -> dict:
    return validate(example_design()).document


def failing_inputs() -> dict:
    """The demo over its budget, without data versioning: two open high-risk findings."""
    inputs = copy.deepcopy(demo_inputs())
    inputs["requirements"]["monthly_gpu_budget_usd"] = 1000.0
    inputs["architecture"]["data_versioning"] = "none"
    return inputs


@pytest.fixture
def passing_file(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text(designfile.dumps(demo_inputs(), name="Support assistant"))
    return path


@pytest.fixture
def failing_file(tmp_path):
    path = tmp_path / "over-budget.yaml"
    path.write_text(designfile.dumps(failing_inputs(), name="Over budget"))
    return path


def in_process(inputs: dict):
    """What the engine says in this process (the reference the CLI must agree with)."""
    return assess(inputs, compile_checklist(default_checklist()))


# --- the control: the subprocess really cannot import Django ------------------------------------


@pytest.mark.parametrize("module", ["django", "celery", "reviewapp.settings"])
def test_control_the_subprocess_cannot_import_django_or_celery(env, module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "is blocked: the engine CLI must run without Django" in result.stderr


# --- the gate -------------------------------------------------------------------------------------


def test_it_passes_a_good_design_with_exit_0(env, passing_file):
    result = run(env, "assess", passing_file, "--fail-under", "70", "--fail-on", "high")
    assert result.returncode == 0, result.stderr
    assert "Gate: PASSED" in result.stdout
    expected = in_process(demo_inputs())
    assert f"Score: {expected.evaluation.score.overall:.1f} / 100" in result.stdout
    assert "capacity.replicas" in result.stdout and "cost.monthly_usd.selected" in result.stdout


def test_it_fails_a_design_with_an_open_high_risk_with_exit_1(env, failing_file):
    expected = in_process(failing_inputs()).evaluation
    high = sorted(f.item_key for f in expected.findings if f.outcome == "fail" and f.risk == "high")
    assert {"cost_within_budget", "data_versioning"} <= set(high)
    result = run(env, "assess", failing_file, "--fail-on", "high")
    assert result.returncode == 1, result.stderr
    assert "Gate: FAILED" in result.stdout and "(--fail-on high)" in result.stdout
    for key in high:
        assert key in result.stdout
    failed = result.stdout.split("Failed findings")[1]
    assert failed.index("[HIGH]") < failed.index("[MEDIUM]") < failed.index("[LOW]")  # most severe first


def test_fail_on_counts_the_level_and_the_more_severe_ones(env, passing_file):
    evaluation = in_process(demo_inputs()).evaluation
    risks = {f.risk for f in evaluation.findings if f.outcome == "fail"}
    assert risks == {"medium", "low"}  # the demo: no open high risk
    assert run(env, "assess", passing_file, "--fail-on", "high").returncode == 0
    assert run(env, "assess", passing_file, "--fail-on", "medium").returncode == 1
    assert run(env, "assess", passing_file, "--fail-on", "low").returncode == 1


def test_fail_under_compares_the_overall_score(env, passing_file):
    overall = in_process(demo_inputs()).evaluation.score.overall
    assert 70 < overall < 80
    assert run(env, "assess", passing_file, "--fail-under", "70").returncode == 0
    result = run(env, "assess", passing_file, "--fail-under", "80")
    assert result.returncode == 1
    assert f"score {overall:.1f} is below 80 (--fail-under 80)" in result.stdout


def test_without_a_threshold_the_gate_reports_and_passes(env, failing_file):
    result = run(env, "assess", failing_file)
    assert result.returncode == 0 and "no --fail-under or --fail-on given" in result.stdout


# --- formats ----------------------------------------------------------------------------------------


def test_json_output_carries_the_score_findings_numbers_and_gate(env, failing_file):
    result = run(env, "assess", failing_file, "--format", "json", "--fail-under", "50", "--fail-on", "high")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    expected = in_process(failing_inputs())
    assert report["format"] == "ai-design-review/assessment"
    assert report["design"]["name"] == "Over budget"
    assert report["score"]["overall"] == expected.evaluation.score.overall
    assert report["verdict"] == expected.evaluation.verdict
    assert [(f["item_key"], f["outcome"]) for f in report["findings"]] == [
        (f.item_key, f.outcome) for f in expected.evaluation.findings]
    assert report["numbers"]["capacity.replicas"] == {"value": expected.facts.get("capacity.replicas"),
                                                      "unit": "replicas"}
    assert report["open_risks"]["high"] == expected.evaluation.high_risk_count >= 2
    assert report["gate"]["passed"] is False and report["gate"]["fail_on"] == "high"
    assert "cost_within_budget" in report["gate"]["blocking_findings"]


def test_junit_has_one_testcase_per_checklist_item_and_is_well_formed(env, failing_file, tmp_path):
    out = tmp_path / "review.xml"
    result = run(env, "assess", failing_file, "--format", "junit", "--output", out, "--fail-on", "high")
    assert result.returncode == 1
    assert "gate FAILED" in result.stdout  # the one-line summary for the CI log
    root = ET.parse(out).getroot()
    cases = root.findall("./testsuite/testcase")
    evaluation = in_process(failing_inputs()).evaluation
    items = [c.item.key for c in compile_checklist(default_checklist()).items]
    assert [c.get("name").split(":")[0] for c in cases] == items
    by_key = {c.get("name").split(":")[0]: c for c in cases}
    for finding in evaluation.findings:
        case = by_key[finding.item_key]
        failure, skipped, error = case.find("failure"), case.find("skipped"), case.find("error")
        if finding.outcome == "fail":
            assert failure is not None and failure.get("type") == finding.risk
        elif finding.outcome in ("not_applicable", "unanswered"):
            assert skipped is not None and failure is None
        elif finding.outcome == "rule_error":
            assert error is not None
        else:
            assert failure is None and skipped is None and error is None
    assert root.get("tests") == str(len(items))
    assert root.get("failures") == str(evaluation.counts["fail"])
    assert root.get("skipped") == str(evaluation.counts["not_applicable"] + evaluation.counts["unanswered"])
    assert by_key["cost_within_budget"].find("failure").get("type") == "high"


def test_junit_stays_well_formed_with_control_characters_in_a_checklist(env, passing_file, tmp_path):
    checklist = json.loads((ROOT / "engine" / "data" / "default_checklist.json").read_text())
    checklist["sections"][0]["items"][0]["title"] = "Bell \x07 and <tags> & \"quotes\""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(checklist))
    result = run(env, "assess", passing_file, "--checklist", path, "--format", "junit")
    assert result.returncode == 0, result.stderr
    root = ET.fromstring(result.stdout.encode())
    assert "<tags> & \"quotes\"" in root.find("./testsuite/testcase").get("name")


def test_an_explicit_checklist_file_and_a_lens_are_used(env, passing_file):
    default = run(env, "assess", passing_file, "--format", "json")
    same = run(env, "assess", passing_file, "--format", "json",
               "--checklist", ROOT / "engine" / "data" / "default_checklist.json")
    assert json.loads(same.stdout)["score"] == json.loads(default.stdout)["score"]
    lens = run(env, "assess", passing_file, "--format", "json", "--lens", DATA / "lens_valid.json")
    assert lens.returncode == 0, lens.stderr
    assert json.loads(lens.stdout)["checklist"]["key"] != json.loads(default.stdout)["checklist"]["key"]


def test_measurements_replace_the_estimate(env, passing_file, tmp_path):
    estimated = json.loads(run(env, "assess", passing_file, "--format", "json").stdout)
    assert estimated["numbers"]["capacity.per_replica_qps_source"]["value"] == "estimated"
    plain = tmp_path / "measured.json"
    plain.write_text(json.dumps({"max_qps_at_p99": 40.0, "p99_ms_at_peak": 5000.0}))
    measured = json.loads(run(env, "assess", passing_file, "--format", "json", "--measurements", plain).stdout)
    assert measured["numbers"]["capacity.per_replica_qps"]["value"] == 40.0
    assert measured["numbers"]["capacity.per_replica_qps_source"]["value"] == "measured"
    bench = json.loads(run(env, "assess", passing_file, "--format", "json", "--measurements", BENCH_RESULT).stdout)
    assert bench["numbers"]["benchmark.max_qps_at_p99"]["value"] > 0


def test_facts_prints_the_facts_tree(env, passing_file):
    result = run(env, "facts", passing_file)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["tree"]["capacity"]["replicas"] == in_process(demo_inputs()).facts.get("capacity.replicas")
    assert facts["tree"]["requirements"]["latency_p99_ms"] == 8000.0


def test_schema_prints_the_generated_schema(env):
    result = run(env, "schema")
    assert result.returncode == 0
    assert json.loads(result.stdout) == designfile.json_schema()


def test_it_reads_the_design_from_standard_input(env, passing_file):
    result = run(env, "assess", "-", "--fail-on", "high", stdin=passing_file.read_text())
    assert result.returncode == 0 and "Gate: PASSED" in result.stdout


# --- exit 2: bad usage and bad files ------------------------------------------------------------


def test_a_bad_design_file_exits_2_naming_the_field_and_line(env, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text(designfile.dumps(demo_inputs(), name="x").replace("latency_p99_ms: 8000.0", "latency_p99_ms: 8s"))
    result = run(env, "assess", path, "--fail-under", "70")
    assert result.returncode == 2
    assert f"error: {path}: inputs.requirements.latency_p99_ms: P99 latency: expects a number" in result.stderr
    assert "(line " in result.stderr and result.stdout == ""


def test_a_control_character_in_the_file_exits_2_naming_its_line(env, tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_text(designfile.dumps(demo_inputs(), name="x").replace("name: x", "name: x\x1b[31m"))
    result = run(env, "assess", path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"error: {path}: line 5: invalid YAML at line 5 column 8: control character U+001B" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args, words", [
    (["assess", "missing.yaml"], "cannot read the design file"),
    (["assess", "{design}", "--checklist", DATA / "checklist_invalid.json"], "checklist_invalid.json: "),
    (["assess", "{design}", "--lens", DATA / "lens_unknown_risk.json"], "lens_unknown_risk.json: "),
    (["assess", "{design}", "--measurements", "{design}"], "measurements"),
    (["assess", "{design}", "--gpu-prices", DATA / "checklist_valid.json"], "'gpus' must be a non-empty object"),
    (["assess", "{design}", "--fail-under", "120"], "expected a score from 0 to 100"),
    (["assess", "{design}", "--fail-on", "critical"], "invalid choice"),
    (["assess", "{design}", "--checklist", "a.json", "--lens", "b.json"], "not allowed with argument"),
    (["review", "{design}"], "invalid choice"),
    (["assess", "{design}", "--output", "/nonexistent-dir/review.xml"], "cannot write the report"),
    ([], "the following arguments are required"),
])
def test_bad_usage_exits_2_with_a_message(env, passing_file, args, words):
    args = [str(passing_file) if a == "{design}" else a for a in args]
    result = run(env, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in result.stderr
