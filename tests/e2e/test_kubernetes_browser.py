"""The Kubernetes tab in Chromium: from the design page to the manifests, and their download parses
back to the documents the page shows; an incomplete design shows what is missing."""

import os

import pytest
import yaml
from playwright.sync_api import Page, expect

from engine.design import example_design, validate
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_the_kubernetes_tab_shows_and_downloads_the_manifests(live_server, page: Page, member, design, tmp_path):
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{design.pk}/")
    page.get_by_role("button", name="Kubernetes").click()
    expect(page.locator("#kubernetes-missing")).to_contain_text("architecture.serving_framework")

    design.inputs = validate(example_design()).document
    design.save(update_fields=["inputs"])
    page.reload()
    expect(page.locator("#kubernetes-yaml")).to_contain_text("kind: HorizontalPodAutoscaler")
    expect(page.locator("#kubernetes-yaml")).to_contain_text("# requirements.model_name")
    if os.environ.get("KUBERNETES_SCREENSHOT"):  # to look at it: KUBERNETES_SCREENSHOT=/tmp/k8s.png
        page.screenshot(path=os.environ["KUBERNETES_SCREENSHOT"])
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download ranking-service-k8s.yaml").click()
    download = download_info.value
    assert download.suggested_filename == "ranking-service-k8s.yaml"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    documents = list(yaml.safe_load_all(path.read_text()))
    assert [d["kind"] for d in documents] == ["Deployment", "Deployment", "Service", "HorizontalPodAutoscaler",
                                              "PodDisruptionBudget"]
    assert page.locator("#kubernetes-yaml").inner_text().strip() == path.read_text().strip()
