from celery import shared_task

from .services import heartbeat


@shared_task(name="panel.heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends it; a worker that runs it is alive."""
    heartbeat("worker")
    # Housekeeping that needs a worker anyway: provider call timings older than a week.
    from catalog.health import forget_old_calls

    forget_old_calls()
