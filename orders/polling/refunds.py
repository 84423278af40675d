"""What a Canceled or Partial order gives back: planned with the status change, written in its transaction
(orders.polling.statuses); the ledger's unique constraint on refunds is the last guard."""

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from accounts.money import ZERO, money_str, to_money

from ..models import Order

if TYPE_CHECKING:
    from .statuses import EventRow, PolledOrder, RefundRow


def refund_due(order: "PolledOrder") -> Decimal | None:
    """Canceled: the whole charge; Partial: charge × remains / units ordered in all. None when unknowable."""
    if order.status == Order.Status.CANCELED:
        return order.charge - order.refunded
    if order.remains is None or order.units <= 0:
        return None
    remains = max(0, min(order.remains, order.units))
    return to_money(order.charge * remains / order.units) - order.refunded


def plan_refund(order: "PolledOrder", events: "list[EventRow]", refunds: "list[RefundRow]",
                event: "Callable[..., EventRow]") -> None:
    """Add the order's refund (and its timeline line) to what its batch writes; a Partial without a usable
    remains is left to staff."""
    amount = refund_due(order)
    if amount is None:
        order.needs_attention = True
        events.append(event(order.pk, "refund", "Partial without a usable remains: refund left to staff.",
                            staff_only=True))
        return
    if amount <= ZERO:
        return
    order.refunded = order.refunded + amount
    refunds.append((order, amount, f"Order #{order.pk} {order.status.lower()}"))
    events.append(event(order.pk, "refund", f"Refunded {money_str(amount)} to the balance."))
