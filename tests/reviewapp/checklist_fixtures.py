"""Shared data and fixtures for the checklist app's tests (no tests here)."""

import copy
import json

import pytest

SAMPLE = {
    "format": "ai-design-review/checklist",
    "format_version": 1,
    "key": "test_checklist",
    "name": "Test checklist",
    "description": "A small checklist for the app's tests.",
    "scoring": "weighted",
    "sections": [
        {
            "key": "requirements",
            "title": "Requirements",
            "order": 1,
            "items": [
                {
                    "key": "req_p99_budget",
                    "title": "P99 within five seconds",
                    "why": "Chat users leave after a few seconds.",
                    "severity": "high",
                    "mode": "automatic",
                    "applies_when": "requirements.workload_timing == 'online'",
                    "passes_when": "requirements.latency_p99_ms <= 5000",
                    "improvement_plan": "Set a p99 budget of at most five seconds.",
                },
                {
                    "key": "req_reviewed",
                    "title": "Requirements reviewed with the product owner",
                    "question": "Did the product owner sign off the requirements?",
                    "severity": "medium",
                    "mode": "manual",
                    "improvement_plan": "Walk the product owner through the requirements document.",
                },
            ],
        },
        {
            "key": "reliability",
            "title": "Reliability",
            "order": 2,
            "items": [
                {
                    "key": "rel_fallback",
                    "title": "Fallback chain of two levels",
                    "severity": "high",
                    "mode": "automatic",
                    "applies_when": "requirements.availability_target_pct >= 99.9",
                    "passes_when": "size(architecture.fallback_chain) >= 2",
                    "improvement_plan": "Add a smaller model and a cache behind the main model.",
                },
                {
                    "key": "rel_breaker",
                    "title": "Circuit breaker",
                    "severity": "medium",
                    "mode": "automatic",
                    "passes_when": "architecture.circuit_breaker == true",
                    "improvement_plan": "Put a circuit breaker in front of the model server.",
                },
                {
                    "key": "rel_degradation",
                    "title": "Graceful degradation",
                    "severity": "medium",
                    "mode": "manual",
                    "choices": [
                        {"id": "deg_static", "title": "Static answer when the model is down", "improvement_plan": {"title": "Serve a static answer"}},
                        {"id": "deg_queue", "title": "Queue and retry later", "improvement_plan": {"title": "Queue requests for later"}},
                        {"id": "deg_no", "title": "None of these"},
                    ],
                    "risk_rules": [
                        {"condition": "deg_static && deg_queue", "risk": "NO_RISK"},
                        {"condition": "deg_static || deg_queue", "risk": "MEDIUM_RISK"},
                        {"condition": "default", "risk": "HIGH_RISK"},
                    ],
                    "improvement_plan": "Decide what users see when the model is down.",
                },
            ],
        },
    ],
}


def sample(**changes) -> dict:
    document = copy.deepcopy(SAMPLE)
    document.update(changes)
    return document


def sample_bytes(**changes) -> bytes:
    return json.dumps(sample(**changes)).encode()


@pytest.fixture
def published(db):
    """Version 1 of the test checklist, published and the default."""
    from reviewapp.checklists import services
    from reviewapp.checklists.models import Checklist

    version = services.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    version.refresh_from_db()
    return version


@pytest.fixture
def filled_design(design):
    """The fixture design, filled with the engine's example design."""
    from engine.design import example_design

    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("sam", "sam@example.com", "pw-for-tests-1")


def scaled_default(items: int = 200, *, key: str = "scaled_default") -> dict:
    """The shipped default checklist grown to `items` items by copying its items with new keys
    (rules and all), for tests and benchmarks that must show cost does not grow with size."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "engine" / "data" / "default_checklist.json"
    document = json.loads(path.read_text())
    originals = [(s, item) for s in document["sections"] for item in s["items"]]
    for section in document["sections"]:
        section["items"] = []
    for i in range(items):
        section, item = originals[i % len(originals)]
        copy_ = copy.deepcopy(item)
        if i >= len(originals):
            copy_["key"] = f"{item['key']}_{i // len(originals)}"
            copy_["title"] = f"{item['title']} ({i // len(originals) + 1})"
        section["items"].append(copy_)
    document.update(key=key, name=f"Default checklist × {items} items")
    return document
