"""factory-boy factories for the panel's models."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from catalog.models import Category, Provider, ProviderService, Service

FAKE_PROVIDER_URL = "https://provider.example/api/v2"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-123-word")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        django_get_or_create = ("name",)

    name = "Upstream"
    api_url = FAKE_PROVIDER_URL
    api_key = "provider-secret-key"


class ProviderServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderService

    provider = factory.SubFactory(ProviderFactory)
    external_id = factory.Sequence(lambda n: str(100 + n))
    name = "Followers"
    type = "Default"
    category = "Instagram"
    rate = Decimal("1.00000")
    min_quantity = 10
    max_quantity = 10000
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = "Instagram"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    provider_service = factory.SubFactory(ProviderServiceFactory)
    name = factory.LazyAttribute(lambda s: s.provider_service.name)
    type = factory.LazyAttribute(lambda s: s.provider_service.type)
    category = factory.SubFactory(CategoryFactory)
    rate = Decimal("2.00000")
    min_quantity = factory.LazyAttribute(lambda s: s.provider_service.min_quantity)
    max_quantity = factory.LazyAttribute(lambda s: s.provider_service.max_quantity)
    refill = factory.LazyAttribute(lambda s: s.provider_service.refill)
    cancel = factory.LazyAttribute(lambda s: s.provider_service.cancel)
    dripfeed = factory.LazyAttribute(lambda s: s.provider_service.dripfeed)


class OrderFactory(factory.django.DjangoModelFactory):
    """A placed order of 1000 units (charge 2.00), as the provider accepted it."""

    class Meta:
        model = "orders.Order"

    user = factory.SubFactory(UserFactory)
    service = factory.SubFactory(ServiceFactory)
    provider_service = factory.LazyAttribute(lambda o: o.service.provider_service)
    provider = factory.LazyAttribute(lambda o: o.service.provider_service.provider)
    link = "https://x.com/a"
    quantity = 1000
    units = 1000
    rate = Decimal("2.00000")
    charge = Decimal("2.00000")
    state = "placed"
    external_id = factory.Sequence(lambda n: f"E{n}")
