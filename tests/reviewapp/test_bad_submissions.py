"""A seeded generator of bad submissions across the write endpoints: the design forms (create,
edit, the inputs), the checklist answers and risk acceptances, and both checklist importers (our
JSON and the AWS lens, through the admin). Every one must be answered without a server error and
change nothing: the row count of every table, and the contents of the rows they aim at, are the
same after each batch as before. (test_design_invalid_submissions covers the inputs in depth.)

Deterministic: a failure names its case and reproduces with the same seed.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from engine.design import example_design

from reviewapp.checklists import services as checklists
from reviewapp.checklists.models import Answer, ChecklistVersion, Item, RiskAcceptance
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design
from tests.reviewapp.checklist_fixtures import sample, staff  # noqa: F401
from tests.reviewapp.test_design_invalid_submissions import encode, submissions

SEED = 20261129
LENS = Path(__file__).resolve().parents[1] / "engine" / "data" / "checklist" / "lens_valid.json"
CASES = {"create": 100, "edit": 100, "inputs": 150, "answer": 250, "accept": 150, "import-ours": 200, "import-lens": 150}
NASTY_TEXT = ["", " ", "\x00", "a\x00b", "x" * 201, "x" * 100_000, "<script>alert(1)</script>", "é" * 300,
              "\ud7ff" * 10, "' OR 1=1 --", "{{ 7*7 }}", "%s%s%s", "\n" * 50]


def table_counts() -> tuple[int, ...]:
    """One query: the row count of every table of the project's models."""
    tables = sorted({m._meta.db_table for m in apps.get_models() if not m._meta.proxy})
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f'(SELECT COUNT(*) FROM "{t}")' for t in tables))
        return tuple(cursor.fetchone())


def state(design) -> tuple:
    return (table_counts(), Design.objects.filter(pk=design.pk).values().get(),
            list(Answer.objects.values()), list(RiskAcceptance.objects.values()),
            list(ChecklistVersion.objects.values("pk", "status", "number")), list(Item.objects.values()))


@pytest.fixture
def world(db, team, owner, reviewer, member, staff):
    version = checklists.checklist_import(data=sample(), publish=True)
    version.checklist.is_default = True
    version.checklist.save(update_fields=["is_default"])
    design = Design.objects.create(team=team, name="Ranking service", inputs=example_design(), revision=7,
                                   created_by=owner, updated_by=owner)
    review = checklists.review_for_design(design=design, user=owner)  # pinned before, as after any first visit
    checklists.answer_set(review=review, item_key="req_reviewed", user=member, status="pass", choices=[], reason="")
    return design


# --- the generators: each yields (data, description) ------------------------------------------


def bad_design_names(rng: random.Random, *, edit: bool):
    while True:
        name = rng.choice(["", " ", "\x00", "a\x00b", "x" * 201, "x" * 5000, "\t\n"])
        data = {"name": name, "description": rng.choice(NASTY_TEXT[:5] + ["fine"])}
        if edit:
            data["revision"] = "7"
        else:
            data["team"] = rng.choice(["", "0", "-1", "abc", "999999"])
            if rng.random() < 0.5 and name.strip() and "\x00" not in name and len(name) <= 200:
                name = "x" * 201  # keep it bad even when the team is the only thing wrong
                data["name"] = name
        if edit and rng.random() < 0.4:
            data["name"] = "Renamed"
            data["revision"] = rng.choice(["", "0", "-3", "abc", "1.5", "6", "8", "9" * 30])
        if rng.random() < 0.2:
            data["description"] = "d\x00"
        yield data, f"{data!r}"[:120]


def bad_answers(rng: random.Random):
    """Answers the form must refuse: wrong statuses, choices for the wrong item, missing reasons,
    automatic items, huge or NUL text, unknown items (404)."""
    while True:
        kind = rng.choice(["status", "na", "reason", "automatic", "choices", "empty", "unknown", "mc-status"])
        if kind == "status":
            yield "req_reviewed", {"status": rng.choice(["yes", "PASS ", "0", "\x00", "x" * 500, "passed"])}, kind
        elif kind == "na":
            yield "req_reviewed", {"status": "not_applicable", "reason": rng.choice(["", "  ", "\n"])}, kind
        elif kind == "reason":
            yield "req_reviewed", {"status": "fail", "reason": rng.choice(["x" * 2001, "bad\x00reason"])}, kind
        elif kind == "automatic":
            yield rng.choice(["req_p99_budget", "rel_breaker"]), {"status": "pass"}, kind
        elif kind == "choices":
            yield "rel_degradation", {"choices": rng.choice([["deg_nope"], ["deg_static", "x" * 300], ["\x00"], [""]])}, kind
        elif kind == "mc-status":
            yield "rel_degradation", {"status": rng.choice(["pass", "fail"])}, kind
        elif kind == "empty":
            yield rng.choice(["req_reviewed", "rel_degradation"]), {}, kind
        else:
            yield rng.choice(["nope", "x" * 300, "req_reviewed_", "%00", "..", "rel"]), {"status": "pass"}, kind


def bad_acceptances(rng: random.Random):
    while True:
        data = {"rationale": rng.choice(["", " ", "x" * 2001, "why\x00not"]),
                "expires_on": rng.choice(["", "2001-01-01", "not a date", "2026-13-45", "9999-99-99", "\x00"])}
        if rng.random() < 0.3:
            data["rationale"] = "Known risk"
            data["expires_on"] = rng.choice(["2001-01-01", "yesterday", "31/12/2099", "\x00"])
        key = rng.choice(["req_p99_budget", "rel_fallback"] * 4 + ["nope", "x" * 200])
        yield key, data, f"{key[:20]} {data!r}"[:120]


def _set(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def bad_checklists(rng: random.Random):
    """Our format, broken one way: types, enums, keys, CEL, structure, depth, NUL, bytes."""
    item = ("sections", 0, "items", 0)
    edits = [
        (("key",), ["", "a b", "x" * 200, 5, None, "k\x00"]),
        (("name",), ["", 7, ["n"], "n\x00", "x" * 500]),
        (("format",), ["nope", 1, None]),
        (("format_version",), [2, "1", None]),
        (("scoring",), ["best", 3]),
        (("sections",), ["x", 5, {}, [1, 2], [{"key": "s"}]]),
        ((*item, "severity"), ["critical", 1, ""]),
        ((*item, "weight"), [0, -1, "1", None, 1e400, True]),
        ((*item, "mode"), ["auto", 0]),
        ((*item, "passes_when"), ["requirements.latency_p99_ms <=", "1 +", "requirements.nope > 1",
                                  "(" * 600 + "true" + ")" * 600 + ")", "!" * 2000 + "true &&", "x\x00"]),
        ((*item, "applies_when"), ["==", "size(", 5]),
        ((*item, "title"), ["", "t\x00", "x" * 129, None]),
        ((*item, "improvement_plan"), ["p\x00", 5]),
        ((*item, "resources"), ["r", [{"title": ""}], [{"title": "t", "url": "javascript:alert(1)"}]]),
        ((*item, "key"), ["", "req_reviewed", "bad key"]),
        (("sections", 1, "items", 2, "risk_rules"), [[], [{"condition": "default", "risk": "NOPE"}],
                                                     [{"condition": "deg_x", "risk": "HIGH_RISK"}]]),
        (("sections", 1, "items", 2, "choices"), [[], "c", [{"id": "deg_static"}] * 2]),
    ]
    while True:
        kind = rng.random()
        if kind < 0.12:
            depth = rng.choice([65, 200, 1000, 5000])
            yield ('{"sections": ' + "[" * depth + "]" * depth + "}").encode(), f"nested {depth}"
            continue
        if kind < 0.2:
            text = json.dumps(sample())
            cut = rng.randrange(1, len(text) - 1)
            yield rng.choice([text[:cut].encode(), b"\xff\xfe" + text.encode(), text.encode("utf-16")[:cut],
                              b"", b"null", b"[]", b'"x"', b"NaN", text.replace('"weighted"', "NaN").encode()]), "bytes"
            continue
        document = sample()
        path, values = rng.choice(edits)
        value = rng.choice(values)
        _set(document, path, value)
        if document == sample():  # an edit that happens to leave the sample valid is not a bad case
            _set(document, ("key",), "")
        yield json.dumps(document).encode(), f"{'.'.join(map(str, path))}={value!r}"[:100]


def bad_lenses(rng: random.Random):
    base = json.loads(LENS.read_text())
    question = ("pillars", 0, "questions", 0)
    edits = [
        (("schemaVersion",), ["2020-01-01", 1, None]),
        (("name",), ["", "n\x00", "x" * 200, 5]),
        (("pillars",), [[], "p", [1], [base["pillars"][0]] * 11]),
        (("pillars", 0, "id"), ["", "a b", "x" * 200, 3]),
        ((*question, "title"), ["", "t\x00", "x" * 200, None]),
        ((*question, "description"), ["d\x00", 5, "x" * 3000]),
        ((*question, "choices"), [[], "c", [{"id": "c"}], [base["pillars"][0]["questions"][0]["choices"][0]] * 16]),
        ((*question, "riskRules"), [[], [{"condition": "default", "risk": "LOW_RISK"}], "r",
                                    [{"condition": "nope_choice", "risk": "HIGH_RISK"}, {"condition": "default", "risk": "NO_RISK"}]]),
    ]
    while True:
        if rng.random() < 0.15:
            depth = rng.choice([100, 1000, 3000])
            yield ("[" * depth + "]" * depth).encode(), f"nested {depth}"
            continue
        document = copy.deepcopy(base)
        path, values = rng.choice(edits)
        value = rng.choice(values)
        _set(document, path, value)
        if document == base:
            _set(document, ("schemaVersion",), "nope")
        yield json.dumps(document).encode(), f"{'.'.join(map(str, path))}={str(value)[:40]!r}"


# --- the test ----------------------------------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bad_submissions_are_answered_and_change_nothing(world, owner, member, reviewer, staff):
    design = world
    rng = random.Random(SEED)
    clients = {user: logged_in(user) for user in (owner, member, reviewer, staff)}  # logging in writes rows
    before = state(design)
    seen: Counter = Counter()

    def check(endpoint: str, response, allowed: set[int], description: str) -> None:
        assert response.status_code in allowed, f"{endpoint} {description}: {response.status_code}"
        seen[endpoint] += 1

    client = clients[owner]
    names = bad_design_names(rng, edit=False)
    for _ in range(CASES["create"]):
        data, description = next(names)
        check("create", client.post(reverse("designs:create"), data), {400}, description)
    names = bad_design_names(rng, edit=True)
    for _ in range(CASES["edit"]):
        data, description = next(names)
        check("edit", client.post(reverse("designs:edit", args=[design.pk]), data), {400, 409}, description)
    assert state(design) == before

    client = clients[member]
    url = reverse("designs:inputs", args=[design.pk])
    base = form_data(example_design(), revision=7)
    assert base  # the inputs endpoint's generator mutates this valid form
    for data, description in submissions(CASES["inputs"], rng):
        response = client.post(url, encode(data), content_type="application/x-www-form-urlencoded")
        check("inputs", response, {400, 409}, description)
    answers = bad_answers(rng)
    for _ in range(CASES["answer"]):
        key, data, description = next(answers)
        response = client.post(reverse("checklists:answer", args=[design.pk, key]), data,
                               HTTP_HX_REQUEST="true" if rng.random() < 0.5 else None)
        check("answer", response, {200, 400, 404}, f"{key[:20]} {description} {data!r}"[:160])
    assert state(design) == before

    client = clients[reviewer]
    acceptances = bad_acceptances(rng)
    for _ in range(CASES["accept"]):
        key, data, description = next(acceptances)
        response = client.post(reverse("checklists:accept", args=[design.pk, key]), data)
        check("accept", response, {400, 404}, description)
    assert state(design) == before

    client = clients[staff]
    url = reverse("admin:checklists_checklist_import")
    for endpoint, generator, fmt in [("import-ours", bad_checklists(rng), "ours"),
                                     ("import-lens", bad_lenses(rng), "aws-lens")]:
        for _ in range(CASES[endpoint]):
            content, description = next(generator)
            upload = SimpleUploadedFile("bad.json", content, content_type="application/json")
            response = client.post(url, {"file": upload, "format": fmt, "publish": rng.random() < 0.5})
            check(endpoint, response, {400}, description)
    assert state(design) == before

    assert seen == Counter(CASES)
    assert sum(seen.values()) >= 1000
