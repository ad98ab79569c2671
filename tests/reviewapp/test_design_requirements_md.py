"""The requirements document export (seed lesson 2's template) as a Markdown download."""

import re

from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.models import Design


def url(design):
    return reverse("designs:requirements_md", args=[design.pk])


def test_it_redirects_anonymous_to_login(client, design):
    assert client.get(url(design)).status_code == 302


def test_member_downloads_a_complete_document(client_for, member, design):
    Design.objects.filter(pk=design.pk).update(inputs=example_design())
    response = client_for(member).get(url(design))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ranking-service-requirements.md"'
    text = response.content.decode()
    chapters = ["Overview", "Workload", "Latency budgets", "Throughput", "Data volumes", "Availability, RTO and RPO",
                "Model", "GPU budget and cost plan", "Derived numbers", "Open questions and assumptions"]
    for number, title in enumerate(chapters, start=1):
        assert f"\n## {number}. {title}\n" in text
    assert "| P99 latency | 8,000 ms |" in text
    assert "| Regions | us-east-1, eu-west-1 |" in text
    assert "| **Mixed (reserved + spot + on-demand)** (chosen) | $" in text
    assert "| Replicas at peak |" in text


def test_blank_requirements_become_open_questions(client_for, member, design):
    text = client_for(member).get(url(design)).content.decode()
    assert "| P99 latency | *not set* |" in text
    assert "- **P99 latency** is not set." in text


def test_table_cells_cannot_break_the_table(client_for, member, design):
    document = example_design()
    document["requirements"]["model_name"] = "evil | model\nname"
    Design.objects.filter(pk=design.pk).update(inputs=document)
    text = client_for(member).get(url(design)).content.decode()
    assert "| Model name | evil \\| model name |" in text


def test_outsider_gets_404(client_for, outsider, design):
    assert client_for(outsider).get(url(design)).status_code == 404


def test_it_rejects_post(client_for, member, design):
    assert client_for(member).post(url(design)).status_code == 405


def test_names_and_descriptions_cannot_inject_markdown(client_for, member, design):
    Design.objects.filter(pk=design.pk).update(
        name="Ranking\n# Approved by the board <script>alert(1)</script>",
        description="Fine.\n\n## Decision: approved\n<img src=x onerror=alert(1)>",
    )
    text = client_for(member).get(url(design)).content.decode()
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert not any("Approved by the board" in h and h.startswith("# Approved") for h in headings)
    assert "\n## Decision: approved" not in text
    assert not re.search(r"(?<!\\)<(script|img)", text)  # raw HTML escaped, never passed through


def test_typed_values_and_the_team_cannot_inject_html_or_markdown(client_for, member, team, design):
    """Every typed value (use case, model name, regions, the team's name) is escaped as the report
    exports escape it: raw HTML, links, emphasis and headings stay text (issue 27, item 4)."""
    team.name = "<b>Search</b> [team](https://evil.example)"
    team.save(update_fields=["name"])
    document = example_design()
    document["requirements"]["use_case"] = "# Approved <img src=x onerror=alert(1)>\n## Decision: approved"
    document["requirements"]["model_name"] = "<script>alert(1)</script> **fast** [docs](javascript:alert(1))"
    document["requirements"]["regions"] = ["<iframe src=//evil>", "eu-west-1"]
    Design.objects.filter(pk=design.pk).update(inputs=document)
    text = client_for(member).get(url(design)).content.decode()
    assert not re.search(r"(?<!\\)<(script|img|iframe|b>)", text)
    assert not re.search(r"(?<!\\)\]\(", text)  # no link survives
    assert "| Model name | \\<script\\>alert(1)\\</script\\> \\*\\*fast\\*\\* \\[docs\\](javascript:alert(1)) |" in text
    assert not any(line.startswith(("# Approved", "## Decision")) for line in text.splitlines())
    assert "| Regions | \\<iframe src=//evil\\>, eu-west-1 |" in text
    assert "| P99 latency | 8,000 ms |" in text  # plain values read as before
