from celery import shared_task

from .services import heartbeat


@shared_task(name="panel.heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends it; a worker that runs it is alive."""
    heartbeat("worker")
