"""Alternatives side by side: designs of the user's teams (now, or a milestone) in columns, the
rows that differ marked, a PDF that names them; another team's design is not found."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from engine import designfile
from engine.starters import TEMPLATES_DIR
from reviewapp.checklists import services as checklist_services
from reviewapp.designs import services as design_services
from reviewapp.designs.models import Design
from reviewapp.reviews import services as review_services

URL = reverse("alternatives:compare")
PDF_URL = reverse("alternatives:compare_pdf")


def from_template(team, user, key: str, name: str | None = None) -> Design:
    loaded = designfile.load((TEMPLATES_DIR / f"{key}.yaml").read_text())
    return design_services.design_import(team=team, loaded=loaded, user=user, name=name or "")


@pytest.fixture
def alternatives(db, team, owner):
    checklist_services.default_checklist_load()
    return from_template(team, owner, "rag-chat-self-hosted"), from_template(team, owner, "llm-managed-api")


def picks(*designs, milestone: dict | None = None) -> dict:
    return {"pick": [str(d.pk) for d in designs] + [f"{pk}@{n}" for pk, n in (milestone or {}).items()]}


def row(comparison, key: str):
    return next(r for r in (*comparison.summary, *comparison.numbers, *comparison.findings) if r.key == key)


def test_two_designs_side_by_side_with_the_differences_marked(client_for, member, alternatives):
    hosted, bought = alternatives
    response = client_for(member).get(URL, picks(hosted, bought))
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert [c.title for c in comparison.columns] == [hosted.name, bought.name]
    # The managed API runs no fleet: replicas and GPUs differ, and the chosen plan's cost is the API's bill.
    assert row(comparison, "architecture.serving_framework").cells == ("vllm", "managed_api")
    replicas = row(comparison, "capacity.replicas")
    assert replicas.differs and replicas.cells[1] == "—" and replicas.cells[0] != "—"
    assert row(comparison, "cost.monthly_usd.selected").differs
    assert not row(comparison, "requirements.workload_timing").differs  # both online
    html = response.content.decode()
    assert html.count('class="differs"') == comparison.differences > 0
    assert f'data-key="capacity.replicas"' in html and "≠" in html
    assert f'href="{reverse("designs:detail", args=[hosted.pk])}"' in html
    assert f'href="{PDF_URL}?' in html  # the PDF link keeps the picks


def test_a_design_against_its_own_milestone(client_for, member, owner, alternatives):
    hosted, _bought = alternatives
    milestone = review_services.milestone_create(design=hosted, user=owner, name="Before spot")
    inputs = {**hosted.inputs, "architecture": {**hosted.inputs["architecture"], "spot_share_pct": 30.0}}
    design_services.design_update_inputs(design=hosted, data=inputs, revision=hosted.revision, user=owner)
    response = client_for(member).get(URL, picks(hosted, milestone={hosted.pk: milestone.number}))
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert [c.source for c in comparison.columns] == ["Now (revision 2)", f"M{milestone.number} Before spot"]
    assert row(comparison, "cost.monthly_usd.selected").differs  # more spot: a cheaper mix
    assert not row(comparison, "capacity.replicas").differs


def test_three_are_allowed_and_the_order_is_kept(client_for, member, team, owner, alternatives):
    hosted, bought = alternatives
    third = from_template(team, owner, "embedding-service")
    response = client_for(member).get(URL, picks(third, hosted, bought))
    assert [c.title for c in response.context["comparison"].columns] == [third.name, hosted.name, bought.name]


@pytest.mark.parametrize("count, message", [(1, "Pick two or three"), (4, "Pick at most three")])
def test_too_few_or_too_many_get_a_clear_message(client_for, member, team, owner, alternatives, count, message):
    designs = [*alternatives, from_template(team, owner, "recommender"), from_template(team, owner, "batch-scoring")]
    response = client_for(member).get(URL, picks(*designs[:count]))
    assert response.status_code == 400
    assert message in response.content.decode() and response.context["comparison"] is None
    assert client_for(member).get(PDF_URL, picks(*designs[:count])).status_code == 400


def test_a_malformed_pick_is_named(client_for, member, alternatives):
    response = client_for(member).get(URL, {"pick": [str(alternatives[0].pk), "12;drop"]})
    assert response.status_code == 400 and "“12;drop” is not a design" in response.content.decode()


def test_the_same_design_twice_counts_once(client_for, member, alternatives):
    response = client_for(member).get(URL, picks(alternatives[0], alternatives[0]))
    assert response.status_code == 400 and "you picked 1" in response.content.decode()


def test_another_teams_design_is_not_found(client_for, member, other_team, outsider, alternatives):
    theirs = from_template(other_team, outsider, "recommender")
    assert client_for(member).get(URL, picks(alternatives[0], theirs)).status_code == 404
    assert client_for(member).get(PDF_URL, picks(alternatives[0], theirs)).status_code == 404
    # ... nor can the outsider read ours, in any column.
    assert client_for(outsider).get(URL, picks(theirs, alternatives[0])).status_code == 404


def test_a_missing_milestone_is_not_found(client_for, member, alternatives):
    hosted, bought = alternatives
    assert client_for(member).get(URL, picks(bought, milestone={hosted.pk: 99})).status_code == 404


def test_the_picker_lists_only_my_designs_and_ticks_the_one_i_came_from(client_for, member, other_team, outsider,
                                                                         alternatives):
    theirs = from_template(other_team, outsider, "recommender", name="Their recommender")
    response = client_for(member).get(URL, {"with": alternatives[0].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{alternatives[0].pk}" checked' in html and f'value="{alternatives[1].pk}">' in html
    assert theirs.name not in html
    # The design list and page link here without JavaScript: a GET form and a plain link.
    listing = client_for(member).get(reverse("designs:list")).content.decode()
    assert f'action="{URL}"' in listing and f'name="pick" value="{alternatives[0].pk}"' in listing
    detail = client_for(member).get(reverse("designs:detail", args=[alternatives[0].pk])).content.decode()
    assert f'href="{URL}?with={alternatives[0].pk}"' in detail


def test_wrong_method(client_for, member, alternatives):
    assert client_for(member).post(URL, picks(*alternatives)).status_code == 405
    assert client_for(member).post(PDF_URL, picks(*alternatives)).status_code == 405


def test_anonymous_is_sent_to_log_in(client, alternatives):
    response = client.get(URL, picks(*alternatives))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_pdf_names_the_alternatives(client_for, member, alternatives):
    hosted, bought = alternatives
    response = client_for(member).get(PDF_URL, picks(hosted, bought))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="compare-{hosted.pk}-{bought.pk}.pdf"'
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert hosted.name in text and bought.name in text
    assert "Monthly cost, chosen plan" in text and "≠" in text


def test_a_design_that_cannot_run_shows_no_numbers_for_its_fleet(client_for, member, owner, alternatives):
    hosted, bought = alternatives
    inputs = {**hosted.inputs, "requirements": {**hosted.inputs["requirements"], "model_params_billions": 400.0},
              "architecture": {**hosted.inputs["architecture"], "gpu_type": "l4-24gb"}}
    design_services.design_update_inputs(design=hosted, data=inputs, revision=hosted.revision, user=owner)
    comparison = client_for(member).get(URL, picks(hosted, bought)).context["comparison"]
    can_run = row(comparison, "capacity.feasible")
    assert can_run.cells[0].startswith("Cannot run as designed: ") and can_run.cells[1] == "Yes"
    for key in ("capacity.replicas", "capacity.gpus", "cost.monthly_usd.on_demand", "cost.monthly_usd.selected"):
        assert row(comparison, key).cells[0] == "Cannot run as designed"
