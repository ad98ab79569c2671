"""Generated invalid submissions to the form endpoints: never a server error, never a change.

A seeded generator (deterministic, so a failure reproduces) mutates a valid design in one way
that must make it invalid: wrong types, out-of-range numbers, cross-field violations, huge
strings, NUL characters, unknown keys, and a missing, malformed or stale revision. Each goes to
the save endpoint (must answer 400 or 409) and the live preview (must answer 200 with errors);
the design's row is compared before and after every request.
"""

import random
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from engine.design import FIELDS, example_design, validate
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design

SEED = 20260301
CASES_PER_ENDPOINT = 260

VISIBLE = [f for f in FIELDS if f.key not in set(validate(example_design()).hidden)]
NUMBERS = [f for f in VISIBLE if f.kind in ("int", "float")]
BOUNDED = [f for f in NUMBERS if f.min is not None or f.max is not None]
JUNK_NUMBERS = ["abc", "1e999", "-1e999", "nan", "NaN", "inf", "--1", "0x10", "1,2,3.4.5", "true", "[]", "{}",
                "½", "1e", ".", "12abc", "9" * 60, "1" * 5000]


def cross_field_cases():
    """Each breaks one rule that spans fields, on a design where the rule applies."""
    yield {"requirements.latency_p50_ms": "5000", "requirements.latency_p95_ms": "4000"}
    yield {"requirements.latency_p95_ms": "9000", "requirements.latency_p99_ms": "8500"}
    yield {"requirements.average_qps": "500", "requirements.peak_qps": "70"}
    yield {"architecture.min_replicas": "13", "architecture.max_replicas": "12"}
    yield {"architecture.reserved_share_pct": "70", "architecture.spot_share_pct": "31"}
    yield {"requirements.time_to_first_token_ms": "9000"}
    yield {"architecture.batching_mode": "dynamic", "architecture.max_batch_delay_ms": "8000"}
    yield {"requirements.input_tokens_per_request": "8000", "requirements.output_tokens_per_request": "500"}


def mutations(rng: random.Random):
    """Endless (changes, description) pairs; `changes` maps a key to a value or to None (drop it)."""
    cross = list(cross_field_cases())
    while True:
        kind = rng.choice(["type", "type", "range", "range", "cross", "huge", "nul", "unknown", "revision",
                           "choice", "list"])
        if kind == "type":
            f = rng.choice(NUMBERS)
            junk = rng.choice(JUNK_NUMBERS + (["1.5", "2.25"] if f.kind == "int" else []))
            yield {f.key: junk}, f"{f.key}={junk[:20]!r}"
        elif kind == "range":
            f = rng.choice(BOUNDED)
            if f.min is not None and (f.max is None or rng.random() < 0.5):
                value = f.min - rng.choice([1, 0.5, 1000, 1e9]) if f.kind == "float" else int(f.min) - rng.randint(1, 10**6)
            else:
                value = f.max * rng.choice([1.01, 2, 1e6]) + 1
            yield {f.key: repr(value) if isinstance(value, float) else str(value)}, f"{f.key}={value} out of range"
        elif kind == "cross":
            case = rng.choice(cross)
            yield case, f"cross-field {sorted(case)}"
        elif kind == "huge":
            f = rng.choice([f for f in VISIBLE if f.kind in ("text", "text_list")])
            size = rng.choice([f.max_length + 1, 10_000, 200_000])
            text = "x" * size if f.kind == "text" else ",".join(["y" * 300] * rng.randint(1, 5))
            yield {f.key: text}, f"{f.key} huge ({len(text)} chars)"
        elif kind == "nul":
            f = rng.choice([f for f in VISIBLE if f.kind in ("text", "text_list")])
            yield {f.key: "before\x00after"}, f"{f.key} with NUL"
        elif kind == "unknown":
            key = rng.choice(["requirements.nope", "architecture.__class__", "foo", "requirements", "architecture",
                              "requirements.latency_p99_ms.extra", "x" * 300, "design.inputs"])
            yield {key: rng.choice(["1", "", "{}", "x" * 1000])}, f"unknown key {key[:30]!r}"
        elif kind == "revision":
            value = rng.choice([None, "", "abc", "0", "-3", "1.5", "9" * 30, "99"])
            yield {"revision": value}, f"revision={value!r}"
        elif kind == "choice":
            f = rng.choice([f for f in VISIBLE if f.kind in ("choice", "bool")])
            value = rng.choice(["nope", "maybe", "ON-DEMAND ", "<script>", "1; drop table", "é" * 50])
            if f.kind == "choice" and value.strip().lower() in f.choice_values:
                value = "nope"
            yield {f.key: value}, f"{f.key}={value!r}"
        else:
            f = rng.choice([f for f in VISIBLE if f.kind in ("multichoice", "ordered")])
            if f.kind == "ordered":
                item = rng.choice(f.choice_values)
                value = [item, item]
            else:
                value = [f.choice_values[0], rng.choice(["bogus", "", "x" * 500]) or "bogus"]
            yield {f.key: value}, f"{f.key}={value!r}"


def encode(data: dict) -> str:
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return urlencode(pairs)


def snapshot(design) -> dict:
    return Design.objects.filter(pk=design.pk).values().get()


@pytest.fixture
def saved_design(design, owner):
    Design.objects.filter(pk=design.pk).update(inputs=example_design(), revision=7)
    design.refresh_from_db()
    return design


def submissions(count: int, rng: random.Random):
    base = form_data(example_design(), revision=7)
    generator = mutations(rng)
    for _ in range(count):
        changes, description = next(generator)
        data = dict(base)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        yield data, description


def test_the_base_submission_is_valid(saved_design):
    # The mutations below are invalid only because of what they change.
    data = form_data(example_design(), revision=7)
    assert validate({k: v for k, v in data.items() if k != "revision"}).ok


@pytest.mark.parametrize(("endpoint", "allowed"), [("designs:inputs", {400, 409}), ("designs:inputs_preview", {200})])
def test_invalid_submissions_change_nothing(client_for, member, saved_design, endpoint, allowed):
    client = client_for(member)
    url = reverse(endpoint, args=[saved_design.pk])
    before = snapshot(saved_design)
    rng = random.Random(f"{SEED}-{endpoint}")
    statuses = {}
    for data, description in submissions(CASES_PER_ENDPOINT, rng):
        response = client.post(url, encode(data), content_type="application/x-www-form-urlencoded")
        assert response.status_code in allowed, f"{description}: {response.status_code}"
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if endpoint == "designs:inputs_preview":
            html = response.content.decode()
            assert 'class="errorlist"' in html and ("<li>" in html or "nonfield" in html), description
        assert snapshot(saved_design) == before, description
    assert sum(statuses.values()) == CASES_PER_ENDPOINT
