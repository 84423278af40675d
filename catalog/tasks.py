from celery import shared_task

from .sync import sync_catalogs


@shared_task(name="catalog.sync_all")
def sync_all_catalogs() -> int:
    """Beat's hourly sync. Failures are kept in each SyncRun and the provider's health; the next beat retries."""
    return sum(run.ok for run in sync_catalogs())


@shared_task(name="catalog.forget_old_calls", ignore_result=True)
def forget_old_calls() -> int:
    """Beat, hourly: provider call timings older than a week go (the dashboard shows the last hour)."""
    from .health import forget_old_calls as forget

    return forget()
