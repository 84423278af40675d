from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = ("Say whether a user has an API key and how it ends (the key itself is not stored, so it cannot be "
            "shown again); --rotate makes a new one and prints it on the last line, once.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="make a new key (the old one stops at once)")

    def handle(self, *args, username, rotate, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if rotate:
            key = services.api_key_rotate(user=user)
            self.stdout.write(f"New API key of {username} (copy it now: it is not shown again):")
            self.stdout.write(key)
        elif user.api_key_digest:
            made = (f", made {timezone.localtime(user.api_key_created_at):%Y-%m-%d %H:%M}"
                    if user.api_key_created_at else "")
            self.stdout.write(f"{username} has an API key ending in …{user.api_key_hint}{made}. "
                              f"Run with --rotate for a new one.")
        else:
            self.stdout.write(f"{username} has no API key. Run with --rotate to make one.")
