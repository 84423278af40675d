"""Make the demo world: a staff user and a funded customer, and the sandbox as the demo's provider with its
catalog synced. Printed with the logins. Safe to run again."""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import LedgerEntry

DEMO_USERS = (
    # username, password, staff
    ("admin", "admin-demo", True),
    ("support", "support-demo", True),
    ("demo", "demo-demo", False),
)
# The support login has the Support role (reads everything, acts on orders and tickets, no money, no
# settings); admin is a superuser.
STAFF_ROLES = {"support": "Support"}
DEMO_FUNDS = Decimal("100")
DEMO_PROVIDER = "Sandbox"
DEMO_BANK_INSTRUCTIONS = ("Transfer the amount to IBAN XX00 DEMO 0000 0000 (Demo Bank), with your username as the "
                          "reference, then enter that reference here. Staff credit your balance once it arrives.")


class Command(BaseCommand):
    help = "Create (or reset) the demo users, register the sandbox provider, sync its catalog, print logins."

    def handle(self, *args, **options):
        users = {
            username: services.user_ensure(username=username, password=password, is_staff=staff,
                                           is_superuser=staff and username not in STAFF_ROLES)
            for username, password, staff in DEMO_USERS
        }
        for username, role in STAFF_ROLES.items():
            from django.contrib.auth.models import Group

            users[username].groups.set([Group.objects.get(name=role)])
        customer = users["demo"]
        if not LedgerEntry.objects.filter(user=customer).exists():
            services.wallet_deposit(user=customer, amount=DEMO_FUNDS, note="Demo funds")
        if settings.SANDBOX_ENABLED:
            self._demo_provider()
        self._demo_payment_methods()
        self.stdout.write("Demo logins:")
        for username, password, _staff in DEMO_USERS:
            role = {"admin": "staff (admin)  ", "support": "staff (support)"}.get(username, "customer       ")
            self.stdout.write(f"  {role}  {username} / {password}")

    def _demo_payment_methods(self):
        """The ways to add funds in the demo: the sandbox gateway's test card, a manual bank transfer, and
        Stripe or Cryptomus when their keys are in the environment. Kept as staff left them on a second run."""
        from payments import gateways
        from payments.models import PaymentMethod

        demo_methods: list[tuple[str, str, dict[str, object]]] = [
            ("sandbox", "Test card (sandbox gateway)", {"min_amount": Decimal("1"), "max_amount": Decimal("1000"),
                                                        "bonus_percent": Decimal("5"), "bonus_from": Decimal("100")}),
            ("stripe", "Card (Stripe)", {"min_amount": Decimal("5"), "fee_percent": Decimal("3")}),
            ("cryptomus", "Crypto (Cryptomus)", {"min_amount": Decimal("10")}),
            ("manual", "Bank transfer", {"min_amount": Decimal("20"), "instructions": DEMO_BANK_INSTRUCTIONS}),
        ]
        for order, (gateway, name, fields) in enumerate(demo_methods):
            if gateways.configured(gateway):
                PaymentMethod.objects.get_or_create(gateway=gateway, defaults={"name": name, "display_order": order,
                                                                               **fields})

    def _demo_provider(self):
        from catalog.models import Provider
        from catalog.sync import sync_catalog
        from core.inprocess import serve_self
        from sandbox.catalog import ensure_catalog
        from sandbox.services import get_or_create_demo_account

        ensure_catalog()
        account = get_or_create_demo_account()
        api_path = "/sandbox/api/v2"
        provider, _ = Provider.objects.update_or_create(
            name=DEMO_PROVIDER,
            defaults={"api_url": settings.SITE_URL.rstrip("/") + api_path, "api_key": account.api_key},
        )
        with serve_self() as base_url:
            run = sync_catalog(provider, client=provider.client(url=base_url + api_path))
        if run.ok:
            self.stdout.write(f"Demo provider {provider.name}: {run.new} new services, {run.changed} changed.")
        else:
            self.stderr.write(f"Demo provider {provider.name}: catalog sync failed: {run.error}")
