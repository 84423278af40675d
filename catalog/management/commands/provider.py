"""Operator commands for providers: `provider add`, `provider list`, `provider check NAME`."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog import selectors, services
from catalog.health import flush_calls
from catalog.models import Provider


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"not a number: {text!r}") from None


class Command(BaseCommand):
    help = "Manage upstream providers."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        add = sub.add_parser("add", help="Register a provider.")
        add.add_argument("--name", required=True)
        add.add_argument("--url", required=True)
        add.add_argument("--key", required=True)
        add.add_argument("--markup", help="Markup percent over the provider's rate (default 50).")
        add.add_argument("--currency", default="USD")
        add.add_argument("--exchange-rate", default="1", help="Panel currency per unit of the provider's.")
        add.add_argument("--method", default="POST", choices=["POST", "GET"])
        add.add_argument("--body", default="form", choices=["form", "json"])
        add.add_argument("--key-field", default="key")
        sub.add_parser("list", help="List providers with their health.")
        check = sub.add_parser("check", help="Call `balance`, print it and record the provider's health.")
        check.add_argument("name")

    def handle(self, *args, subcommand, **options):
        try:
            return self._handle(*args, subcommand=subcommand, **options)
        finally:
            flush_calls()  # the provider calls' timings, for the dashboard

    def _handle(self, *args, subcommand, **options):
        getattr(self, f"_{subcommand}")(**options)

    def _add(self, *, name, url, key, markup, currency, exchange_rate, method, body, key_field, **_):
        try:
            provider = services.provider_create(
                name=name, api_url=url, api_key=key,
                markup_percent=_decimal(markup) if markup is not None else None,
                currency=currency, exchange_rate=_decimal(exchange_rate),
                http_method=method, body_format=body, key_field=key_field,
            )
        except services.ProviderError as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        self.stdout.write(f"Added provider {provider.name} (#{provider.pk}) at {provider.api_url}, "
                          f"markup {provider.markup_percent}%.")

    def _list(self, **_):
        rows = selectors.providers_with_counts()
        if not rows:
            self.stdout.write("No providers. Add one with: provider add --name N --url U --key K")
            return
        self.stdout.write(f"{'NAME':20} {'ACTIVE':6} {'MARKUP':>7} {'SERVICES':>8} {'BALANCE':>16}  HEALTH")
        for p in rows:
            balance = f"{p.balance} {p.balance_currency}" if p.balance is not None else "-"
            self.stdout.write(
                f"{p.name[:20]:20} {'yes' if p.is_active else 'no':6} {p.markup_percent:>6}% "
                f"{p.service_count:>8} {balance:>16}  {selectors.provider_health_text(p)}"
            )

    def _check(self, *, name, **_):
        provider = Provider.objects.filter(name=name).first()
        if provider is None:
            raise CommandError(f"No provider named {name!r}.")
        try:
            balance = services.provider_check(provider)
        except services.ProviderError as exc:
            raise CommandError(f"{name}: {exc}") from None
        self.stdout.write(f"{name}: balance {balance.amount} {balance.currency}")
