"""Staff decisions on orders: an order whose outcome is unknown is resent or canceled and refunded by a
person, never by the panel on its own. Each decision is one transaction with its timeline line."""

from django.db import transaction
from django.db.models import F

from accounts.money import money_str, to_money
from accounts.services import wallet_refund_order
from core import events as announce
from core.services import audit

from .models import Order, OrderEvent
from .services import OrderRefused, dispatch

UNKNOWN_OUTCOME_ONLY = "Only an order whose outcome is unknown (failed) can be resent or canceled here."


@transaction.atomic
def order_resend(*, order_id: int, staff) -> None:
    """Staff checked with the provider that it never arrived: queue it again for one more `add`."""
    moved = Order.objects.filter(pk=order_id, state=Order.State.FAILED).update(
        state=Order.State.QUEUED, next_attempt_at=None, needs_attention=False, reason="")
    if not moved:
        raise OrderRefused(UNKNOWN_OUTCOME_ONLY)
    OrderEvent.objects.create(order_id=order_id, kind="resent", staff_only=True,
                              message=f"{staff.username} decided to send it again.")
    audit(actor=staff, action="order.resend", target=("order", order_id, f"Order #{order_id}"),
          before={"state": Order.State.FAILED}, after={"state": Order.State.QUEUED})
    transaction.on_commit(lambda: dispatch(order_id))


@transaction.atomic
def order_cancel_and_refund(*, order_id: int, staff) -> Order:
    """Staff decided it will not be delivered: Canceled, the whole charge back on the customer's balance."""
    moved = Order.objects.filter(pk=order_id, state=Order.State.FAILED, refunded=0).update(
        state=Order.State.CANCELED, status=Order.Status.CANCELED, refunded=F("charge"), needs_attention=False)
    if not moved:
        raise OrderRefused(UNKNOWN_OUTCOME_ONLY)
    order = Order.objects.get(pk=order_id)
    wallet_refund_order(order=order, amount=order.charge, note=f"Order #{order.pk} canceled by staff")
    OrderEvent.objects.create(order=order, kind="canceled",
                              message=f"Canceled by support. Refunded {money_str(order.charge)}.")
    OrderEvent.objects.create(order=order, kind="canceled", staff_only=True, message=f"Decided by {staff.username}.")
    announce.orders_finished.send(sender=Order, order_ids=[order.pk])
    audit(actor=staff, action="order.cancel_refund", target=order,
          before={"state": Order.State.FAILED, "refunded": "0"},
          after={"state": order.state, "status": order.status, "refunded": money_str(order.refunded)})
    return order


@transaction.atomic
def order_clear_flag(*, order_id: int, staff) -> None:
    """Staff looked at a flagged order (repeated poll errors, an odd status) and it needs nothing more."""
    if not Order.objects.filter(pk=order_id, needs_attention=True).exclude(state=Order.State.FAILED).update(
            needs_attention=False, poll_errors=0):
        raise OrderRefused("This order is not flagged, or it waits for a resend or cancel decision.")
    OrderEvent.objects.create(order_id=order_id, kind="checked", staff_only=True,
                              message=f"{staff.username} checked it and cleared the flag.")
    audit(actor=staff, action="order.clear_flag", target=("order", order_id, f"Order #{order_id}"),
          before={"needs_attention": True}, after={"needs_attention": False})


OPEN_PLACED_ONLY = "Only an order placed with the provider and not finished can be set Partial or Completed here."


@transaction.atomic
def order_attach_external_id(*, order_id: int, external_id: str, staff) -> Order:
    """Staff found the order at the provider (its answer was lost): attach the provider's order ID, and polling
    takes it from there. Only an order whose outcome is unknown."""
    external_id = external_id.strip()
    if not external_id or len(external_id) > 100 or any(char.isspace() for char in external_id):
        raise OrderRefused("Give the provider's order ID, as the provider shows it (no spaces).")
    order = Order.objects.select_related("provider").get(pk=order_id)
    holder = Order.objects.filter(provider_id=order.provider_id, external_id=external_id).exclude(pk=order_id).first()
    if holder is not None:
        raise OrderRefused(f"Order #{holder.pk} already has the provider's order ID {external_id}.")
    moved = Order.objects.filter(pk=order_id, state=Order.State.FAILED, external_id="").update(
        state=Order.State.PLACED, external_id=external_id, needs_attention=False, reason="", sending_since=None,
        last_polled_at=None, poll_errors=0)
    if not moved:
        raise OrderRefused(UNKNOWN_OUTCOME_ONLY.replace("resent or canceled", "given a provider's order ID"))
    OrderEvent.objects.create(order_id=order_id, kind="placed", message=f"Placed with the provider as order {external_id}.")
    OrderEvent.objects.create(order_id=order_id, kind="placed", staff_only=True,
                              message=f"{staff.username} found it at the provider and attached its order ID.")
    audit(actor=staff, action="order.attach", target=order, before={"state": Order.State.FAILED, "external_id": ""},
          after={"state": Order.State.PLACED, "external_id": external_id})
    return Order.objects.get(pk=order_id)


@transaction.atomic
def order_set_partial(*, order_id: int, remains: int, staff) -> Order:
    """Staff know from the provider that only part was delivered: Partial, and the undelivered share of the
    charge back on the balance, as polling would have refunded it."""
    order = Order.objects.select_for_update(no_key=True).get(pk=order_id)
    if order.state != Order.State.PLACED or order.is_final:
        raise OrderRefused(OPEN_PLACED_ONLY)
    if not 0 < remains < order.units:
        raise OrderRefused(f"Remains must be from 1 to {order.units - 1}: with nothing delivered, cancel and refund; "
                           "with everything delivered, set Completed.")
    before = {"status": order.status, "remains": order.remains, "refunded": money_str(order.refunded)}
    refund = to_money(order.charge * remains / order.units) - order.refunded
    Order.objects.filter(pk=order_id).update(status=Order.Status.PARTIAL, remains=remains,
                                             refunded=order.refunded + refund, needs_attention=False)
    order.refresh_from_db()
    if refund > 0:
        wallet_refund_order(order=order, amount=refund, note=f"Order #{order.pk} partial (set by staff)")
    OrderEvent.objects.create(order=order, kind="status", message=f"{before['status']} → Partial: {remains} of "
                                                                   f"{order.units} not delivered. Refunded {money_str(refund)}.")
    OrderEvent.objects.create(order=order, kind="status", staff_only=True, message=f"Set Partial by {staff.username}.")
    announce.orders_finished.send(sender=Order, order_ids=[order.pk])
    audit(actor=staff, action="order.set_partial", target=order, before=before,
          after={"status": order.status, "remains": remains, "refunded": money_str(order.refunded)})
    return order


@transaction.atomic
def order_set_completed(*, order_id: int, staff) -> Order:
    """Staff know from the provider that it was all delivered: Completed, nothing refunded."""
    order = Order.objects.select_for_update(no_key=True).get(pk=order_id)
    if order.state != Order.State.PLACED or order.is_final:
        raise OrderRefused(OPEN_PLACED_ONLY)
    before = {"status": order.status, "remains": order.remains}
    Order.objects.filter(pk=order_id).update(status=Order.Status.COMPLETED, remains=0, needs_attention=False)
    order.refresh_from_db()
    OrderEvent.objects.create(order=order, kind="status", message=f"{before['status']} → Completed.")
    OrderEvent.objects.create(order=order, kind="status", staff_only=True, message=f"Set Completed by {staff.username}.")
    announce.orders_finished.send(sender=Order, order_ids=[order.pk])
    audit(actor=staff, action="order.set_completed", target=order, before=before,
          after={"status": order.status, "remains": 0})
    return order
