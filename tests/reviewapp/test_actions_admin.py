"""Staff configure webhook endpoints in the admin and read deliveries (read-only); the daily
overdue command."""

import datetime as dt

from django.core.management import call_command

from reviewapp.actions.models import Action, WebhookDelivery, WebhookEndpoint
from tests.reviewapp.action_fixtures import action, filled_design, published  # noqa: F401


def test_staff_add_an_endpoint_and_an_ftp_url_is_refused(admin_client, team):
    response = admin_client.post("/admin/actions/webhookendpoint/add/", {
        "team": team.pk, "url": "ftp://tickets.example.com/hook", "secret": "s", "is_active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "Enter an http:// or https:// URL." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    response = admin_client.post("/admin/actions/webhookendpoint/add/", {
        "team": team.pk, "url": "https://tickets.example.com/hook", "secret": "s", "is_active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "https://tickets.example.com/hook"


def test_deliveries_are_visible_and_read_only(admin_client, action, team):
    endpoint = WebhookEndpoint.objects.create(team=team, url="https://tickets.example.com/hook", secret="s")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, action=action, event="action.created", payload={},
                                              attempts=3, status_code=500, last_error="HTTP 500: busy")
    page = admin_client.get("/admin/actions/webhookdelivery/").content.decode()
    assert str(delivery.delivery_id) in page
    assert "HTTP 500: busy" in admin_client.get(f"/admin/actions/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert admin_client.get("/admin/actions/webhookdelivery/add/").status_code == 403


def test_the_overdue_command_reminds_once(action, settings):
    call_command("notify_overdue_actions", stdout=open("/dev/null", "w"))
    assert Action.objects.get(pk=action.pk).overdue_notified_on is not None
    before = action.events.count()
    call_command("notify_overdue_actions", stdout=open("/dev/null", "w"))
    assert action.events.count() == before
    assert Action.objects.get(pk=action.pk).due_on < dt.date.today()
