"""Staff decisions on orders: an order whose outcome is unknown is resent or canceled and refunded by a
person, never by the panel on its own. Each decision is one transaction with its timeline line."""

from django.db import transaction
from django.db.models import F

from accounts.money import money_str
from accounts.services import wallet_refund_order
from panel.services import audit

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
