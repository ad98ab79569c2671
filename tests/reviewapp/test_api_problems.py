"""Malformed requests get a 4xx problem-details answer naming the field (never a 5xx) and change
nothing: wrong types, unknown fields, bodies that are not JSON or not an object, huge bodies,
bad path and query parameters, unknown URLs and wrong methods."""

import json

import pytest
from engine.design import example_design

from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.designs.models import Design
from tests.reviewapp.api_fixtures import api_for, assert_problem  # noqa: F401


@pytest.fixture
def api(api_for, member):
    return api_for(member)


@pytest.fixture
def saved(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


def unchanged(design):
    design.refresh_from_db()
    return design.revision == 1 and design.inputs == example_design() and Design.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"team": "one", "name": "x"}, "team"),  # wrong type
    ({"team": 1, "name": ["x"]}, "name"),
    ({"team": 1}, "name"),  # missing
    ({"team": 1, "name": "x", "colour": "red"}, "colour"),  # unknown field
    ({"team": 1, "name": "x", "inputs": {"requirements": 5}}, "inputs.requirements"),
    ({"team": 1, "name": "x", "inputs": {"requirements": {}, "x": 1}}, "inputs.x"),
])
def test_a_malformed_create_names_the_field(api, saved, body, field):
    body = assert_problem(api.post("/designs", body), 400, field)
    assert body["type"] == "urn:ai-design-review:problem:invalid-request" and body["title"] == "Bad request"
    assert unchanged(saved)


@pytest.mark.parametrize("raw", ["{not json", "", "null", "[1, 2]", '"text"', "1e999999", '{"requirements": {"a":'])
def test_a_body_that_is_not_a_json_object_is_400(api, saved, raw):
    response = api.put(f"/designs/{saved.pk}/inputs", raw_body=raw, HTTP_IF_MATCH='"1"')
    assert_problem(response, 400)
    assert unchanged(saved)


def test_a_body_of_invalid_utf8_is_400(api, saved):
    response = api.post(f"/designs/{saved.pk}/assess", raw_body=b'{"requirements": {"use_case": "\xff\xfe"}}')
    assert_problem(response, 400)


def test_a_nul_character_in_a_name_is_refused_by_name(api, team, saved):
    assert_problem(api.post("/designs", {"team": team.pk, "name": "bad\x00name"}), 400, "name")
    assert unchanged(saved)


def test_a_huge_body_is_413_and_writes_nothing(api, saved, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    huge = {"requirements": {"use_case": "x" * 200_000}}
    response = api.put(f"/designs/{saved.pk}/inputs", huge, HTTP_IF_MATCH='"1"')
    assert_problem(response, 413)
    assert unchanged(saved)


def test_deeply_nested_json_is_a_4xx_not_a_crash(api, saved):
    deep = '{"requirements": {"use_case": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = api.post(f"/designs/{saved.pk}/assess", raw_body=deep)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e308, -1, 10**30, True])
def test_odd_numbers_in_inputs_are_refused_or_assessed_never_a_5xx(api, saved, value):
    text = json.dumps({"requirements": {"peak_qps": value}})  # NaN and Infinity as Python writes them
    response = api.post(f"/designs/{saved.pk}/assess", raw_body=text)
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_problem(response, 400)
    else:
        json.loads(response.content, parse_constant=lambda c: pytest.fail(f"{c} in the answer"))


@pytest.mark.parametrize("path", ["/designs/abc", "/designs/1.5/assessment", "/designs/%20/benchmarks"])
def test_a_path_parameter_that_is_not_a_number_is_400(api, path):
    assert_problem(api.get(path), 400)


def test_an_unknown_export_format_names_the_query_parameter(api):
    assert_problem(api.get("/checklists/1/export?format=xlsx"), 400, "query.format")


def test_an_unknown_url_and_a_wrong_method_are_4xx(api, saved):
    assert api.get("/nothing-here").status_code == 404
    assert api.call("DELETE", f"/designs/{saved.pk}").status_code == 405
    assert unchanged(saved)


def test_a_malformed_benchmark_request_names_the_field_and_queues_nothing(api_for, reviewer, design):
    api = api_for(reviewer)
    assert_problem(api.post(f"/designs/{design.pk}/benchmarks", {"preset": "forever"}), 400, "preset")
    assert_problem(api.post(f"/designs/{design.pk}/benchmarks", {"queries": "many"}), 400, "queries")
    assert_problem(api.post(f"/designs/{design.pk}/benchmarks", {"seed": -1}), 400, "seed")
    assert BenchmarkRun.objects.count() == 0


def test_an_unexpected_error_is_a_500_problem_without_internals(api, saved, monkeypatch):
    from reviewapp.api import api as api_module

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_module, "design_assessment", boom)
    response = api.get(f"/designs/{saved.pk}/assessment")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.content.decode() and body["errors"] == []


@pytest.mark.parametrize("path", ["/designs/99999999999999999999999", "/designs/9223372036854775808/benchmarks/1",
                                  "/checklists/-99999999999999999999/export"])
def test_ids_beyond_the_databases_integers_are_404_not_a_crash(api, path):
    assert_problem(api.get(path), 404)
