import pytest

from catalog.models import Provider

pytestmark = pytest.mark.django_db


def test_any_lookup_matches_a_list_like_in_for_filters_and_updates():
    a, b, c = (Provider.objects.create(name=n, api_url="https://p.example/api/v2", api_key="k") for n in "ABC")
    assert set(Provider.objects.filter(pk__any=[a.pk, c.pk, 10**9]).values_list("name", flat=True)) == {"A", "C"}
    assert Provider.objects.filter(pk__any=[b.pk, c.pk]).update(poll_failures=3) == 2
    assert list(Provider.objects.order_by("name").values_list("poll_failures", flat=True)) == [0, 3, 3]
    assert not Provider.objects.filter(pk__any=[]).exists()
    assert list(Provider.objects.filter(name__any=["B", "<x'y>"]).values_list("name", flat=True)) == ["B"]

