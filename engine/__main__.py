"""Review as code: `python -m engine assess design.yaml --fail-under 70 --fail-on high`.

    python -m engine assess DESIGN [--checklist FILE | --lens FILE] [--measurements FILE]
                                   [--gpu-prices FILE] [--fail-under SCORE] [--fail-on SEVERITY]
                                   [--format text|json|junit] [--output FILE]
    python -m engine facts DESIGN [--measurements FILE] [--gpu-prices FILE]
    python -m engine schema

Exit status: 0 the gate passes, 1 it fails, 2 bad usage or a file that cannot be read (the message
names the file and the field or line). Needs no Django and no database. See docs/design-file.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine import designfile

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
SEVERITIES = ("high", "medium", "low")  # most severe first
MAX_INPUT_BYTES = 10_000_000  # checklists, lenses, price catalogs and benchmark results
# The numbers a gate's log shows, by fact path (docs/facts.md); blank ones are left out of the text.
NUMBERS = (
    "traffic.average_qps", "traffic.peak_qps", "latency_budget.p99_budget_ms", "latency_budget.inference_budget_ms",
    "capacity.per_replica_qps", "capacity.per_replica_qps_source", "capacity.replicas", "capacity.gpus",
    "capacity.utilisation_at_peak_pct", "cost.gpu_type", "cost.pricing_model", "cost.monthly_usd.on_demand",
    "cost.monthly_usd.spot", "cost.monthly_usd.reserved_1y", "cost.monthly_usd.reserved_3y",
    "cost.monthly_usd.mixed", "cost.monthly_usd.selected", "cost.budget_usd", "cost.within_budget",
    "data_volume.ingest_gb_per_day", "data_volume.stored_gb_after_1y", "batch.job_duration_h",
    "batch.meets_deadline", "batch.cost_per_run_usd.selected", "streaming.fleet_events_per_second",
    "streaming.headroom_events_per_second", "benchmark.max_qps_at_p99",
)


class UsageError(Exception):
    """A file that cannot be used: exit 2 with these lines."""

    def __init__(self, lines: Sequence[str]):
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # bad usage: argparse exits 2
    try:
        if args.command == "schema":
            _write(json.dumps(designfile.json_schema(), indent=2, ensure_ascii=False) + "\n", None)
            return EXIT_PASS
        if args.command == "facts":
            return _facts(args)
        return _assess(args)
    except UsageError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Review an AI design file without the app.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{assess,facts,schema}")
    assess = commands.add_parser("assess", help="score a design file against a checklist and gate on the result",
                                 description="Score a design file against a checklist; exit 0 when the gate passes, "
                                             "1 when it fails, 2 for bad usage or a bad file.")
    assess.add_argument("design", help="the design file (YAML or JSON; - reads standard input)")
    which = assess.add_mutually_exclusive_group()
    which.add_argument("--checklist", metavar="FILE", help="a checklist in our JSON format (default: the packaged "
                                                            "default checklist)")
    which.add_argument("--lens", metavar="FILE", help="an AWS Well-Architected custom lens (JSON)")
    _common(assess)
    assess.add_argument("--fail-under", type=_score, metavar="SCORE",
                        help="fail when the overall score (0-100, unrounded) is below SCORE")
    assess.add_argument("--fail-on", choices=SEVERITIES,
                        help="fail when a finding fails at this risk level or a more severe one and its risk is "
                             "not accepted")
    assess.add_argument("--format", choices=("text", "json", "junit"), default="text", help="report format")
    assess.add_argument("--output", metavar="FILE", help="write the report here (a one-line summary goes to "
                                                         "standard output)")
    facts = commands.add_parser("facts", help="print the design's facts tree as JSON",
                                description="Print the design's facts (inputs and every derived number) as JSON.")
    facts.add_argument("design", help="the design file (YAML or JSON; - reads standard input)")
    _common(facts)
    commands.add_parser("schema", help="print the design file's JSON Schema",
                        description="Print the design file's JSON Schema (generated from the field definitions).")
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measurements", metavar="FILE",
                        help="benchmark measurements (a `python -m engine.bench ... --out` result, or a mapping of "
                             "measurements as in the design file); replaces the design file's")
    parser.add_argument("--gpu-prices", metavar="FILE", help="a GPU price catalog (default: the packaged one)")


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a score from 0 to 100, got {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a score from 0 to 100, got {text!r}")
    return value


# --- reading the files ----------------------------------------------------------------------------


def _read(path: str, what: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError([f"{path}: cannot read the {what}: {exc.strerror or exc}"]) from None
    if len(data) > limit:
        raise UsageError([f"{path}: the {what} is larger than {limit:,} bytes"])
    return data


def _json(path: str, what: str) -> Any:
    from engine.jsontext import JsonTextError, read_json

    try:
        return read_json(_read(path, what))
    except JsonTextError as exc:
        raise UsageError([f"{path}: not a valid {what} file: {exc}"]) from None


@dataclass(frozen=True, slots=True)
class _Inputs:
    design: designfile.DesignFile
    measurements: dict | None
    catalog: dict | None


def _inputs(args: argparse.Namespace) -> _Inputs:
    catalog = None
    if args.gpu_prices:
        from engine.planning.gpu_catalog import catalog_errors

        catalog = _json(args.gpu_prices, "GPU price catalog")
        problems = catalog_errors(catalog)
        if problems:
            raise UsageError([f"{args.gpu_prices}: {p}" for p in problems])
    try:
        design = designfile.load(_read(args.design, "design file", designfile.MAX_FILE_BYTES + 1),
                                 gpu_catalog=catalog)
    except designfile.DesignFileError as exc:
        raise UsageError([f"{args.design}: {path}: {message}" for path, message in exc.errors]) from None
    measurements = design.measurements
    if args.measurements:
        measurements = _measurements(args.measurements)
    return _Inputs(design, measurements, catalog)


def _measurements(path: str) -> dict | None:
    document = _json(path, "measurements")
    if isinstance(document, dict) and "status" in document:  # a result of python -m engine.bench --out
        from engine.bench.design_spec import measurements_from_result

        checked, errors = measurements_from_result(document)
        if errors:
            raise UsageError([f"{path}: {where}: {message}" for where, message in errors.items()])
        document = checked["measurements"]
        document = {key: value for key, value in document.items() if key in designfile.MEASUREMENT_KEYS}
    try:
        return designfile.check_measurements(document)
    except designfile.DesignFileError as exc:
        raise UsageError([f"{path}: {where}: {message}" for where, message in exc.errors]) from None


def _checklist(args: argparse.Namespace):
    from engine.checklist import ChecklistError, compile_checklist, default_checklist, lens_to_checklist, load_checklist

    try:
        if args.lens:
            checklist = lens_to_checklist(_read(args.lens, "lens"))
        elif args.checklist:
            checklist = load_checklist(_read(args.checklist, "checklist"))
        else:
            checklist = default_checklist()
        return compile_checklist(checklist)
    except ChecklistError as exc:
        source = args.lens or args.checklist or "the default checklist"
        raise UsageError([f"{source}: {problem}" for problem in exc.problems]) from None


# --- commands -------------------------------------------------------------------------------------


def _facts(args: argparse.Namespace) -> int:
    from engine.facts import build_facts

    inputs = _inputs(args)
    facts = build_facts(inputs.design.inputs, measurements=inputs.measurements, gpu_catalog=inputs.catalog)
    _write(json.dumps(facts.to_dict(), indent=2, ensure_ascii=False) + "\n", None)
    return EXIT_PASS


def _assess(args: argparse.Namespace) -> int:
    from engine.assessment import assess

    inputs = _inputs(args)
    compiled = _checklist(args)
    result = assess(inputs.design.inputs, compiled, inputs.measurements, gpu_catalog=inputs.catalog,
                    today=dt.date.today())
    report = build_report(inputs.design, compiled.checklist, result, fail_under=args.fail_under,
                          fail_on=args.fail_on, measurements=inputs.measurements)
    render = {"text": render_text, "json": render_json, "junit": render_junit}[args.format]
    _write(render(report), args.output)
    if args.output:
        print(summary_line(report))
    return EXIT_PASS if report["gate"]["passed"] else EXIT_FAIL


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError([f"{output}: cannot write the report: {exc.strerror or exc}"]) from None


# --- the report -----------------------------------------------------------------------------------


def gate(evaluation, *, fail_under: float | None, fail_on: str | None) -> dict[str, Any]:
    """Whether the design passes: the overall score is at least `fail_under` (unrounded) and no
    finding fails, unaccepted, at risk level `fail_on` or a more severe one."""
    reasons: list[str] = []
    overall = evaluation.score.overall
    if fail_under is not None and overall < fail_under:
        reasons.append(f"score {overall:.1f} is below {fail_under:g} (--fail-under {fail_under:g})")
    blocking: list[str] = []
    if fail_on is not None:
        levels = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        blocking = [f.item_key for f in evaluation.findings if f.outcome == "fail" and f.risk in levels]
        if blocking:
            above = "" if fail_on == "high" else " or above"
            reasons.append(f"{len(blocking)} open finding{'s' if len(blocking) != 1 else ''} at {fail_on} "
                           f"risk{above} (--fail-on {fail_on}): {', '.join(blocking)}")
    return {"passed": not reasons, "fail_under": fail_under, "fail_on": fail_on, "reasons": reasons,
            "blocking_findings": blocking}


def build_report(design: designfile.DesignFile, checklist, result, *, fail_under: float | None,
                 fail_on: str | None, measurements: dict | None = None) -> dict[str, Any]:
    """The assessment as JSON-ready data: what every format renders (`--format json` prints it)."""
    evaluation = result.evaluation
    facts = result.facts
    return {
        "format": "ai-design-review/assessment",
        "version": 1,
        "design": {"name": design.name, "description": design.description, "measured": bool(measurements)},
        "checklist": {"key": checklist.key, "name": checklist.name, "scoring": checklist.scoring},
        "score": {
            "overall": evaluation.score.overall,
            "strategy": evaluation.score.strategy,
            "level_reached": evaluation.score.level_reached,
            "sections": [{"key": s.key, "title": s.title, "score": s.score} for s in evaluation.score.sections],
        },
        "verdict": evaluation.verdict,
        "verdict_reasons": list(evaluation.verdict_reasons),
        "counts": dict(evaluation.counts),
        "open_risks": {"high": evaluation.high_risk_count, "medium": evaluation.medium_risk_count,
                       "low": evaluation.low_risk_count},
        "unanswered_high": evaluation.unanswered_high_count,
        "numbers": {path: {"value": facts.get(path), "unit": (facts.meta.get(path) or {}).get("unit")}
                    for path in NUMBERS},
        "warnings": [w for w in facts.warnings if w.get("severity") in ("warning", "error")],
        "findings": [
            {"item_key": f.item_key, "section_key": f.section_key, "title": f.title, "mode": f.mode,
             "severity": f.severity, "risk": f.risk, "outcome": f.outcome, "message": f.message,
             "improvement_plan": f.improvement_plan}
            for f in evaluation.findings
        ],
        "sections": [{"key": s.key, "title": s.title} for s in checklist.ordered_sections()],
        "gate": gate(evaluation, fail_under=fail_under, fail_on=fail_on),
    }


def summary_line(report: dict[str, Any]) -> str:
    gate_ = report["gate"]
    state = "PASSED" if gate_["passed"] else "FAILED: " + "; ".join(gate_["reasons"])
    risks = report["open_risks"]
    return (f"{report['design']['name']}: score {report['score']['overall']:.1f}, "
            f"{report['verdict'].replace('_', ' ')}, open risks {risks['high']} high / {risks['medium']} medium / "
            f"{risks['low']} low{_unanswered_high(report)}; gate {state}")


def _unanswered_high(report: dict[str, Any]) -> str:
    count = report.get("unanswered_high") or 0
    return f", {count} high-severity unanswered" if count else ""


def _number(value: Any, unit: str | None) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit and not isinstance(value, (bool, str)) else text


def render_text(report: dict[str, Any]) -> str:
    out: list[str] = []
    score = report["score"]
    counts = report["counts"]
    out.append(f"Design: {report['design']['name']}")
    out.append(f"Checklist: {report['checklist']['name']} ({report['checklist']['key']}), {score['strategy']} scoring")
    out.append(f"Score: {score['overall']:.1f} / 100   Verdict: {report['verdict'].replace('_', ' ')}")
    out.append("Findings: " + ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in counts.items()))
    risks = report["open_risks"]
    out.append(f"Open risks: {risks['high']} high, {risks['medium']} medium, {risks['low']} low{_unanswered_high(report)}")
    out.append("")
    out.append("Numbers")
    for path, number in report["numbers"].items():
        if number["value"] is not None:
            out.append(f"  {path:<40} {_number(number['value'], number['unit'])}")
    if report["warnings"]:
        out.append("")
        out.append("Warnings")
        out.extend(f"  {w['path']}: {w['message']}" for w in report["warnings"])
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    failing = sorted((f for f in report["findings"] if f["outcome"] in ("fail", "rule_error")),
                     key=lambda f: rank.get(f["risk"] or "", len(rank)))  # most severe first, rule errors last
    out.append("")
    out.append("Failed findings" if failing else "Failed findings: none")
    for f in failing:
        label = f"{(f['risk'] or f['severity']).upper()}" if f["outcome"] == "fail" else "RULE ERROR"
        out.append(f"  [{label}] {f['item_key']}: {f['title']}")
        if f["message"] and f["outcome"] == "rule_error":
            out.append(f"      {f['message']}")
        if f["improvement_plan"]:
            out.append(f"      Plan: {' '.join(f['improvement_plan'].split())}")
    unanswered = [f["item_key"] for f in report["findings"] if f["outcome"] == "unanswered"]
    if unanswered:
        out.append("")
        out.append(f"Unanswered ({len(unanswered)}; manual items are answered in the app): " + ", ".join(unanswered))
    out.append("")
    gate_ = report["gate"]
    if gate_["passed"]:
        out.append("Gate: PASSED" + ("" if gate_["fail_under"] is not None or gate_["fail_on"] else
                                     " (no --fail-under or --fail-on given)"))
    else:
        out.append("Gate: FAILED")
        out.extend(f"  - {reason}" for reason in gate_["reasons"])
    return "\n".join(out) + "\n"


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def render_junit(report: dict[str, Any]) -> str:
    """JUnit XML: a test suite per checklist section, a test case per item. A failing finding is a
    <failure> (type: its risk level), not applicable and unanswered are <skipped>, a rule error
    is an <error>; passes and accepted risks pass."""
    report = _xml_safe(report)
    suites = ET.Element("testsuites", name=f"AI design review: {report['design']['name']}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_section: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_section.setdefault(finding["section_key"], []).append(finding)
    titles = {s["key"]: s["title"] for s in report["sections"]}
    for section_key, findings in by_section.items():
        suite = ET.SubElement(suites, "testsuite", name=f"{titles.get(section_key, section_key)} ({section_key})")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if not totals["tests"]:
            properties = ET.SubElement(suite, "properties")
            for name, value in (("score", f"{report['score']['overall']:.2f}"), ("verdict", report["verdict"]),
                                ("checklist", report["checklist"]["key"]),
                                ("gate", "passed" if report["gate"]["passed"] else "failed")):
                ET.SubElement(properties, "property", name=name, value=value)
        for f in findings:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"design_review.{section_key}",
                                 name=f"{f['item_key']}: {f['title']}")
            detail = "\n".join(part for part in (f["message"], f["improvement_plan"]) if part)
            if f["outcome"] == "fail":
                counts["failures"] += 1
                risk = f["risk"] or f["severity"]
                node = ET.SubElement(case, "failure", type=risk, message=f"[{risk} risk] {f['title']}: {f['message']}")
                node.text = detail
            elif f["outcome"] == "rule_error":
                counts["errors"] += 1
                node = ET.SubElement(case, "error", type="rule_error", message=f["message"])
                node.text = detail
            elif f["outcome"] in ("not_applicable", "unanswered"):
                counts["skipped"] += 1
                word = "Not applicable" if f["outcome"] == "not_applicable" else "Unanswered"
                ET.SubElement(case, "skipped", message=f"{word}: {f['message']}")
            elif f["outcome"] == "accepted_risk":
                ET.SubElement(case, "system-out").text = f"Risk accepted: {f['message']}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_safe(value: Any) -> Any:
    """The report without characters XML 1.0 cannot hold (a checklist's text may contain them)."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_xml_safe(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
