"""Every action of /api/v2 answers in the seed's exact shape: IDs as numbers, money as 5-place strings."""

from decimal import Decimal

import pytest

from accounts.services import api_key_rotate
from orders.models import Order, Refill
from tests.factories import CategoryFactory, ProviderServiceFactory, ServiceFactory

from .conftest import LINK, balance_of

pytestmark = pytest.mark.django_db


def make_order(user, service, *, status=Order.Status.PENDING, state=Order.State.PLACED, **fields):
    """An order row as placement and polling leave it (no money moves)."""
    values = {"quantity": 1000, "units": 1000, "rate": Decimal("2"), "charge": Decimal("2"), "link": LINK, **fields}
    return Order.objects.create(user=user, service=service, provider_id=service.provider_service.provider_id,
                                provider_service=service.provider_service, status=status, state=state, **values)


def test_services_lists_what_is_on_sale_with_the_panels_ids_prices_and_limits(call, service):
    comments = ServiceFactory(
        name="Custom comments", category=CategoryFactory(name="YouTube"), rate=Decimal("8"),
        provider_service=ProviderServiceFactory(external_id="202", type="Custom Comments", min_quantity=5, max_quantity=1500,
                                                dripfeed=True),
        description="Real-looking comments",
    )
    ServiceFactory(name="Hidden", enabled=False)
    assert call("services") == [
        {"service": service.pk, "name": "Followers", "type": "Default", "category": "Instagram",
         "rate": "2.00000", "min": "10", "max": "10000", "refill": True, "cancel": True, "dripfeed": False,
         "desc": ""},
        {"service": comments.pk, "name": "Custom comments", "type": "Custom Comments", "category": "YouTube",
         "rate": "8.00000", "min": "5", "max": "1500", "refill": False, "cancel": False, "dripfeed": True,
         "desc": "Real-looking comments"},
    ]


def test_add_answers_the_new_order_id_as_a_number_and_charges_the_balance(call, funded, service, no_broker):
    answer = call("add", service=service.pk, link=LINK, quantity=1000)
    order = Order.objects.get()
    assert answer == {"order": order.pk}
    assert (order.user, order.service, order.charge, order.state) == (funded, service, Decimal("2.00000"), "queued")
    assert balance_of(funded) == Decimal("8.00000")


def test_status_of_one_order_has_the_seeds_five_fields(call, funded, service):
    order = make_order(funded, service, status=Order.Status.PARTIAL, charge=Decimal("0.43519"),
                       refunded=Decimal("0.15700"), start_count=3572, remains=157)
    assert call("status", order=order.pk) == {
        "charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157", "currency": "USD",
    }


def test_status_before_the_provider_reports_shows_start_count_0_and_the_whole_quantity_remaining(
        call, funded, service):
    order = make_order(funded, service, state=Order.State.QUEUED, quantity=100, runs=3, units=300)
    assert call("status", order=order.pk) == {
        "charge": "2.00000", "start_count": "0", "status": "Pending", "remains": "300", "currency": "USD",
    }


def test_a_completed_order_without_a_reported_remains_shows_0_remaining(call, funded, service):
    order = make_order(funded, service, status=Order.Status.COMPLETED)
    assert call("status", order=order.pk)["remains"] == "0"


@pytest.mark.parametrize("status", [s for s, _ in Order.Status.choices])
def test_status_shows_the_customer_visible_status(call, funded, service, status):
    order = make_order(funded, service, status=status)
    assert call("status", order=order.pk)["status"] == status


def test_status_answers_in_the_panels_currency(call, funded, service, settings):
    settings.PANEL_CURRENCY = "EUR"
    order = make_order(funded, service)
    assert call("status", order=order.pk)["currency"] == "EUR"


def test_status_of_many_orders_is_keyed_by_id_with_errors_for_unknown_and_other_customers_orders(
        call, funded, bob, service):
    mine = make_order(funded, service, status=Order.Status.IN_PROGRESS, start_count=234, remains=10,
                      charge=Decimal("1.44219"))
    bobs = make_order(bob, service)
    assert call("status", orders=f"{mine.pk},{bobs.pk},999999") == {
        str(mine.pk): {"charge": "1.44219", "start_count": "234", "status": "In progress", "remains": "10",
                       "currency": "USD"},
        str(bobs.pk): {"error": "Incorrect order ID"},
        "999999": {"error": "Incorrect order ID"},
    }


def test_status_of_many_tolerates_spaces_repeats_and_ids_that_are_no_numbers(call, funded, service):
    mine = make_order(funded, service)
    answer = call("status", orders=f" {mine.pk} , {mine.pk},abc,,")
    assert list(answer) == [str(mine.pk), "abc"]
    assert answer["abc"] == {"error": "Incorrect order ID"} and answer[str(mine.pk)]["status"] == "Pending"


def test_refill_of_one_order_answers_the_panels_refill_id_as_a_string(call, funded, service):
    order = make_order(funded, service, status=Order.Status.COMPLETED)
    answer = call("refill", order=order.pk)
    refill = Refill.objects.get(order=order)
    assert answer == {"refill": str(refill.pk)}


def test_refill_of_many_answers_a_list_with_numbers_and_per_order_errors(call, funded, bob, service):
    done = make_order(funded, service, status=Order.Status.COMPLETED)
    running = make_order(funded, service, status=Order.Status.IN_PROGRESS)
    bobs = make_order(bob, service, status=Order.Status.COMPLETED)
    answer = call("refill", orders=f"{done.pk},{running.pk},{bobs.pk}")
    assert answer == [
        {"order": done.pk, "refill": Refill.objects.get(order=done).pk},
        {"order": running.pk, "refill": {"error": "Only a completed or partial order can be refilled."}},
        {"order": bobs.pk, "refill": {"error": "Incorrect order ID"}},
    ]
    assert not Refill.objects.filter(order__in=[running, bobs]).exists()


def test_refill_status_maps_the_panels_queued_to_pending(call, funded, service):
    refill = Refill.objects.create(order=make_order(funded, service, status=Order.Status.COMPLETED))
    assert refill.status == Refill.Status.QUEUED
    assert call("refill_status", refill=refill.pk) == {"status": "Pending"}


def test_refill_status_of_many_answers_a_list_with_not_found_for_unknown_and_other_customers_refills(
        call, funded, bob, service):
    completed = Refill.objects.create(order=make_order(funded, service), status=Refill.Status.COMPLETED)
    rejected = Refill.objects.create(order=make_order(funded, service), status=Refill.Status.REJECTED)
    running = Refill.objects.create(order=make_order(funded, service), status=Refill.Status.IN_PROGRESS)
    bobs = Refill.objects.create(order=make_order(bob, service), status=Refill.Status.COMPLETED)
    answer = call("refill_status", refills=f"{completed.pk},{rejected.pk},{running.pk},{bobs.pk},77777")
    assert answer == [
        {"refill": completed.pk, "status": "Completed"},
        {"refill": rejected.pk, "status": "Rejected"},
        {"refill": running.pk, "status": "In progress"},
        {"refill": bobs.pk, "status": {"error": "Refill not found"}},
        {"refill": 77777, "status": {"error": "Refill not found"}},
    ]


def test_refill_status_of_someone_elses_refill_is_not_found(call, bob, service):
    bobs = Refill.objects.create(order=make_order(bob, service))
    assert call("refill_status", refill=bobs.pk) == {"error": "Refill not found"}


def test_cancel_of_many_answers_1_per_accepted_order_and_an_error_per_refused_one(call, funded, bob, service,
                                                                                  no_broker):
    queued = call("add", service=service.pk, link=LINK, quantity=1000)["order"]
    bobs = make_order(bob, service, state=Order.State.QUEUED)
    assert call("cancel", orders=f"9999999,{queued},{bobs.pk}") == [
        {"order": 9999999, "cancel": {"error": "Incorrect order ID"}},
        {"order": queued, "cancel": 1},
        {"order": bobs.pk, "cancel": {"error": "Incorrect order ID"}},
    ]
    assert Order.objects.get(pk=queued).status == Order.Status.CANCELED
    assert Order.objects.get(pk=bobs.pk).state == Order.State.QUEUED
    assert balance_of(funded) == Decimal("10.00000")  # charged 2, refunded 2


def test_cancel_of_a_placed_order_is_requested_upstream(call, funded, service):
    order = make_order(funded, service, status=Order.Status.IN_PROGRESS)
    assert call("cancel", orders=str(order.pk)) == [{"order": order.pk, "cancel": 1}]
    assert Order.objects.get(pk=order.pk).cancel_state == Order.Cancel.REQUESTED


def test_cancel_takes_a_lone_order_field_and_answers_in_the_list_shape(call, funded, service):
    order = make_order(funded, service, status=Order.Status.IN_PROGRESS)
    assert call("cancel", order=order.pk) == [{"order": order.pk, "cancel": 1}]


def test_balance_is_a_five_place_string_in_the_panels_currency(call, funded, settings):
    settings.PANEL_CURRENCY = "EUR"
    assert call("balance") == {"balance": "10.00000", "currency": "EUR"}


def test_a_staff_users_key_acts_as_that_user(client, carol):
    key = api_key_rotate(user=carol)
    response = client.post("/api/v2", {"key": key, "action": "balance"})
    assert response.json() == {"balance": "0.00000", "currency": "USD"}
