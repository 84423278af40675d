"""Make the demo world: a staff user and a customer, printed with their passwords. Safe to run again."""

from django.core.management.base import BaseCommand

from accounts import services

DEMO_USERS = (
    # username, password, staff
    ("admin", "admin-demo", True),
    ("demo", "demo-demo", False),
)


class Command(BaseCommand):
    help = "Create (or reset) the demo staff user and customer and print their logins."

    def handle(self, *args, **options):
        for username, password, staff in DEMO_USERS:
            services.user_ensure(username=username, password=password, is_staff=staff)
        self.stdout.write("Demo logins:")
        for username, password, staff in DEMO_USERS:
            role = "staff   " if staff else "customer"
            self.stdout.write(f"  {role}  {username} / {password}")
