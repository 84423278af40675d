"""Refills (single, multi, their status over time) and cancels (accepted, refused, refunded)."""

from decimal import Decimal

import pytest

from sandbox.models import SandboxAccount

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/p/abc"
REFILLABLE, NOT_REFILLABLE, CANCELABLE, NOT_CANCELABLE = 1, 2, 1, 2


@pytest.fixture
def add(call):
    def place(service=REFILLABLE, link=LINK, quantity=900):
        return call("add", service=service, link=link, quantity=quantity)["order"]

    return place


def test_single_refill_answers_the_refill_id_as_a_string_like_the_seed(call, add, instant):
    answer = call("refill", order=add())
    assert set(answer) == {"refill"}
    assert isinstance(answer["refill"], str) and answer["refill"].isdigit()


def test_multi_refill_answers_a_list_with_numeric_ids_and_per_item_errors(call, add, instant):
    good, partial, other = add(), add(link=LINK + "/partial"), add(service=NOT_REFILLABLE)
    answer = call("refill", orders=f"{good},{partial},{other},999999")
    assert [item["order"] for item in answer] == [good, partial, other, 999999]
    assert isinstance(answer[0]["refill"], int) and isinstance(answer[1]["refill"], int)
    assert answer[2]["refill"] == {"error": "Refill is not available for this order"}
    assert answer[3]["refill"] == {"error": "Incorrect order ID"}


def test_refill_of_an_unfinished_order_is_refused(call, add, clock):
    order = add()
    clock.advance(50)
    assert call("refill", order=order) == {"error": "Refill is not available for this order"}


def test_refill_of_a_canceled_order_is_refused(call, add, instant):
    assert call("refill", order=add(link=LINK + "/cancel")) == {
        "error": "Refill is not available for this order"
    }


def test_refill_of_another_accounts_order_is_incorrect_order_id(client, call, other_account, instant):
    theirs = client.post(
        "/sandbox/api/v2",
        {"key": other_account.api_key, "action": "add", "service": REFILLABLE, "link": LINK, "quantity": 100},
    ).json()["order"]
    assert call("refill", order=theirs) == {"error": "Incorrect order ID"}


def test_refill_moves_from_pending_through_in_progress_to_completed(call, add, clock):
    order = add()
    clock.advance(100)
    refill = call("refill", order=order)["refill"]
    seen = []
    for step in (0, 10, 89, 1):
        clock.advance(step)
        seen.append(call("refill_status", refill=refill))
    assert seen == [{"status": s} for s in ("Pending", "In progress", "In progress", "Completed")]


def test_refill_of_a_norefill_link_ends_rejected(call, add, clock):
    order = add(link=LINK + "/norefill")
    clock.advance(100)
    refill = call("refill", order=order)["refill"]
    clock.advance(100)
    assert call("refill_status", refill=refill) == {"status": "Rejected"}


def test_a_second_refill_is_refused_while_one_is_running(call, add, clock):
    order = add()
    clock.advance(100)
    call("refill", order=order)
    assert call("refill", order=order) == {"error": "Refill is already in progress"}
    clock.advance(100)
    assert "refill" in call("refill", order=order)


def test_multi_refill_status_lists_each_with_per_item_errors(call, add, instant):
    done = call("refill", order=add())["refill"]
    rejected = call("refill", order=add(link=LINK + "/norefill"))["refill"]
    answer = call("refill_status", refills=f"{done},{rejected},999999")
    assert answer == [
        {"refill": int(done), "status": "Completed"},
        {"refill": int(rejected), "status": "Rejected"},
        {"refill": 999999, "status": {"error": "Refill not found"}},
    ]


def test_refill_status_of_an_unknown_refill_is_refill_not_found(call):
    assert call("refill_status", refill="999999") == {"error": "Refill not found"}


def test_refill_status_of_another_accounts_refill_is_refill_not_found(client, call, other_account, instant):
    def theirs(action, **fields):
        return client.post(
            "/sandbox/api/v2", {"key": other_account.api_key, "action": action, **fields}
        ).json()

    order = theirs("add", service=REFILLABLE, link=LINK, quantity=100)["order"]
    refill = theirs("refill", order=order)["refill"]
    assert call("refill_status", refill=refill) == {"error": "Refill not found"}


def test_refill_and_refill_status_refuse_more_than_one_hundred_ids(call):
    ids = ",".join(str(n) for n in range(1, 102))
    assert call("refill", orders=ids) == {"error": "Too many IDs"}
    assert call("refill_status", refills=ids) == {"error": "Too many IDs"}


def test_refill_without_an_id_is_an_incorrect_request(call):
    assert call("refill") == {"error": "Incorrect request"}
    assert call("refill_status") == {"error": "Incorrect request"}


def test_cancel_answers_per_order_in_the_seed_shape(call, add, clock):
    running, fixed = add(service=CANCELABLE), add(service=NOT_CANCELABLE, quantity=1000)
    clock.advance(50)
    answer = call("cancel", orders=f"999999,{running},{fixed}")
    assert answer == [
        {"order": 999999, "cancel": {"error": "Incorrect order ID"}},
        {"order": running, "cancel": 1},
        {"order": fixed, "cancel": {"error": "Order cannot be canceled"}},
    ]


def test_an_accepted_cancel_ends_the_order_canceled_and_refunded_at_the_next_read(call, add, account, clock):
    order = add()
    clock.advance(50)
    call("cancel", orders=str(order))
    assert call("status", order=order) | {"start_count": ""} == {
        "charge": "0.81000",
        "start_count": "",
        "status": "Canceled",
        "remains": "900",
        "currency": "USD",
    }
    clock.advance(100)
    call("status", order=order)
    assert SandboxAccount.objects.get(pk=account.pk).balance == Decimal("100")


def test_a_final_order_cannot_be_canceled(call, add, instant):
    order = add()
    assert call("cancel", orders=str(order)) == [
        {"order": order, "cancel": {"error": "Order cannot be canceled"}}
    ]


def test_a_second_cancel_of_the_same_order_is_refused(call, add, clock):
    order = add()
    call("cancel", orders=str(order))
    assert call("cancel", orders=str(order))[0]["cancel"] == {"error": "Order cannot be canceled"}


def test_cancel_accepts_a_lone_order_field_and_answers_the_list_shape(call, add, clock):
    order = add()
    assert call("cancel", order=order) == [{"order": order, "cancel": 1}]


def test_cancel_of_another_accounts_order_is_incorrect_order_id(client, call, other_account, clock):
    theirs = client.post(
        "/sandbox/api/v2",
        {"key": other_account.api_key, "action": "add", "service": CANCELABLE, "link": LINK, "quantity": 100},
    ).json()["order"]
    assert call("cancel", orders=str(theirs)) == [
        {"order": theirs, "cancel": {"error": "Incorrect order ID"}}
    ]


def test_cancel_refuses_more_than_one_hundred_ids_and_an_empty_list(call):
    assert call("cancel", orders=",".join(str(n) for n in range(1, 102))) == {"error": "Too many IDs"}
    assert call("cancel") == {"error": "Incorrect request"}
