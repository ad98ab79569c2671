"""The report as Markdown: the same content as the HTML and the PDF, and text people typed cannot
start a heading, a list or a table, nor pass HTML through."""

import pytest
from django.urls import reverse
from markdown_it import MarkdownIt

from reviewapp.checklists import services as checklists
from reviewapp.reports.markdown import block, inline
from reviewapp.reviews.services import milestone_create
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

CHAPTERS = ["Executive summary", "Requirements", "Architecture", "The numbers", "Benchmark results",
            "Findings by severity", "Accepted risks", "Decision and sign-off",
            "Appendix: the full checklist, answers and rule traces", "Appendix: Kubernetes manifests"]


def html_of(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def headings(markdown: str, level: int) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == f"h{level}"]


@pytest.mark.parametrize("text, expected", [
    ("# not a heading", r"\# not a heading"),
    ("- not a list", r"\- not a list"),
    ("1. not a list", r"1\. not a list"),
    ("> not a quote", r"\> not a quote"),
    ("a | b", r"a \| b"),
    ("<b>x</b>", r"\<b\>x\</b\>"),
    ("[link](http://x)", r"\[link\](http://x)"),
    ("line one\n# line two", "line one # line two"),  # one line: a mid-line # starts nothing
    ("**bold** `code` ~~gone~~ &amp;", r"\*\*bold\*\* \`code\` \~\~gone\~\~ \&amp;"),
])
def test_inline_text_is_neutralised(text, expected):
    assert inline(text) == expected


def test_free_text_keeps_its_paragraphs_but_no_blocks():
    assert block("First line\n===\n\n    indented\n- item") == "First line \\===\n\nindented \\- item"


def test_the_markdown_report_has_the_chapters_score_and_numbers(client_for, member, owner, published, filled_design):
    milestone = milestone_create(design=filled_design, user=owner, name="Before the board")
    response = client_for(member).get(reverse("reports:milestone_md", args=[filled_design.pk, milestone.number]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert 'attachment; filename="ranking-service-m1-report.md"' == response["Content-Disposition"]
    text = response.content.decode()
    assert headings(text, 1) == ["Design review: Ranking service"]
    assert headings(text, 2) == CHAPTERS
    snap = milestone.snapshot
    assert f"score {snap['evaluation']['score']['overall']:.1f} / 100" in text
    replicas = next(r for s in snap["numbers"]["sections"] for r in s["rows"] if r["path"] == "capacity.replicas")
    assert f"| Replicas at peak | {replicas['text']} replicas |" in text


def test_names_and_free_text_cannot_start_headings_or_pass_html(client_for, owner, published, filled_design):
    filled_design.name = "Evil\n# Injected heading <script>alert(1)</script>"
    filled_design.description = "Intro\n\n## Not a chapter\n<img src=x onerror=alert(1)>\n| a | b |\n|---|---|"
    filled_design.save(update_fields=["name", "description"])
    review = checklists.review_for_design(design=filled_design, user=owner)
    checklists.answer_set(review=review, item_key="req_reviewed", user=owner, status="pass",
                          reason="Signed\n# Also not a heading\n<iframe src=x></iframe>")
    milestone = milestone_create(design=filled_design, user=owner, name="M <b>1</b>\n---")
    with_changes = [*CHAPTERS[:-2], "Changes since the previous milestone", *CHAPTERS[-2:]]
    for url, chapters in ((reverse("reports:draft_md", args=[filled_design.pk]), with_changes),
                          (reverse("reports:milestone_md", args=[filled_design.pk, milestone.number]), CHAPTERS)):
        text = client_for(owner).get(url).content.decode()
        assert len(headings(text, 1)) == 1 and headings(text, 2) == chapters
        assert "Injected heading" in headings(text, 1)[0]
        html = html_of(text)
        for tag in ("<script", "<img", "<iframe", "<b>"):
            assert tag not in html, tag
        assert "&lt;script&gt;" in html and "Not a chapter" in html
        assert "<th>a</th>" not in html  # the description's table stays text


def test_a_design_that_cannot_run_says_so_in_the_numbers_and_the_manifests_appendix(
        client_for, member, owner, published, filled_design):
    inputs = dict(filled_design.inputs)
    inputs["requirements"] = {**inputs["requirements"], "model_params_billions": 70.0, "model_layers": 80}
    inputs["architecture"] = {**inputs["architecture"], "gpu_type": "l4-24gb", "quantization": "none"}
    filled_design.inputs = inputs
    filled_design.save(update_fields=["inputs"])
    milestone = milestone_create(design=filled_design, user=owner, name="Too big")
    text = client_for(member).get(reverse("reports:milestone_md", args=[filled_design.pk, milestone.number])) \
        .content.decode()
    reason = milestone.snapshot["facts"]["capacity"]["infeasible_reason"]
    assert reason.startswith("the weights (140.0 GB in bf16)")
    numbers = text.split("## The numbers", 1)[1].split("\n## ", 1)[0]
    assert numbers.count(f"**Cannot run as designed: {reason}** No replicas, cost or manifests") == 1
    assert "| Replicas at peak | — |" in numbers or "| Replicas at peak | —" in numbers
    appendix = text.split("## Appendix: Kubernetes manifests", 1)[1]
    assert f"Not generated. Cannot run as designed: {reason}" in appendix and "```yaml" not in appendix
