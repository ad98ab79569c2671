import json

import pytest
from django.urls import reverse

from reviewapp.core import health


def test_it_reports_database_and_broker(client, db):
    response = client.get(reverse("healthz"))
    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_it_answers_503_when_the_broker_is_unreachable(client, db, monkeypatch):
    from reviewapp.celery import app

    # Port 1 on loopback: nothing listens there. Patch the one call, not the
    # app's config, so no cached producer pool keeps the dead URL afterwards.
    dead = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda **kw: dead("redis://127.0.0.1:1/0", **kw))
    response = client.get(reverse("healthz"))
    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_it_answers_503_when_the_database_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: (False, "OperationalError: gone"))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"] == {"ok": False, "detail": "OperationalError: gone"}


def test_it_rejects_post(client, db):
    assert client.post(reverse("healthz")).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_worker_check_round_trips_a_real_task(client, celery_worker_process):
    response = client.get(reverse("healthz") + "?worker=1")
    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert body["checks"]["worker"]["ok"] is True
    assert f"pid {celery_worker_process.pid}" in body["checks"]["worker"]["detail"]
