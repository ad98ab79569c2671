"""The design's Kubernetes page and its YAML download (reviewapp.designs.views_deploy)."""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engine.design import example_design
from reviewapp.designs.models import Design


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


def test_the_download_of_an_incomplete_design_is_404(client_for, member, design):
    assert client_for(member).get(download(design)).status_code == 404


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
