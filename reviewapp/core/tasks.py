from celery import shared_task


@shared_task(name="reviewapp.core.tasks.ping")
def ping(payload: str = "pong") -> dict:
    """A task that proves the round trip web → broker → worker → result store."""
    import os
    import socket

    return {"payload": payload, "worker_host": socket.gethostname(), "worker_pid": os.getpid()}
