"""The shipped templates (engine/data/templates/*.yaml): each loads, explains itself, can run as
designed and scores well against the default checklist (docs/templates.md states the bar)."""

import pytest

from engine import assess, designfile
from engine.checklist import compile_checklist
from engine.checklist.jsonformat import default_checklist
from engine.facts import cannot_run
from engine.starters import TEMPLATES_DIR, automatic_items_only, shipped_starters

# The bar a template meets on the default checklist's machine-checked items (docs/templates.md).
MIN_AUTOMATIC_SCORE = 90.0
COURSE_PATTERNS = {"rag-chat-self-hosted", "llm-managed-api", "embedding-service", "batch-scoring",
                   "streaming-fraud-detection", "recommender"}
STARTERS = shipped_starters()


def test_every_course_pattern_is_shipped():
    assert {s.key for s in STARTERS} >= COURSE_PATTERNS
    assert len({s.name for s in STARTERS}) == len(STARTERS)  # names tell them apart in the menu


@pytest.fixture(scope="module")
def checklists():
    checklist = default_checklist()
    return compile_checklist(checklist), compile_checklist(automatic_items_only(checklist))


@pytest.mark.parametrize("starter", STARTERS, ids=lambda s: s.key)
def test_the_template_scores_well_and_can_run(starter, checklists):
    full, automatic = checklists
    result = assess(starter.design.inputs, automatic)
    assert cannot_run(result.facts.tree) == ""
    assert result.facts.validation.ok
    evaluation = result.evaluation
    assert evaluation.verdict in ("ready", "ready_with_risks"), evaluation.verdict
    assert evaluation.score.overall >= MIN_AUTOMATIC_SCORE
    # On the whole checklist nothing high-risk fails and every open question is one a person answers.
    whole = assess(starter.design.inputs, full).evaluation
    manual = {item.key for _section, item in default_checklist().iter_items() if item.mode == "manual"}
    assert not [f.item_key for f in whole.findings if f.outcome == "fail" and f.risk == "high"]
    assert {f.item_key for f in whole.findings if f.outcome == "unanswered"} <= manual
    assert not [f.item_key for f in whole.findings if f.outcome == "rule_error"]


@pytest.mark.parametrize("starter", STARTERS, ids=lambda s: s.key)
def test_the_template_explains_its_choices(starter):
    description = starter.design.description
    assert starter.summary and len(starter.summary) < len(description)
    assert "Why these choices" in description
    for lesson in ("(2)", "(4)", "(6)", "(7)"):  # requirements, serving, reliability, cost
        assert lesson in description, lesson
    assert starter.design.measurements is None  # a template estimates; a benchmark run measures


def test_a_template_that_no_longer_loads_names_its_file(tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text("format: ai-design-review/design\nversion: 1\nname: x\n"
                                          "inputs:\n  requirements:\n    peak_qps: fast\n")
    monkeypatch.setattr("engine.starters.TEMPLATES_DIR", tmp_path)
    with pytest.raises(designfile.DesignFileError) as caught:
        shipped_starters()
    where, message = caught.value.errors[0]
    assert where.startswith("broken.yaml: inputs.requirements.peak_qps") and "line 6" in message


def test_the_templates_are_package_data():
    text = (TEMPLATES_DIR.parents[2] / "pyproject.toml").read_text()
    assert '"data/templates/*.yaml"' in text
