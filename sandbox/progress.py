"""How sandbox orders and refills move with time, computed when read: no worker, no timers.

With d = SANDBOX_ORDER_SECONDS, a thing is Pending for the first 10% of d after its creation, In progress
until d, then final; d <= 0 means final at once. The final outcome is a pure function of the link, so
tests pick an outcome by choosing a link: `partial` ends Partial, `cancel` ends Canceled, `norefill` makes
refills Rejected, anything else completes. These are pure functions; settling writes live in services.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from .models import OrderStatus, RefillStatus, SandboxOrder, SandboxRefill

PENDING_SHARE = 0.1
FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED})


@dataclass(frozen=True)
class Progress:
    status: str
    remains: int

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


def order_seconds() -> float:
    return float(settings.SANDBOX_ORDER_SECONDS)


def elapsed_share(created_at: datetime, now: datetime) -> float:
    """How far through its life something created at `created_at` is: 0.0 new, 1.0 or more done."""
    seconds = order_seconds()
    if seconds <= 0:
        return 1.0
    return (now - created_at).total_seconds() / seconds


def start_count_for(link: str) -> int:
    # Deterministic so tests and demo screenshots are stable; a plausible "counter before we started".
    digest = hashlib.sha256(link.encode()).hexdigest()
    return int(digest[:8], 16) % 50000


def final_outcome(link: str, quantity: int) -> Progress:
    lowered = link.lower()
    if "partial" in lowered:
        return Progress(OrderStatus.PARTIAL, max(1, quantity // 3))
    if "cancel" in lowered:
        return Progress(OrderStatus.CANCELED, quantity)
    return Progress(OrderStatus.COMPLETED, 0)


def order_progress(order: SandboxOrder, *, now: datetime) -> Progress:
    if order.final_status:
        return Progress(order.final_status, order.final_remains or 0)
    if order.cancel_requested_at is not None:
        # An accepted cancel ends the order at the next read, whatever time says.
        return Progress(OrderStatus.CANCELED, order.quantity)
    outcome = final_outcome(order.link, order.quantity)
    share = elapsed_share(order.created_at, now)
    if share >= 1:
        return outcome
    if share < PENDING_SHARE:
        return Progress(OrderStatus.PENDING, order.quantity)
    return Progress(OrderStatus.IN_PROGRESS, _remains_while_running(order.quantity, outcome.remains, share))


def _remains_while_running(quantity: int, final_remains: int, share: float) -> int:
    # Falls linearly from `quantity` at the end of Pending to the outcome's remains at d.
    delivered_share = (share - PENDING_SHARE) / (1 - PENDING_SHARE)
    to_deliver = quantity - final_remains
    return quantity - int(to_deliver * delivered_share)


def refill_outcome(link: str) -> str:
    return RefillStatus.REJECTED if "norefill" in link.lower() else RefillStatus.COMPLETED


def refill_progress(refill: SandboxRefill, *, now: datetime) -> str:
    share = elapsed_share(refill.created_at, now)
    if share >= 1:
        return refill.outcome
    if share < PENDING_SHARE:
        return RefillStatus.PENDING
    return RefillStatus.IN_PROGRESS
