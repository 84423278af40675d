from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from celery.signals import task_postrun

        from .health import flush_calls

        # The provider calls a task noted are written when it ends (the commands and the staff pages that call
        # providers flush their own).
        task_postrun.connect(flush_calls, weak=False, dispatch_uid="catalog.flush_calls.task")
