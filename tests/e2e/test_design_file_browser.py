"""Design files in Chromium: the design page's export downloads a file that the import page turns
into a new design with the same inputs; a broken file shows its problems by path and creates nothing."""

import pytest
from playwright.sync_api import Page, expect

from engine.design import example_design, validate
from reviewapp.designs.models import Design
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_export_then_import_makes_the_same_design(live_server, page: Page, member, design, tmp_path):
    design.inputs = validate(example_design()).document
    design.save(update_fields=["inputs"])
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{design.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export design file (YAML)").click()
    download = download_info.value
    assert download.suggested_filename == "ranking-service.design.yaml"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    page.goto(live_server.url + "/designs/")
    page.get_by_role("button", name="Import design file").click()
    page.get_by_label("Team").select_option(label=design.team.name)
    page.get_by_label("Design file (YAML or JSON)").set_input_files(path)
    page.get_by_label("Name").fill("Ranking service v2")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Ranking service v2")).to_be_visible()
    created = Design.objects.get(name="Ranking service v2")
    assert created.inputs == design.inputs and created.team_id == design.team_id

    broken = tmp_path / "broken.yaml"
    broken.write_text(path.read_text().replace("latency_p99_ms: 8000.0", "latency_p99_ms: soon"))
    page.goto(live_server.url + "/designs/import/")
    page.get_by_label("Design file (YAML or JSON)").set_input_files(broken)
    page.get_by_label("Name").fill("Broken")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-errors")).to_contain_text("inputs.requirements.latency_p99_ms")
    expect(page.locator("#import-errors")).to_contain_text("P99 latency: expects a number")
    assert not Design.objects.filter(name="Broken").exists()
