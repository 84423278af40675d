from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The panel's user: a customer, or staff when `is_staff` is set.

    A custom model from the first migration on, so the wallet and API key can live here later without a
    painful swap of AUTH_USER_MODEL.
    """

    @property
    def is_customer(self) -> bool:
        return not self.is_staff
