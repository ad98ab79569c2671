"""The design's Kubernetes page and its YAML download (reviewapp.designs.views_deploy)."""

import os
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.models import Design
from tests.reviewapp.checklist_fixtures import published  # noqa: F401


@pytest.fixture
def complete(design):
    Design.objects.filter(pk=design.pk).update(inputs=example_design())
    design.refresh_from_db()
    return design


def page(design):
    return reverse("designs:kubernetes", args=[design.pk])


def download(design):
    return reverse("designs:kubernetes_yaml", args=[design.pk])


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
            and "django_session" not in q["sql"]]


def test_it_shows_the_demo_design_s_manifests_escaped_in_a_pre(client_for, member, complete):
    Design.objects.filter(pk=complete.pk).update(name="Support <bot> & co")
    response = client_for(member).get(page(complete))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<pre id="kubernetes-yaml"><code># Kubernetes manifests' in html
    assert "kind: HorizontalPodAutoscaler" in html and "nvidia.com/gpu: &#x27;1&#x27;" in html
    assert "Support &lt;bot&gt; &amp; co" in html and "<bot>" not in html
    assert download(complete) in html
    assert 'id="kubernetes-missing"' not in html


def test_an_incomplete_design_shows_the_missing_list_and_no_yaml(client_for, member, design):
    response = client_for(member).get(page(design))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kubernetes-missing"' in html
    assert "architecture.serving_framework" in html and "capacity.replicas" in html
    assert "kubernetes-yaml" not in html and download(design) not in html


def test_the_download_is_yaml_named_after_the_design(client_for, member, complete):
    Design.objects.filter(pk=complete.pk).update(name="Support assistant (RAG)")
    response = client_for(member).get(download(complete))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="support-assistant-rag-k8s.yaml"'
    documents = list(yaml.safe_load_all(response.content.decode()))
    assert [d["kind"] for d in documents] == ["Deployment", "Deployment", "Service", "HorizontalPodAutoscaler",
                                              "PodDisruptionBudget"]
    assert documents[0]["metadata"]["name"] == "support-assistant-rag-stable"


def test_the_download_of_an_incomplete_design_is_409_listing_what_is_missing(client_for, member, design):
    """The design is there, only incomplete: 409 (its state conflicts with the request), not 404
    (issue 27, item 8); the body lists what the manifests still need."""
    response = client_for(member).get(download(design))
    assert response.status_code == 409
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("The design is incomplete: the Kubernetes manifests need")
    assert "architecture.serving_framework" in text and "capacity.replicas" in text
    assert "Content-Disposition" not in response


def test_a_failing_rule_shows_its_one_line_reason_in_the_findings_list(client_for, member, published, complete):
    html = client_for(member).get(reverse("checklists:review", args=[complete.pk])).content.decode()
    row = html[html.index('id="finding-req_p99_budget"'):]
    row = row[: row.index("</li>")]
    assert "Fails: needs requirements.latency_p99_ms &lt;= 5000; read requirements.latency_p99_ms = 8000.0." in row


def test_the_page_reads_the_saved_inputs(client_for, member, complete):
    inputs = example_design()
    inputs["architecture"]["gpus_per_replica"] = 2
    Design.objects.filter(pk=complete.pk).update(inputs=inputs)
    text = client_for(member).get(download(complete)).content.decode()
    assert "nvidia.com/gpu: '2'" in text


@pytest.mark.parametrize("name", ["designs:kubernetes", "designs:kubernetes_yaml"])
def test_outsider_gets_404(client_for, outsider, complete, name):
    assert client_for(outsider).get(reverse(name, args=[complete.pk])).status_code == 404


@pytest.mark.parametrize("name", ["designs:kubernetes", "designs:kubernetes_yaml"])
def test_anonymous_is_sent_to_log_in(client, complete, name):
    response = client.get(reverse(name, args=[complete.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["designs:kubernetes", "designs:kubernetes_yaml"])
def test_it_rejects_post(client_for, member, complete, name):
    assert client_for(member).post(reverse(name, args=[complete.pk])).status_code == 405


def test_a_get_writes_nothing(client_for, member, complete):
    client = client_for(member)
    client.get(reverse("designs:detail", args=[complete.pk]))  # the session settles first
    revision = complete.revision
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page(complete)).status_code == 200
        assert client.get(download(complete)).status_code == 200
    assert writes(queries) == []
    complete.refresh_from_db()
    assert complete.revision == revision


def test_the_design_page_links_to_the_kubernetes_page(client_for, member, complete):
    assert page(complete).encode() in client_for(member).get(reverse("designs:detail", args=[complete.pk])).content


# --- the report's appendix: generated from the milestone's snapshot, not the design as it is now -------------

@pytest.fixture
def milestone(owner, published, complete):
    from reviewapp.reviews.services import milestone_create

    return milestone_create(design=complete, user=owner, name="Before the board")


def test_the_report_appendix_shows_the_milestone_s_manifests_after_the_design_changed(
        client_for, member, complete, milestone):
    from engine.deploy import generate

    expected = generate(milestone.snapshot["inputs"], milestone.snapshot["facts"], name=complete.name).yaml
    changed = example_design()
    changed["architecture"]["gpus_per_replica"] = 4
    changed["architecture"]["serving_framework"] = None
    Design.objects.filter(pk=complete.pk).update(inputs=changed)
    html = client_for(member).get(reverse("reports:milestone", args=[complete.pk, milestone.number])).content.decode()
    assert '<section class="chapter new-page appendix" id="kubernetes">' in html
    assert "Appendix: Kubernetes manifests" in html
    assert "nvidia.com/gpu: &#x27;1&#x27;" in html and "nvidia.com/gpu: &#x27;4&#x27;" not in html
    assert "kind: HorizontalPodAutoscaler" in html
    assert "vllm/vllm-openai" in expected and "vllm/vllm-openai" in html
    markdown = client_for(member).get(reverse("reports:milestone_md", args=[complete.pk, milestone.number]))
    text = markdown.content.decode()
    assert "## Appendix: Kubernetes manifests\n\n```yaml\n" + expected.rstrip("\n") + "\n```\n" in text
    # the draft reads the design as it is now: its framework is blank, so the appendix lists what is missing
    draft = client_for(member).get(reverse("reports:draft", args=[complete.pk])).content.decode()
    assert 'class="manifests-missing"' in draft and "architecture.serving_framework" in draft


def test_the_appendix_is_in_the_contents_and_the_layout_version_is_bumped(complete, milestone):
    from reviewapp.reports.context import report_context
    from reviewapp.reports.selectors import LAYOUT_VERSION

    context = report_context(milestone.snapshot)
    assert ("kubernetes", "Appendix: Kubernetes manifests") in context["toc"]
    assert context["kubernetes"]["missing"] == [] and context["kubernetes"]["documents"] == 5
    assert LAYOUT_VERSION >= 2


def test_a_model_name_with_backticks_cannot_close_the_markdown_fence(complete, milestone):
    from reviewapp.reports.context import report_context
    from reviewapp.reports.markdown import report_markdown

    snapshot = dict(milestone.snapshot)
    snapshot["facts"] = {**snapshot["facts"],
                         "requirements": {**snapshot["facts"]["requirements"], "model_name": "m```\n# evil"}}
    text = report_markdown(report_context(snapshot))
    section = text.split("## Appendix: Kubernetes manifests", 1)[1]
    assert section.lstrip().startswith("````yaml\n")
    assert "\n# evil" not in section


def test_the_pdf_has_the_appendix_in_its_outline_and_text(complete, milestone):
    from reviewapp.reports.render import pdf_from_html, report_html, source_context
    from reviewapp.reports.selectors import milestone_source
    from tests.reviewapp.report_fixtures import outline_titles, pdf_text

    context = source_context(milestone_source(complete, milestone))
    for chart in context["charts"]:  # no Chromium here: the charts are not the point
        chart["svg"] = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
    pdf = pdf_from_html(report_html(context, output="pdf")).pdf
    if os.environ.get("KUBERNETES_PDF_OUT"):  # to look at it: KUBERNETES_PDF_OUT=/tmp/report.pdf
        Path(os.environ["KUBERNETES_PDF_OUT"]).write_bytes(pdf)
    assert "Appendix: Kubernetes manifests" in outline_titles(pdf)
    text = pdf_text(pdf)
    assert "kind: HorizontalPodAutoscaler" in text and "vllm:num_requests_waiting" in text


# --- a design that cannot run as designed (issue 25): no manifests, the one reason, 409 on export

def _cannot_run() -> dict:
    inputs = example_design()
    inputs["requirements"].update(model_params_billions=70.0, model_layers=80)
    inputs["architecture"].update(gpu_type="l4-24gb", quantization="none")
    return inputs


@pytest.fixture
def too_big(design):
    Design.objects.filter(pk=design.pk).update(inputs=_cannot_run())
    design.refresh_from_db()
    return design


def test_a_design_that_cannot_run_shows_the_reason_and_no_yaml(client_for, member, too_big):
    response = client_for(member).get(page(too_big))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kubernetes-cannot-run"' in html
    assert "Cannot run as designed: the weights (140.0 GB in bf16)" in html
    assert "kubernetes-yaml" not in html and 'id="kubernetes-missing"' not in html
    assert download(too_big) not in html


def test_the_download_of_a_design_that_cannot_run_is_409_with_the_reason(client_for, member, too_big):
    response = client_for(member).get(download(too_big))
    assert response.status_code == 409
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Cannot run as designed: the weights (140.0 GB in bf16)")
    assert "Content-Disposition" not in response


def test_an_outsider_cannot_learn_why_a_design_cannot_run(client_for, outsider, too_big):
    assert client_for(outsider).get(download(too_big)).status_code == 404
    assert client_for(outsider).get(page(too_big)).status_code == 404
