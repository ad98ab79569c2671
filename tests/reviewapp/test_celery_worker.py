import pytest
from django_celery_results.models import TaskResult

from reviewapp.core.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_executes_a_task_and_stores_the_result(celery_worker_process):
    result = ping.delay("hello")
    value = result.get(timeout=60)
    assert value["payload"] == "hello"
    # It ran in the worker process, not here.
    assert value["worker_pid"] == celery_worker_process.pid
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "reviewapp.core.tasks.ping"
