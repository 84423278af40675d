from celery import shared_task

from .sync import sync_catalogs


@shared_task(name="catalog.sync_all")
def sync_all_catalogs() -> int:
    """Beat's hourly sync. Failures are kept in each SyncRun and the provider's health; the next beat retries."""
    return sum(run.ok for run in sync_catalogs())
