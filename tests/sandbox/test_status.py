"""`status`, single and multi, and how an order moves with time (a hand-moved clock, no sleeping)."""

import pytest

from sandbox.models import SandboxOrder

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/p/abc"


@pytest.fixture
def add(call):
    def place(link=LINK, quantity=900, service=1, **fields):
        return call("add", service=service, link=link, quantity=quantity, **fields)["order"]

    return place


def test_single_status_has_the_seed_shape_with_strings(call, add, instant):
    order = add()
    answer = call("status", order=order)
    assert answer == {
        "charge": "0.81000",
        "start_count": str(SandboxOrder.objects.get(pk=order).start_count),
        "status": "Completed",
        "remains": "0",
        "currency": "USD",
    }


@pytest.mark.parametrize("order", ["999999", "abc", "-1", "1.0"])
def test_single_status_of_an_unknown_order_is_incorrect_order_id(call, order, instant):
    assert call("status", order=order) == {"error": "Incorrect order ID"}


def test_status_without_order_or_orders_is_an_incorrect_request(call):
    assert call("status") == {"error": "Incorrect request"}


def test_another_accounts_order_is_incorrect_order_id(client, call, other_account, instant):
    theirs = client.post(
        "/sandbox/api/v2",
        {"key": other_account.api_key, "action": "add", "service": 1, "link": LINK, "quantity": 100},
    ).json()["order"]
    assert call("status", order=theirs) == {"error": "Incorrect order ID"}
    assert call("status", orders=str(theirs)) == {str(theirs): {"error": "Incorrect order ID"}}


def test_multi_status_is_keyed_by_id_with_per_item_errors(call, add, instant):
    first, second = add(), add(link=LINK + "/partial")
    answer = call("status", orders=f"{first}, {second},999999,abc")
    assert list(answer) == [str(first), str(second), "999999", "abc"]
    assert answer[str(first)]["status"] == "Completed"
    assert answer[str(second)] == {
        "charge": "0.81000",
        "start_count": answer[str(second)]["start_count"],
        "status": "Partial",
        "remains": "300",
        "currency": "USD",
    }
    assert answer["999999"] == answer["abc"] == {"error": "Incorrect order ID"}


def test_multi_status_takes_exactly_one_hundred_ids(call, add, instant):
    order = add()
    ids = [str(order)] + [str(900000 + n) for n in range(99)]
    answer = call("status", orders=",".join(ids))
    assert len(answer) == 100
    assert answer[str(order)]["status"] == "Completed"


def test_multi_status_refuses_more_than_one_hundred_ids(call, add, instant):
    order = add()
    ids = [str(order)] + [str(900000 + n) for n in range(100)]
    assert call("status", orders=",".join(ids)) == {"error": "Too many IDs"}


def test_an_empty_id_list_is_an_incorrect_request(call):
    assert call("status", orders=" , ,") == {"error": "Incorrect request"}


def test_an_order_is_pending_for_the_first_tenth_of_its_time(call, add, clock):
    order = add()
    clock.advance(9.9)
    assert call("status", order=order)["status"] == "Pending"
    assert call("status", order=order)["remains"] == "900"


def test_an_order_in_progress_has_remains_falling_linearly(call, add, clock):
    order = add()
    clock.advance(10)
    assert (call("status", order=order)["status"], call("status", order=order)["remains"]) == (
        "In progress",
        "900",
    )
    clock.advance(45)  # halfway through the running 90 seconds
    assert call("status", order=order) | {"start_count": ""} == {
        "charge": "0.81000",
        "start_count": "",
        "status": "In progress",
        "remains": "450",
        "currency": "USD",
    }
    clock.advance(44)
    assert call("status", order=order)["remains"] == "10"


def test_a_partial_orders_remains_fall_only_to_its_final_remains(call, add, clock):
    order = add(link=LINK + "?partial=1")
    clock.advance(55)
    assert call("status", order=order)["remains"] == "600"  # halfway from 900 to 300


def test_an_order_is_final_once_its_time_is_up(call, add, clock):
    order = add()
    clock.advance(100)
    assert call("status", order=order)["status"] == "Completed"


@pytest.mark.parametrize(
    "link, status, remains",
    [
        (LINK, "Completed", "0"),
        ("https://instagram.com/p/PARTIAL", "Partial", "300"),
        ("https://instagram.com/p/please-cancel", "Canceled", "900"),
    ],
)
def test_the_final_outcome_is_chosen_by_the_link(call, add, instant, link, status, remains):
    order = add(link=link)
    answer = call("status", order=order)
    assert (answer["status"], answer["remains"]) == (status, remains)


def test_a_partial_order_of_tiny_quantity_still_leaves_one_undelivered(call, add, instant):
    order = add(service=16, quantity=100, link=LINK + "/partial")
    assert call("status", order=order)["remains"] == "33"
    package = call("add", service=15, link=LINK + "/partial")["order"]
    assert call("status", order=package)["remains"] == "1"


def test_a_settled_order_keeps_its_final_status_when_time_runs_on(call, add, clock):
    order = add(link=LINK + "/partial")
    clock.advance(100)
    first = call("status", order=order)
    clock.advance(10_000)
    assert call("status", order=order) == first


def test_zero_seconds_means_final_at_once(call, add, instant):
    assert call("status", order=add())["status"] == "Completed"
