"""/healthz is public, cheap and says only ok or unavailable; /healthz/detail names each check and
may round-trip a task, for staff or a token only."""

import json
import socket

import dj_database_url
import pytest
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.urls import reverse

from reviewapp.core import health

TOKEN = "t0ken-for-tests-" + "x" * 24


@pytest.fixture
def token(settings):
    settings.HEALTHZ_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def broker_down(monkeypatch):
    from reviewapp.celery import app

    # Port 1 on loopback: nothing listens there. Patch the one call, not the
    # app's config, so no cached producer pool keeps the dead URL afterwards.
    dead = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda **kw: dead("redis://127.0.0.1:1/0", **kw))


@pytest.fixture
def database_down(monkeypatch):
    """The real check against a real PostgreSQL connection to a loopback port nobody listens on."""
    with socket.socket() as probe:  # a port that was free a moment ago, closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = connections.configure_settings(
        {"default": {}, "down": dj_database_url.parse(f"postgres://nobody@127.0.0.1:{port}/none")}
    )["down"]
    config["OPTIONS"] = {"connect_timeout": 2}
    down = DatabaseWrapper(config, alias="down")
    monkeypatch.setattr(health, "connection", down)
    yield port
    down.close()


def get(client, name: str, query: str = "", **headers):
    response = client.get(reverse(name) + query, **headers)
    return response, json.loads(response.content)


def test_public_healthz_says_ok_and_nothing_more(client, db):
    response, body = get(client, "healthz")
    assert response.status_code == 200, body
    assert body == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_public_healthz_never_runs_the_worker_check(client, db, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the public endpoint must not send a task")

    monkeypatch.setattr(health, "check_worker", refuse)
    response, body = get(client, "healthz", "?worker=1")
    assert response.status_code == 200 and body == {"status": "ok"}


def test_public_healthz_answers_503_without_internals_when_the_broker_is_down(client, db, broker_down):
    response, body = get(client, "healthz")
    assert response.status_code == 503
    assert body == {"status": "unavailable"}


def test_it_answers_503_when_the_database_is_unreachable(client, db, database_down, token):
    ok, detail = health.check_database()
    assert ok is False and "OperationalError" in detail  # the real check, failing for real
    response, body = get(client, "healthz")
    assert response.status_code == 503 and body == {"status": "unavailable"}
    assert str(database_down) not in response.content.decode()  # no host or port to the public
    response, body = get(client, "healthz_detail", **token)
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}])
def test_detail_refuses_anonymous_callers_and_wrong_tokens(client, db, token, headers, monkeypatch):
    monkeypatch.setattr(health, "check_worker", lambda: pytest.fail("ran the worker check for a stranger"))
    response, body = get(client, "healthz_detail", "?worker=1", **headers)
    assert response.status_code == 403 and body == {"status": "forbidden"}


def test_detail_refuses_everyone_by_token_when_no_token_is_set(client, db, settings):
    settings.HEALTHZ_TOKEN = ""
    response, _ = get(client, "healthz_detail", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_detail_refuses_a_signed_in_user_who_is_not_staff(client_for, member):
    response, _ = get(client_for(member), "healthz_detail")
    assert response.status_code == 403


def test_detail_names_each_check_for_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staffer", is_staff=True))
    response, body = get(client, "healthz_detail")
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


def test_detail_reports_the_broker_down(client, db, token, broker_down):
    response, body = get(client, "healthz_detail", **token)
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.parametrize("name", ["healthz", "healthz_detail"])
def test_it_rejects_post(client, db, token, name):
    assert client.post(reverse(name), **token).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_worker_check_round_trips_a_real_task(client, celery_worker_process, token):
    response, body = get(client, "healthz_detail", "?worker=1", **token)
    assert response.status_code == 200, body
    assert body["checks"]["worker"]["ok"] is True
    assert f"pid {celery_worker_process.pid}" in body["checks"]["worker"]["detail"]
