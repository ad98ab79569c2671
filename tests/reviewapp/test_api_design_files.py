"""Design files and Kubernetes manifests through the API: export (what the page exports, as JSON),
import as a new design (a bad file creates nothing and names each problem), manifests or what is
missing for them."""

import copy
import json

import pytest
from engine import designfile
from engine.design import example_design

from reviewapp.designs.models import Design
from tests.reviewapp.api_fixtures import api_for, assert_problem  # noqa: F401


@pytest.fixture
def saved(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


def test_export_is_the_design_file_of_the_saved_design(api_for, member, saved):
    body = api_for(member).get(f"/designs/{saved.pk}/designfile").json()
    assert body == designfile.dump(saved.inputs, name=saved.name, description=saved.description)
    assert designfile.load(body).inputs == designfile.load(designfile.dump(saved.inputs, name="x")).inputs


def test_import_creates_the_design_with_the_files_inputs(api_for, member, team, saved):
    file = designfile.dump(saved.inputs, name="Imported", description="from CI")
    response = api_for(member).post("/designs/import", {"team": team.pk, "file": file})
    assert response.status_code == 201, response.content
    design = Design.objects.get(name="Imported")
    assert (design.description, design.created_by.username) == ("from CI", "mei")
    assert design.inputs == designfile.load(file).inputs
    assert response["Location"] == f"/api/v1/designs/{design.pk}"


def test_import_under_another_name(api_for, member, team, saved):
    file = designfile.dump(saved.inputs, name=saved.name)
    response = api_for(member).post("/designs/import", {"team": team.pk, "file": file, "name": "Copy"})
    assert response.status_code == 201 and Design.objects.filter(name="Copy").exists()


def test_a_bad_file_creates_nothing_and_names_each_problem(api_for, member, team, saved):
    file = designfile.dump(saved.inputs, name="Broken")
    file["inputs"]["requirements"]["latency_p99_ms"] = "fast"
    file["colour"] = "red"
    response = api_for(member).post("/designs/import", {"team": team.pk, "file": file})
    body = assert_problem(response, 400)
    fields = {e["field"] for e in body["errors"]}
    assert {"file.inputs.requirements.latency_p99_ms", "file.colour"} <= fields
    assert Design.objects.count() == 1


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\ufffe"], ids=["nul", "soh", "esc", "u+fffe"])
def test_a_control_character_in_the_file_creates_nothing_and_is_named(api_for, member, team, saved, char):
    """The API takes the file as JSON: escaped, the character reaches the file's checks; raw, the
    JSON itself is refused. Neither is a server error."""
    file = designfile.dump(saved.inputs, name=f"Bro{char}ken")
    body = assert_problem(api_for(member).post("/designs/import", {"team": team.pk, "file": file}), 400)
    assert [e["field"] for e in body["errors"]] == ["file.name"]
    assert f"U+{ord(char):04X}" in body["errors"][0]["message"]
    raw = json.dumps({"team": team.pk, "file": file}, ensure_ascii=False).replace(json.dumps(char)[1:-1], char)
    response = api_for(member).post("/designs/import", raw_body=raw.encode())
    assert response.status_code == 400, response.content
    assert Design.objects.count() == 1


def test_a_name_taken_in_the_team_is_refused(api_for, member, team, saved):
    file = designfile.dump(saved.inputs, name=saved.name)
    assert_problem(api_for(member).post("/designs/import", {"team": team.pk, "file": file}), 400, "name")
    assert Design.objects.count() == 1


def test_importing_into_another_team_is_refused(api_for, outsider, team, saved):
    file = designfile.dump(saved.inputs, name="Planted")
    assert_problem(api_for(outsider).post("/designs/import", {"team": team.pk, "file": file}), 400, "team")
    assert not Design.objects.filter(name="Planted").exists()


def test_outsiders_cannot_export_or_read_manifests(api_for, outsider, saved):
    api = api_for(outsider)
    assert_problem(api.get(f"/designs/{saved.pk}/designfile"), 404)
    assert_problem(api.get(f"/designs/{saved.pk}/kubernetes"), 404)


def test_manifests_of_a_complete_design_and_what_an_empty_one_misses(api_for, member, saved, team):
    api = api_for(member)
    body = api.get(f"/designs/{saved.pk}/kubernetes").json()
    assert body["ok"] is True and body["missing"] == [] and body["yaml"]
    assert {d["kind"] for d in body["documents"]} >= {"Deployment", "Service"}
    empty = Design.objects.create(team=team, name="Empty", inputs=copy.deepcopy({}))
    body = api.get(f"/designs/{empty.pk}/kubernetes").json()
    assert body["ok"] is False and body["missing"] and body["yaml"] == "" and body["documents"] == []


def test_manifests_of_a_design_that_cannot_run_are_refused_with_the_reason(api_for, member, saved):
    inputs = copy.deepcopy(example_design())
    inputs["requirements"].update(model_params_billions=70.0, model_layers=80)
    inputs["architecture"].update(gpu_type="l4-24gb", quantization="none")
    Design.objects.filter(pk=saved.pk).update(inputs=inputs)
    body = api_for(member).get(f"/designs/{saved.pk}/kubernetes").json()
    assert body["ok"] is False and body["yaml"] == "" and body["documents"] == [] and body["missing"] == []
    assert body["cannot_run"].startswith("Cannot run as designed: the weights (140.0 GB in bf16)")
    assert api_for(member).get(f"/designs/{saved.pk}/kubernetes").json()["cannot_run"] == body["cannot_run"]
