"""Outgoing webhooks against a loopback receiver (http.server on 127.0.0.1, in a thread) that
checks the HMAC signature as a ticketing system would: deliveries, a tampered body refused,
retries that end in one delivered row, and a delivered row never sent twice."""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reviewapp.actions import services, signing, webhooks
from reviewapp.actions.models import WebhookDelivery, WebhookEndpoint
from reviewapp.actions.tasks import webhook_deliver
from tests.reviewapp.action_fixtures import FAILING, filled_design, published  # noqa: F401

SECRET = "receiver-secret-1"


class Receiver:
    """Answers 500 to the first `fail_first` well-signed requests, 401 to a bad signature, else 200."""

    def __init__(self, *, secret: str = SECRET, fail_first: int = 0):
        self.secret, self.fail_first, self.seen = secret, fail_first, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold the test

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = signing.verify(body, secret=receiver.secret, timestamp=self.headers.get(signing.TIMESTAMP_HEADER),
                                    signature_header=self.headers.get(signing.SIGNATURE_HEADER, ""), now_s=time.time())
                if not ok:
                    status = 401
                elif sum(1 for s in receiver.seen if s["ok"]) < receiver.fail_first:
                    status = 500
                else:
                    status = 200
                receiver.seen.append({"ok": ok, "status": status, "body": body, "headers": dict(self.headers)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def eager(settings):
    """Celery tasks run in the test's thread, retries too (without their countdown: Task.apply
    re-applies a task that asked to retry, unless errors propagate)."""
    from reviewapp.celery import app

    settings.WEBHOOK_TIMEOUT_S = 2
    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


def _track(design, reviewer, member, capture):
    with capture(execute=True):
        return services.action_create(design=design, item_key=FAILING, user=reviewer, owner=member,
                                      due_on=dt.date(2027, 1, 31))


# --- the signature ---------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_over_timestamp_and_body():
    body = b'{"action":{"id":1}}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.signature(body, secret="s3cret", timestamp=1700000000) == f"sha256={expected}"


def test_verify_refuses_tampering_a_wrong_secret_and_an_old_timestamp():
    body, now = b'{"a":1}', 1700000000
    good = signing.signature(body, secret="s3cret", timestamp=now)
    assert signing.verify(body, secret="s3cret", timestamp=str(now), signature_header=good, now_s=now + 10)
    assert not signing.verify(b'{"a":2}', secret="s3cret", timestamp=now, signature_header=good, now_s=now)
    assert not signing.verify(body, secret="other", timestamp=now, signature_header=good, now_s=now)
    assert not signing.verify(body, secret="s3cret", timestamp=now, signature_header=good, now_s=now + 301)
    assert not signing.verify(body, secret="s3cret", timestamp="soon", signature_header=good, now_s=now)


def test_the_receiver_refuses_a_tampered_body():
    body = b'{"action":{"id":1,"status":"open"}}'
    now = int(time.time())
    headers = {signing.TIMESTAMP_HEADER: str(now), signing.SIGNATURE_HEADER: signing.signature(body, secret=SECRET, timestamp=now)}
    with Receiver() as receiver:
        tampered = urllib.request.Request(receiver.url, data=body.replace(b"open", b"done"), headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(tampered, timeout=5)
        genuine = urllib.request.Request(receiver.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(genuine, timeout=5) as accepted:
            assert accepted.status == 200
    assert refused.value.code == 401
    assert [s["ok"] for s in receiver.seen] == [False, True]


# --- deliveries ---------------------------------------------------------------------------------------


def test_tracking_an_action_delivers_a_signed_payload(eager, team, published, filled_design, reviewer, member,
                                                      django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(team=team, url=receiver.url, secret=SECRET)
        action = _track(filled_design, reviewer, member, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.action, delivery.event, delivery.status, delivery.attempts, delivery.status_code) == (
        endpoint, action, "action.created", "delivered", 1, 200)
    assert delivery.delivered_at is not None and delivery.last_error == ""
    [request] = receiver.seen
    payload = json.loads(request["body"])
    assert request["ok"] and request["headers"][signing.DELIVERY_HEADER] == payload["delivery_id"] == str(delivery.delivery_id)
    assert payload["event"] == "action.created" and request["headers"][signing.EVENT_HEADER] == "action.created"
    assert payload["action"]["id"] == action.pk and payload["action"]["owner"]["username"] == "mei"
    assert payload["action"]["due_on"] == "2027-01-31" and payload["action"]["status"] == "open"
    assert payload["design"] == {"id": filled_design.pk, "name": "Ranking service", "team": team.slug,
                                 "revision": filled_design.revision}
    assert payload["finding"]["item_key"] == FAILING and payload["finding"]["severity"] == "high"
    assert payload["links"]["action"].endswith(f"/actions/{action.pk}/")


def test_fails_twice_then_succeeds_is_one_delivery_with_three_attempts(eager, team, published, filled_design, reviewer,
                                                                       member, django_capture_on_commit_callbacks):
    with Receiver(fail_first=2) as receiver:
        WebhookEndpoint.objects.create(team=team, url=receiver.url, secret=SECRET)
        _track(filled_design, reviewer, member, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.status_code, delivery.last_error) == ("delivered", 3, 200, "")
        # A retry or redelivery of the delivered event (the broker may redeliver) sends nothing.
        assert webhook_deliver.apply(args=[delivery.pk]).get() == "already delivered"
    assert [s["status"] for s in receiver.seen] == [500, 500, 200]
    assert len({s["headers"][signing.DELIVERY_HEADER] for s in receiver.seen}) == 1  # the same delivery, retried
    assert WebhookDelivery.objects.count() == 1
    assert WebhookDelivery.objects.get().attempts == 3


def test_a_wrong_secret_is_refused_until_the_attempts_run_out(eager, settings, team, published, filled_design, reviewer,
                                                              member, django_capture_on_commit_callbacks):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(team=team, url=receiver.url, secret="not-the-receivers")
        _track(filled_design, reviewer, member, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.status_code, delivery.delivered_at) == ("failed", 2, 401, None)
    assert delivery.last_error.startswith("HTTP 401")
    assert [s["ok"] for s in receiver.seen] == [False, False]


def test_only_http_urls_are_called(eager, settings, team, published, filled_design, reviewer, member,
                                   django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        WebhookEndpoint(team=team, url="ftp://example.com/hook", secret="x").full_clean()
    assert "url" in error.value.message_dict
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    WebhookEndpoint.objects.create(team=team, url="file:///etc/passwd", secret="x")  # as if saved around the form
    _track(filled_design, reviewer, member, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.status_code) == ("failed", None)
    assert delivery.last_error == "Only http:// and https:// endpoints are called."


def test_inactive_endpoints_and_other_teams_get_nothing(eager, team, other_team, published, filled_design, reviewer,
                                                        member, django_capture_on_commit_callbacks):
    WebhookEndpoint.objects.create(team=team, url="http://127.0.0.1:9/hook", secret="x", is_active=False)
    WebhookEndpoint.objects.create(team=other_team, url="http://127.0.0.1:9/hook", secret="x")
    _track(filled_design, reviewer, member, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


def test_backoff_doubles_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_S = 30
    assert [webhooks.backoff_s(n) for n in range(4)] == [30, 60, 120, 240]
    assert webhooks.backoff_s(20) == 3600
    settings.WEBHOOK_TIMEOUT_S = 600
    assert webhooks.timeout_s() == webhooks.MAX_TIMEOUT_S
