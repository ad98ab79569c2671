"""Imports are one transaction: a bad file names the JSON path of its problem and writes nothing."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from engine.checklist import ChecklistError

from reviewapp.checklists import services
from reviewapp.checklists.models import Checklist, ChecklistVersion, Item, Section
from tests.reviewapp.checklist_fixtures import published, sample, sample_bytes, staff  # noqa: F401

ENGINE_SAMPLES = Path(__file__).resolve().parents[1] / "engine" / "data" / "checklist"


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Checklist, ChecklistVersion, Section, Item))


def bad_expression() -> bytes:
    document = sample()
    document["sections"][1]["items"][0]["passes_when"] = "size(architecture.fallback_chain) >="
    return json.dumps(document).encode()


def unknown_field() -> bytes:
    document = sample()
    document["sections"][0]["items"][1]["severty"] = "high"
    return json.dumps(document).encode()


def with_nul(*where: str | int) -> bytes:
    document = sample()
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] += "\x00"
    return json.dumps(document).encode()


def lens_with_nul() -> bytes:
    lens = json.loads((ENGINE_SAMPLES / "lens_valid.json").read_text())
    lens["pillars"][0]["questions"][0]["description"] = "a\x00b"
    return json.dumps(lens).encode()


BAD_FILES = [
    # Found by an outside probe: 500s (RecursionError; NUL refused by PostgreSQL at the save).
    ("ours", lambda: b'{"sections": ' + b"[" * 1000 + b"]" * 1000 + b"}", "(document)", "nested more than 64"),
    ("aws-lens", lambda: b"[" * 1000 + b"]" * 1000, "(document)", "nested more than 64"),
    ("ours", lambda: with_nul("name"), "name", "NUL"),
    ("ours", lambda: with_nul("sections", 0, "items", 0, "title"), "sections[0].items[0].title", "NUL"),
    ("ours", lambda: with_nul("sections", 1, "items", 0, "improvement_plan"), "sections[1].items[0].improvement_plan", "NUL"),
    ("aws-lens", lens_with_nul, "pillars[0].questions[0].description", "NUL"),
    ("ours", lambda: b'{"format": "ai-design-review/checklist", "key": ', "(document)", "malformed JSON"),
    ("ours", unknown_field, "sections[0].items[1].severty", "unknown field"),
    ("ours", bad_expression, "sections[1].items[0].passes_when", "does not compile"),
    ("ours", lambda: (ENGINE_SAMPLES / "checklist_invalid.json").read_bytes(), "sections[0].items[0].severity", "critical"),
    ("aws-lens", lambda: (ENGINE_SAMPLES / "lens_malformed.json").read_bytes(), "(document)", "malformed JSON"),
    ("aws-lens", lambda: (ENGINE_SAMPLES / "lens_over_limit.json").read_bytes(), "pillars", "at most 10 pillars"),
    ("aws-lens", lambda: (ENGINE_SAMPLES / "lens_unknown_risk.json").read_bytes(), "pillars[0].questions[0].riskRules[1].risk", "LOW_RISK"),
]


@pytest.mark.parametrize(("fmt", "data", "path", "message"), BAD_FILES)
def test_a_bad_file_names_its_problem_and_imports_nothing(published, fmt, data, path, message):
    before = counts()
    with pytest.raises(ChecklistError) as raised:
        services.checklist_import(data=data(), fmt=fmt, publish=True)
    assert any(p.path == path and message in p.message for p in raised.value.problems), raised.value.problems
    assert counts() == before


def test_a_failed_publish_rolls_back_the_import(db, monkeypatch):
    def refuse(**kwargs):
        raise ChecklistError([])

    monkeypatch.setattr(services, "version_publish", refuse)
    with pytest.raises(ChecklistError):
        services.checklist_import(data=sample_bytes(), publish=True)
    assert counts() == (0, 0, 0, 0)


def test_it_imports_our_format_as_a_new_draft_and_then_a_next_version(db):
    first = services.checklist_import(data=sample_bytes())
    second = services.checklist_import(data=sample_bytes(name="Renamed"))
    assert (first.number, second.number, second.status) == (1, 2, "draft")
    assert Checklist.objects.get().name == "Renamed"
    assert Item.objects.filter(section__version=second).count() == 5


def test_it_imports_a_lens_as_manual_multiple_choice_items(db):
    version = services.checklist_import(data=(ENGINE_SAMPLES / "lens_valid.json").read_bytes(), fmt="aws-lens")
    items = Item.objects.filter(section__version=version)
    assert items.exists()
    assert all(i.mode == "manual" and i.choices and i.risk_rules for i in items)


def test_export_then_import_then_export_is_the_same_document(published, tmp_path):
    first = tmp_path / "first.json"
    call_command("export_checklist", "test_checklist", "--output", str(first))
    call_command("import_checklist", str(first), "--publish")
    second = tmp_path / "second.json"
    call_command("export_checklist", "test_checklist", "--number", "2", "--output", str(second))
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_lens_export_command_writes_a_lens(published, tmp_path):
    out = tmp_path / "lens.json"
    call_command("export_checklist", "test_checklist", "--format", "aws-lens", "--output", str(out))
    lens = json.loads(out.read_text())
    assert lens["schemaVersion"] == "2021-11-01"
    services.checklist_import(data=out.read_bytes(), fmt="aws-lens")  # our own lens reads back


def test_import_command_refuses_a_bad_file_with_its_path(published, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(bad_expression())
    before = counts()
    with pytest.raises(CommandError, match=r"sections\[1\]\.items\[0\]\.passes_when"):
        call_command("import_checklist", str(bad))
    assert counts() == before


def test_load_default_checklist_publishes_version_one_once(db, tmp_path):
    path = tmp_path / "default.json"
    path.write_bytes(sample_bytes())
    call_command("load_default_checklist", "--path", str(path))
    call_command("load_default_checklist", "--path", str(path))
    version = ChecklistVersion.objects.get()
    assert (version.number, version.status, version.checklist.is_default) == (1, "published", True)


def test_run_loads_the_default_checklist_and_the_demo_shows_passes_and_findings(db, client):
    from reviewapp.core.management.commands.seed_demo import DEMO_DESIGN, DEMO_USERNAME
    from reviewapp.designs.models import Design

    call_command("seed_demo")
    call_command("load_default_checklist")
    call_command("load_default_checklist")  # run.sh calls it on every start
    version = ChecklistVersion.objects.get()
    assert (version.number, version.status, version.checklist.is_default) == (1, "published", True)
    assert Item.objects.filter(section__version=version).count() >= 60
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=DEMO_USERNAME))
    design = Design.objects.get(name=DEMO_DESIGN)
    html = client.get(f"/checklists/design/{design.pk}/review/").content.decode()
    assert 'data-outcome="pass"' in html and 'data-outcome="fail"' in html
    failing = html.split('data-outcome="fail"')[0].rsplit('id="finding-', 1)[1].split('"')[0]
    detail = client.get(f"/checklists/design/{design.pk}/findings/{failing}/").content.decode()
    assert "Improvement plan:" in detail


def test_admin_import_button_refuses_a_bad_file_and_imports_a_good_one(published, staff, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff)
    url = "/admin/checklists/checklist/import/"
    before = counts()
    bad = SimpleUploadedFile("bad.json", bad_expression(), content_type="application/json")
    response = client.post(url, {"file": bad, "format": "ours"})
    assert response.status_code == 400
    assert "sections[1].items[0].passes_when" in response.content.decode()
    assert counts() == before
    good = SimpleUploadedFile("good.json", sample_bytes(), content_type="application/json")
    response = client.post(url, {"file": good, "format": "ours"})
    assert response.status_code == 302
    assert ChecklistVersion.objects.filter(checklist__key="test_checklist", number=2, status="draft").exists()


@pytest.mark.parametrize(("fmt", "data", "path", "message"), BAD_FILES[:6])
def test_admin_import_answers_400_to_deep_nesting_and_nul(published, staff, client, fmt, data, path, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff)
    before = counts()
    upload = SimpleUploadedFile("bad.json", data(), content_type="application/json")
    response = client.post("/admin/checklists/checklist/import/", {"file": upload, "format": fmt})
    assert response.status_code == 400
    assert path in response.content.decode() and message in response.content.decode()
    assert counts() == before


def test_import_command_refuses_deep_nesting(published, tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 1000 + b"]" * 1000)
    with pytest.raises(CommandError, match="nested more than 64"):
        call_command("import_checklist", str(path))
