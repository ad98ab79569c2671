"""Twenty people save the same design at the same moment from the same revision: exactly one save
wins, the other nineteen are told it changed (409) and nothing of theirs is written.

Real threads, each with its own database connection and its own request through the whole view
(form, service, compare-and-set UPDATE), released together by a barrier. On PostgreSQL (CI) the
UPDATEs race for the row lock; on SQLite they queue on the database lock. Either way one wins.
"""

import threading
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from engine.design import example_design

from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design

SAVERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_saves_have_one_winner(team, owner, member):
    design = Design.objects.create(team=team, name="Ranking service", inputs=example_design(), revision=7,
                                   created_by=owner, updated_by=owner)
    url = reverse("designs:inputs", args=[design.pk])
    barrier = threading.Barrier(SAVERS)
    statuses: dict[int, int] = {}
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            client = Client()
            client.force_login(member)
            document = example_design()
            document["requirements"]["peak_qps"] = 100 + i  # each saver writes its own value
            body = urlencode(form_data(document, revision=7), doseq=True)
            barrier.wait(timeout=60)
            response = client.post(url, body, content_type="application/x-www-form-urlencoded")
            statuses[i] = response.status_code
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's index
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(SAVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(statuses) == SAVERS
    winners = [i for i, status in statuses.items() if status == 302]
    assert len(winners) == 1, statuses
    assert sorted(statuses.values()) == [302] + [409] * (SAVERS - 1)
    design.refresh_from_db()
    assert design.revision == 8
    assert design.inputs["requirements"]["peak_qps"] == 100 + winners[0]  # the winner's value, whole
