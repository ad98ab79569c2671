"""Shared helpers for the API's tests (no tests here)."""

import json

import pytest

API = "/api/v1"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def token_for(user, name: str = "tests") -> str:
    from reviewapp.api.tokens import api_token_create

    return api_token_create(user=user, name=name).raw


class ApiClient:
    """A Django test client that sends JSON and one user's bearer token (None: anonymous)."""

    def __init__(self, client, raw: str | None):
        self.client, self.headers = client, bearer(raw) if raw else {}

    def call(self, method: str, path: str, body=None, *, raw_body: bytes | str | None = None,
             content_type: str = "application/json", **headers):
        data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(method, API + path, data, content_type=content_type, **self.headers, **headers)

    def get(self, path, **headers):
        return self.call("GET", path, **headers)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)


@pytest.fixture
def api_for(client):
    """api_for(user) -> an ApiClient with a fresh token of that user; api_for(None): no token."""
    from django.test import Client

    def make(user):
        return ApiClient(Client(), token_for(user) if user is not None else None)

    return make


def assert_problem(response, status: int, *fields: str) -> dict:
    """A problem-details answer with this status whose errors name exactly `fields` (when given)."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status and body["detail"]
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields), body["errors"]
    return body
