from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Print a user's API key (created on first use) on the last line; --rotate makes a new one."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")

    def handle(self, *args, username, rotate, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        key = services.api_key_rotate(user=user) if rotate else services.api_key_get_or_create(user=user)
        self.stdout.write(f"API key of {username}:")
        self.stdout.write(key)
