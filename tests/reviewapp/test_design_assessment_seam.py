"""The one assessment seam (issue 8): one assessment per request, cost that does not grow with the
checklist, no writes on GET, and the numbers and findings panels reading the same facts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from engine import vocabulary
from engine.design import example_design

from reviewapp.checklists import services
from reviewapp.checklists.models import Answer, Checklist, DesignReview
from reviewapp.designs import selectors
from reviewapp.designs.document import form_data
from tests.reviewapp.checklist_fixtures import filled_design, published, sample, scaled_default  # noqa: F401

HX = {"HTTP_HX_REQUEST": "true"}


def publish_default(document: dict):
    version = services.checklist_import(data=document, publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    return version


def queries_for(client, method: str, url: str, data=None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {}, **HX)
    assert response.status_code == 200, response.status_code
    return [q["sql"] for q in captured.captured_queries]


def views(design):
    return [
        ("get", f"/designs/{design.pk}/", None),
        ("post", f"/designs/{design.pk}/inputs/preview/", form_data(design.inputs, revision=design.revision)),
        ("get", f"/checklists/design/{design.pk}/panel/", None),
        ("get", f"/checklists/design/{design.pk}/review/", None),
        ("post", f"/designs/{design.pk}/numbers/capacity.replicas/", form_data(design.inputs, revision=design.revision)),
    ]


# --- cost grows with work, not with page size ---------------------------------------------


def test_queries_per_view_do_not_grow_with_checklist_size_or_answers(client_for, member, filled_design):
    client = client_for(member)
    small = publish_default(sample())
    review = services.review_for_design(design=filled_design)
    manual = next(item.key for section in small.sections.all() for item in section.items.filter(mode="manual"))
    services.answer_set(review=review, item_key=manual, user=member, status="pass")
    counts_small = [len(queries_for(client, m, u, d)) for m, u, d in views(filled_design)]

    big = services.checklist_import(data=scaled_default(200), publish=True)
    review = DesignReview.objects.get(design=filled_design)
    services.review_repin(review=review, version=big, user=member)
    # (The default checklist grew a fit section in issue 12, all automatic: take manual items from every section.)
    keys = [item.key for section in big.sections.all() for item in section.items.filter(mode="manual")][:30]
    for key in keys:
        services.answer_set(review=review, item_key=key, user=member, status="pass")
    assert big.sections.values("items").count() == 200 and small.number == 1
    assert Answer.objects.filter(review=review).count() == len(set(keys) | {manual}) > 5
    counts_big = [len(queries_for(client, m, u, d)) for m, u, d in views(filled_design)]
    assert counts_big == counts_small


def test_the_page_computes_the_engine_once_per_request(client_for, member, published, filled_design, monkeypatch):
    calls = []
    real = selectors.engine_assess
    monkeypatch.setattr(selectors, "engine_assess", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(selectors, "_engine_results", selectors.Memo(16))
    client = client_for(member)
    assert client.get(f"/designs/{filled_design.pk}/").status_code == 200
    assert len(calls) == 1  # numbers panel and findings panel from one assessment
    assert client.get(f"/designs/{filled_design.pk}/").status_code == 200
    assert len(calls) == 1  # the same design again: the memoised engine result
    data = form_data(filled_design.inputs, revision=filled_design.revision)
    data["requirements.peak_qps"] = "123"
    assert client.post(f"/designs/{filled_design.pk}/inputs/preview/", data, **HX).status_code == 200
    assert len(calls) == 2  # other values, computed anew


def test_answers_and_acceptances_are_read_only_when_the_review_has_some(client_for, member, reviewer, filled_design):
    """The design's query says whether its review has any answer or accepted risk (most drafts
    have neither), and then no query reads them; what the page shows follows each change."""
    small = publish_default(sample())
    review = services.review_for_design(design=filled_design)
    manual = next(item.key for section in small.sections.all() for item in section.items.filter(mode="manual"))

    def preview():
        data = form_data(filled_design.inputs, revision=filled_design.revision)
        sql = queries_for(client_for(member), "post", f"/designs/{filled_design.pk}/inputs/preview/", data)
        html = client_for(member).get(f"/designs/{filled_design.pk}/").content.decode()
        outcome = re.search(rf'id="finding-{manual}" data-outcome="(\w+)"', html).group(1)
        return len(sql), outcome

    preview()  # the first assessment of a version also reads and compiles its items
    none = preview()
    services.answer_set(review=review, item_key=manual, user=member, status="fail", reason="not yet")
    answered = preview()
    services.risk_accept(review=review, item_key=manual, user=reviewer, rationale="Next quarter.")
    accepted = preview()
    assert none[1] == "unanswered" and answered[1] == "fail" and accepted[1] == "accepted_risk"
    assert answered[0] == none[0] + 1 and accepted[0] == none[0] + 2


def test_a_typing_preview_validates_the_posted_values_once(client_for, member, published, filled_design, monkeypatch):
    import engine.design
    import engine.facts.tree

    calls = []
    for module in (engine.design, engine.facts.tree):
        real = module.validate
        monkeypatch.setattr(module, "validate", lambda *a, real=real, **k: calls.append(1) or real(*a, **k))
    data = form_data(filled_design.inputs, revision=filled_design.revision)
    data["requirements.peak_qps"] = "4321"  # values no memo has seen
    response = client_for(member).post(f"/designs/{filled_design.pk}/inputs/preview/", data, **HX)
    assert response.status_code == 200 and "design-numbers" in response.content.decode()
    assert len(calls) == 1


# --- a GET never writes ----------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 2, 3, 4])
def test_reading_writes_nothing(client_for, member, published, filled_design, index):
    method, url, data = views(filled_design)[index]
    sql = queries_for(client_for(member), method, url, data)
    writes = [q for q in sql if re.match(r"\s*(INSERT|UPDATE|DELETE)", q, re.I)]
    assert not writes
    assert not DesignReview.objects.exists()  # the unpinned design is scored, not pinned


def test_a_finding_opened_writes_nothing(client_for, member, published, filled_design):
    sql = queries_for(client_for(member), "get", f"/checklists/design/{filled_design.pk}/findings/req_p99_budget/")
    assert not [q for q in sql if re.match(r"\s*(INSERT|UPDATE|DELETE)", q, re.I)]


def test_a_new_design_is_pinned_when_created(client_for, member, published):
    response = client_for(member).post("/designs/new/", {"team": member.memberships.get().team_id, "name": "Fresh"})
    assert response.status_code == 302
    assert DesignReview.objects.get(design__name="Fresh").version == published


# --- one reading of posted inputs: both panels agree -------------------------------------------


def replicas_checklist() -> dict:
    document = sample()
    document["sections"][0]["items"][0].update(
        key="cap_two_replicas", title="At least ten replicas",
        applies_when="", passes_when="capacity.replicas >= 10.0",
    )  # fmt: skip
    return document


def cell(html: str, path: str) -> float:
    return float(re.search(rf'data-path="{re.escape(path)}">([\d,.]+)<', html).group(1).replace(",", ""))


@pytest.mark.parametrize("peak_qps", ["2", "700"])
def test_findings_and_numbers_read_the_same_posted_values(client_for, member, filled_design, peak_qps):
    publish_default(replicas_checklist())
    data = form_data(example_design(), revision=filled_design.revision)
    data["requirements.peak_qps"] = peak_qps
    client = client_for(member)
    preview = client.post(f"/designs/{filled_design.pk}/inputs/preview/", data, **HX).content.decode()
    replicas = cell(preview, "capacity.replicas")
    # The panel comes out of band in the same response, scored with the same values...
    assert 'id="findings-panel" class="findings-panel" aria-live="polite" hx-swap-oob="true"' in preview
    outcome = re.search(r'id="finding-cap_two_replicas" data-outcome="(\w+)"', preview).group(1)
    assert outcome == ("pass" if replicas >= 10 else "fail")
    # ...and the finding's trace, loaded with the same posted values, read the same number.
    detail = client.post(f"/checklists/design/{filled_design.pk}/findings/cap_two_replicas/", data, **HX).content.decode()
    read = float(re.search(r"capacity\.replicas = ([\d.]+)", detail).group(1))
    assert read == replicas
    filled_design.refresh_from_db()
    assert filled_design.inputs == example_design()  # a preview saves nothing


def test_the_two_peak_values_really_differ_in_replicas(client_for, member, filled_design):
    # Guards the test above: with these values the rule's outcome flips, so agreement is tested both ways.
    publish_default(replicas_checklist())
    client = client_for(member)
    seen = set()
    for peak in ("2", "700"):
        data = form_data(example_design(), revision=filled_design.revision)
        data["requirements.peak_qps"] = peak
        html = client.post(f"/designs/{filled_design.pk}/inputs/preview/", data, **HX).content.decode()
        seen.add(re.search(r'id="finding-cap_two_replicas" data-outcome="(\w+)"', html).group(1))
    assert seen == {"pass", "fail"}


# --- the engine owns its vocabularies ------------------------------------------------------------


def test_database_choices_are_the_engines():
    from reviewapp.checklists.models import Checklist as ChecklistRow
    from reviewapp.checklists.models import ChecklistVersion, Item

    assert dict(ChecklistRow._meta.get_field("scoring").choices) == vocabulary.SCORING_STRATEGIES
    assert dict(ChecklistVersion._meta.get_field("scoring").choices) == vocabulary.SCORING_STRATEGIES
    assert dict(Item._meta.get_field("severity").choices) == vocabulary.SEVERITIES
    assert dict(Item._meta.get_field("mode").choices) == vocabulary.MODES
    assert dict(Answer._meta.get_field("status").choices) == vocabulary.ANSWER_STATUSES


def test_engine_tuples_and_form_menus_come_from_the_vocabularies():
    import engine.design as schema
    from engine.checklist import MODES, OUTCOMES, SEVERITIES, STRATEGIES
    from engine.planning.cost import PLANS

    assert (STRATEGIES, SEVERITIES, MODES) == (
        tuple(vocabulary.SCORING_STRATEGIES), tuple(vocabulary.SEVERITIES), tuple(vocabulary.MODES))
    assert set(OUTCOMES) == set(vocabulary.OUTCOMES) and PLANS == tuple(vocabulary.PRICING_PLANS)
    assert {c.value: c.label for c in schema.field("architecture.pricing_model").choices} == vocabulary.PRICING_PLANS
    assert {c.value: c.label for c in schema.field("architecture.batching_mode").choices} == vocabulary.BATCHING_MODES
