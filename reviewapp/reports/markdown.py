"""The report as Markdown text, from the same context as the HTML page and the PDF.

Every value that a person typed (names, descriptions, rationales, answers) or that comes from
the checklist is neutralised: one line where one line is meant (a newline cannot start a
heading), Markdown and HTML syntax escaped with backslashes (raw HTML, links, emphasis and
tables stay text), and no line may start a block (heading, quote, list, code, rule).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

# Every ASCII punctuation character CommonMark lets a backslash escape and that starts or
# closes inline syntax: emphasis, code, links and images, autolinks and raw HTML, entities,
# tables, strikethrough.
_INLINE = re.compile(r"([\\`*_\[\]<>&|~!])")
# What makes a line a block: heading, quote, list item, thematic break, setext underline, fence.
_BLOCK_START = re.compile(r"^(\s*)([#>+\-=])")
_ORDERED_LIST_START = re.compile(r"^(\s*\d+)([.)])")


def inline(value: Any) -> str:
    """`value` as text safe anywhere in a line (a heading, a table cell, a list item)."""
    text = re.sub(r"\s+", " ", "" if value is None else str(value)).strip()
    text = _INLINE.sub(r"\\\1", text)
    text = _ORDERED_LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def block(value: Any) -> str:
    """Free text kept as paragraphs: each line neutralised as `inline`, blank lines kept."""
    paragraphs = re.split(r"\n\s*\n", "" if value is None else str(value).replace("\r\n", "\n"))
    return "\n\n".join(" ".join(inline(line) for line in p.split("\n") if line.strip()) for p in paragraphs
                       if p.strip())


def _cell(value: Any) -> str:
    return inline(value) or " "


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]], numeric: Iterable[int] = ()) -> list[str]:
    head = list(head)
    right = set(numeric)
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _numbers(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return _table(["Number", "Value", "Source", "Definition"],
                  [[n["label"], f"{n['text']} {n.get('unit') or ''}".strip(), n["provenance"], n.get("description")]
                   for n in rows], numeric=[1])


def report_markdown(context: Mapping[str, Any]) -> str:
    """The report of `context` (reviewapp.reports.context.report_context) as Markdown."""
    design, summary, review = context["design"], context["summary"], context["review"]
    checklist = context.get("checklist")
    taken_at = context.get("taken_at")
    out = [f"# Design review: {inline(design['name'])}", "", f"**{inline(context['label'])}**", ""]
    if design.get("description"):
        out += [block(design["description"]), ""]
    out += _table(["", ""], [
        ["Team", design.get("team")],
        ["Date", taken_at.strftime("%Y-%m-%d %H:%M %Z") if taken_at else "—"],
        ["Design revision", design.get("revision")],
        ["Checklist", f"{checklist['name']}, version {checklist['version']}" if checklist else "none published"],
        ["Reviewers", ", ".join(review["reviewers"]) or "none named"],
        ["Design status", design.get("status_label")],
        *([["Verdict", f"{summary['verdict_label']}, score {summary['overall_text']} / 100"]] if summary else []),
        ["Decision", context["cover_decision"]],
        ["Content", (context.get("content_hash") or "")[:12]],
    ])

    out += ["## Executive summary", ""]
    if summary:
        out += [f"**{inline(summary['verdict_label'])}**, score {summary['overall_text']} / 100.", ""]
        out += [f"- {inline(r)}" for r in summary["verdict_reasons"]] + [""]
        out += _table(["Section", "Score", "Items scored"],
                      [[s["title"], s["score_text"], f"{s['scored']} of {s['items']}"] for s in summary["sections"]],
                      numeric=[1])
        out += _table(["Open risks", "Count"], [*summary["risks"], ("Accepted", summary["accepted_count"]),
                                                ("Rule errors", summary["rule_error_count"]),
                                                ("Unanswered", summary["unanswered_count"]),
                                                ("Unanswered of high severity", summary["unanswered_high_count"])],
                      numeric=[1])
        out += ["### The risks that matter most", ""]
        for n, risk in enumerate(summary["top_risks"], start=1):
            out.append(f"{n}. **{inline(risk['title'])}** ({inline(risk['severity_label'])}, "
                       f"{inline(risk['outcome_label']).lower()}, {inline(risk['section'])})")
            if risk["improvement_plan"]:
                out.append(f"   Plan: {inline(risk['improvement_plan'])}")
        out += [""] if summary["top_risks"] else ["No open risks.", ""]
    else:
        out += ["No checklist has been published.", ""]

    for title, key in (("Requirements", "requirements"), ("Architecture", "architecture")):
        out += [f"## {title}", ""]
        for section in context[key]:
            out += [f"### {inline(section['title'])}", ""]
            if section["rows"]:
                out += _table(["Field", "Value"], [[r["label"], r["value"]] for r in section["rows"]])
            if section["unset"]:
                out += [f"*Not set:* {inline(', '.join(section['unset']))}.", ""]

    numbers = context["numbers"]
    out += ["## The numbers", ""]
    if numbers.get("cannot_run"):
        out += [f"**{inline(numbers['cannot_run'])}** No replicas, cost or manifests are planned for it.", ""]
    out += [f"- **{key}**: {inline(meaning)}" for key, meaning in context["provenance"]] + [""]
    for section in numbers["sections"]:
        out += [f"### {inline(section['title'])}", ""] + _numbers(section["rows"])
    out += ["### Cost by pricing plan", ""]
    out += _table(["Plan", "Per month", "Per 1k requests", "Per 1M tokens", "Source"],
                  [[r["label"] + (" (chosen)" if r.get("chosen") else ""), r["monthly"]["text"],
                    r["per_1k_requests"]["text"], r["per_1m_tokens"]["text"], r["monthly"]["provenance"]]
                   for r in numbers["cost_rows"]], numeric=[1, 2, 3])
    if numbers["budget_rows"] or numbers["build_vs_buy"]:
        out += ["### Budget and build versus buy", ""] + _numbers([*numbers["budget_rows"], *numbers["build_vs_buy"]])
    if numbers["warnings"] or numbers["assumptions"]:
        out += ["### Warnings and assumptions", ""]
        out += [f"- {inline(w)}" for w in [*numbers["warnings"], *numbers["assumptions"]]] + [""]

    out += ["## Benchmark results", ""]
    benchmark = context["benchmark"]
    if benchmark:
        if benchmark["run"]:
            out += [f"Measured by benchmark run #{benchmark['run']}.", ""]
        out += _table(["Measurement", "Value"], benchmark["rows"])
    else:
        out += ["No benchmark has measured this design: capacity and cost are estimated.", ""]

    out += ["## Findings by severity", ""]
    for group in context["findings"]:
        out += [f"### {inline(group['label'])} severity", ""]
        for f in group["rows"]:
            out.append(f"- **{inline(f['title'])}** ({inline(f['outcome_label']).lower()}; {inline(f['section'])})")
            if f["outcome"] != "unanswered" and f["message"]:
                out.append(f"  {inline(f['message'])}")
            if f["improvement_plan"]:
                out.append(f"  Plan: {inline(f['improvement_plan'])}")
        out += [""] if group["rows"] else ["Nothing needs attention at this severity.", ""]

    out += ["## Accepted risks", ""]
    out += _table(["Item", "Severity", "Rationale", "Expires", "Accepted by"],
                  [[a["title"], a["severity_label"], a["rationale"],
                    (a["expires_on"] or "no expiry") + (" (expired)" if a["expired"] else ""), a["by"] or "—"]
                   for a in context["accepted"]]) if context["accepted"] else ["No risk has been accepted.", ""]

    out += ["## Decision and sign-off", ""]
    decision = review["decision"]
    if decision:
        out += [f"**{inline(decision['label'])}** by {inline(decision['by'] or '—')} {inline(decision['at'])}".strip(), ""]
        if decision["comment"]:
            out += [block(decision["comment"]), ""]
    else:
        out += ["No review decision is recorded.", ""]
    if review["overrides"]:
        out += [f"Approved over open risks. Reason given: {inline(review['override_reason'])}", ""]
        out += _table(["Item", "Severity", "Outcome"],
                      [[o["title"], o["severity_label"], o["outcome_label"]] for o in review["overrides"]])
    out += ["Reviewer: name ______________________ signature ______________________ date __________", ""]

    changes = context.get("changes")
    if changes:
        prev = changes["previous"]
        out += ["## Changes since the previous milestone", "",
                f"Compared with milestone M{prev['number']}, {inline(prev['name'])}.", ""]
        out += _table(["", f"M{prev['number']}", "This report", "Change"],
                      [[r["label"], r["old"], r["new"], r["delta"]] for r in changes["headline"]], numeric=[1, 2, 3])
        for block_ in changes["detail"]:
            out += [f"### {inline(block_['title'])}", ""]
            out += _table(block_["columns"], block_["rows"], block_["numeric"]) if block_["rows"] else ["No change.", ""]

    out += ["## Appendix: the full checklist, answers and rule traces", ""]
    for section in context["appendix"]:
        out += [f"### {inline(section['title'])}", ""]
        for item in section["rows"]:
            out.append(f"- **{inline(item['title'])}** ({inline(item['key'])}): {inline(item['outcome_label'])}; "
                       f"{inline(item['severity_label'])} severity, {item['mode_label']}")
            if item["answer"]:
                out.append(f"  Answer: {inline(item['answer']['status'])}"
                           + (f": {inline(item['answer']['reason'])}" if item["answer"]["reason"] else ""))
            for step in item["trace"]:
                facts = "; ".join(f"{path} = {value}" for path, value in step["facts"])
                out.append(f"  {inline(step['field'])}: {inline(step['expression'])} → {inline(step['result'])}"
                           + (f" ({inline(facts)})" if facts else ""))
        out.append("")

    kubernetes = context["kubernetes"]
    out += ["## Appendix: Kubernetes manifests", ""]
    if kubernetes["yaml"]:
        # a fence longer than any run of backticks in the text (a model name could hold some)
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", kubernetes["yaml"])), default=0))
        out += [f"{fence}yaml", kubernetes["yaml"].rstrip("\n"), fence, ""]
    elif kubernetes.get("cannot_run"):
        out += [f"Not generated. {inline(kubernetes['cannot_run'])}", ""]
    else:
        out += ["Not generated: the design lacks", ""] + [f"- {inline(m)}" for m in kubernetes["missing"]] + [""]
    return "\n".join(out).rstrip() + "\n"
