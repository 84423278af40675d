from django.core.management.base import BaseCommand, CommandError

from catalog.health import flush_calls
from catalog.models import Provider
from catalog.sync import sync_catalogs


class Command(BaseCommand):
    help = "Mirror every active provider's catalog (or one, with --provider) and reprice the panel's services."

    def add_arguments(self, parser):
        parser.add_argument("--provider", help="Sync only the provider with this name.")

    def handle(self, *args, provider=None, **options):
        try:
            return self._handle(*args, provider=provider, **options)
        finally:
            flush_calls()  # the provider calls' timings, for the dashboard

    def _handle(self, *args, provider=None, **options):
        if provider and not Provider.objects.filter(name=provider).exists():
            raise CommandError(f"No provider named {provider!r}.")
        runs = sync_catalogs(provider_name=provider)
        if not runs:
            self.stdout.write("No active providers to sync.")
        failed = False
        for run in runs:
            if run.ok:
                self.stdout.write(
                    f"{run.provider.name}: {run.new} new, {run.changed} changed ({run.price_up} price up, "
                    f"{run.price_down} down), {run.gone} gone, {run.returned} back, {run.skipped} skipped, "
                    f"{run.below_cost} disabled below cost"
                )
            else:
                failed = True
                self.stderr.write(f"{run.provider.name}: sync failed, catalog unchanged: {run.error}")
        if failed:
            raise CommandError("one or more providers failed to sync")
