"""Design files in the app: the export is what `python -m engine assess` reads and it says what the
app says; an import reproduces the inputs exactly; a bad file creates nothing; access is the team's."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from engine import designfile
from reviewapp.checklists import services as checklist_services
from reviewapp.checklists.models import DesignReview
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.reviews.models import HistoryEvent
from tests.reviewapp.benchmark_fixtures import make_run, tiny_design  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def default_published(db):
    """The shipped default checklist, published and the default (as `make run` loads it)."""
    version, _created = checklist_services.default_checklist_load()
    return version


@pytest.fixture
def demo(default_published):
    """The seeded demo design (the engine's example design) and its owner."""
    call_command("seed_demo")
    design = Design.objects.select_related("team").get(team__slug="demo-team")
    return design, design.created_by


def export(client, design, fmt: str | None = None):
    url = f"/designs/{design.pk}/design-file/" + (f"?format={fmt}" if fmt else "")
    return client.get(url)


def cli_assess(path: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "engine", "assess", str(path), "--format", "json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def upload(text: str | bytes, name: str = "design.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="application/yaml")


def rows() -> tuple[int, int, int]:
    return Design.objects.count(), DesignReview.objects.count(), HistoryEvent.objects.count()


# --- export -> CLI: the same score and findings as the app ----------------------------------------


def test_the_exported_demo_assessed_by_the_cli_matches_the_app(client_for, demo, tmp_path):
    design, owner = demo
    response = export(client_for(owner), design)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="support-assistant-rag-chat.design.yaml"'
    path = tmp_path / "design.yaml"
    path.write_bytes(response.content)

    report = cli_assess(path)
    app = design_assessment(design)
    assert app.version.checklist.is_default and report["checklist"]["key"] == app.version.checklist.key
    assert report["score"]["overall"] == app.evaluation.score.overall
    assert report["verdict"] == app.evaluation.verdict
    assert [(f["item_key"], f["outcome"]) for f in report["findings"]] == [
        (f.item_key, f.outcome) for f in app.evaluation.findings]
    assert report["numbers"]["capacity.replicas"]["value"] == app.facts.get("capacity.replicas")
    assert report["numbers"]["cost.monthly_usd.selected"]["value"] == app.facts.get("cost.monthly_usd.selected")


def test_the_export_carries_the_measurements_in_force_so_the_cli_agrees(client_for, owner, default_published,
                                                                       tiny_design, tmp_path):
    make_run(tiny_design)
    app = design_assessment(tiny_design)
    assert app.facts.get("capacity.per_replica_qps_source") == "measured"
    response = export(client_for(owner), tiny_design, "json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(response.content)
    assert document["measurements"]["max_qps_at_p99"] == app.measurements["max_qps_at_p99"]
    path = tmp_path / "design.json"
    path.write_bytes(response.content)
    report = cli_assess(path)
    assert report["numbers"]["capacity.per_replica_qps"]["value"] == app.facts.get("capacity.per_replica_qps")
    assert report["score"]["overall"] == app.evaluation.score.overall
    assert [(f["item_key"], f["outcome"]) for f in report["findings"]] == [
        (f.item_key, f.outcome) for f in app.evaluation.findings]


def test_yaml_and_json_exports_hold_the_same_design(client_for, demo):
    design, owner = demo
    client = client_for(owner)
    as_yaml = yaml.safe_load(export(client, design).content)
    as_json = json.loads(export(client, design, "json").content)
    assert as_yaml == as_json
    assert as_yaml["format"] == designfile.FORMAT and as_yaml["name"] == design.name
    assert designfile.load(as_json).inputs == design.inputs


def test_an_unknown_export_format_is_a_clear_400(client_for, demo):
    design, owner = demo
    response = export(client_for(owner), design, "xml")
    assert response.status_code == 400 and b"format: must be yaml or json" in response.content


def test_the_design_page_links_both_exports(client_for, demo):
    design, owner = demo
    page = client_for(owner).get(f"/designs/{design.pk}/").content.decode()
    assert f'href="/designs/{design.pk}/design-file/"' in page and "Export design file (YAML)" in page
    assert f'href="/designs/{design.pk}/design-file/?format=json"' in page


# --- import ---------------------------------------------------------------------------------------


def test_an_imported_export_reproduces_the_inputs_exactly(client_for, demo, other_team):
    design, owner = demo
    client = client_for(owner)
    text = export(client, design).content
    response = client.post("/designs/import/", {"team": design.team.pk, "name": "Support assistant v2",
                                                "file": upload(text)})
    assert response.status_code == 302
    created = Design.objects.get(team=design.team, name="Support assistant v2")
    assert response["Location"] == f"/designs/{created.pk}/"
    created.refresh_from_db()
    assert created.inputs == design.inputs
    assert json.dumps(created.inputs, sort_keys=True) == json.dumps(design.inputs, sort_keys=True)
    assert created.description == design.description and created.created_by == owner
    assert DesignReview.objects.filter(design=created).exists()  # pinned like any new design
    assert HistoryEvent.objects.filter(design=created).count() == 1


def test_the_file_name_is_used_unless_it_clashes(client_for, demo):
    design, owner = demo
    client = client_for(owner)
    text = export(client, design, "json").content
    before = rows()
    clash = client.post("/designs/import/", {"team": design.team.pk, "file": upload(text, "d.json")})
    assert clash.status_code == 400
    assert "already has a design named" in clash.content.decode() and rows() == before
    Design.objects.filter(pk=design.pk).update(name="Renamed")
    assert client.post("/designs/import/", {"team": design.team.pk, "file": upload(text, "d.json")}).status_code == 302
    assert Design.objects.filter(team=design.team, name=design.name).exists()


@pytest.mark.parametrize("replace, path", [
    (("latency_p99_ms: 8000.0", "latency_p99_ms: fast"), "inputs.requirements.latency_p99_ms"),
    (("gpu_type: h100-80gb", "gpu_type: tpu-v9"), "inputs.architecture.gpu_type"),
    (("version: 1", "version: 7"), "version"),
    (("inputs:", "inputs: [\n"), "line "),
])
def test_a_bad_file_imports_nothing_and_names_the_field(client_for, demo, replace, path):
    design, owner = demo
    client = client_for(owner)
    text = export(client, design).content.decode().replace(*replace)
    before = rows()
    response = client.post("/designs/import/", {"team": design.team.pk, "name": "Broken", "file": upload(text)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "nothing was created" in page and f"<code>{path}" in page
    assert rows() == before
    assert not Design.objects.filter(name="Broken").exists()


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\ufffe"], ids=["nul", "soh", "esc", "u+fffe"])
def test_a_control_character_imports_nothing_and_names_the_line(client_for, demo, char):
    design, owner = demo
    client = client_for(owner)
    text = export(client, design).content.decode().replace("name: ", f"name: {char}", 1)
    before = rows()
    response = client.post("/designs/import/", {"team": design.team.pk, "name": "Broken", "file": upload(text)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "nothing was created" in page and "<code>line 5" in page and f"U+{ord(char):04X}" in page
    assert rows() == before


def test_a_huge_upload_is_refused_before_it_is_read(client_for, demo):
    design, owner = demo
    before = rows()
    big = upload(b"# " + b"x" * (designfile.MAX_FILE_BYTES + 10))
    response = client_for(owner).post("/designs/import/", {"team": design.team.pk, "file": big})
    assert response.status_code == 400 and "a design file is at most" in response.content.decode()
    assert rows() == before


def test_the_import_page_offers_only_the_users_teams(client_for, demo, other_team):
    design, owner = demo
    page = client_for(owner).get("/designs/import/").content.decode()
    assert design.team.name in page and other_team.name not in page


# --- access ---------------------------------------------------------------------------------------


def test_an_outsider_cannot_export_another_teams_design(client_for, demo, outsider):
    design, _owner = demo
    client = client_for(outsider)
    assert export(client, design).status_code == 404
    assert export(client, design, "json").status_code == 404


def test_an_outsider_cannot_import_into_another_team(client_for, demo, outsider):
    design, owner = demo
    text = export(client_for(owner), design).content
    client = client_for(outsider)
    before = rows()
    response = client.post("/designs/import/", {"team": design.team.pk, "name": "Sneaky", "file": upload(text)})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert rows() == before


def test_the_schema_is_served_to_signed_in_users(client_for, member, client):
    assert client.get("/designs/design-file.schema.json").status_code == 302  # anonymous: log in first
    response = client_for(member).get("/designs/design-file.schema.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/schema+json"
    assert json.loads(response.content) == designfile.json_schema()
