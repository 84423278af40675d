from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from celery.signals import task_postrun, worker_process_shutdown, worker_shutdown

        from . import models
        from .health import flush_calls, flush_calls_now_and_then, record_call

        models.CALL_OBSERVER = record_call  # every provider call's outcome and time, for the dashboard

        # The provider calls a worker's tasks noted are written every few seconds, and when it stops (the
        # commands and the staff pages that call providers flush their own).
        task_postrun.connect(flush_calls_now_and_then, weak=False, dispatch_uid="catalog.flush_calls.task")
        for stopping in (worker_shutdown, worker_process_shutdown):
            stopping.connect(flush_calls, weak=False, dispatch_uid=f"catalog.flush_calls.{stopping.name}")
