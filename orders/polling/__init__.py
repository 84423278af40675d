"""Polling: order statuses, refills and cancels, per provider, in batches of 100, with refunds exactly once.

- `cycle`: what is due, and a whole cycle in one process with up to Provider.poll_concurrency calls of a
  provider in flight (`run_cycle`, what `poll_orders` runs);
- `statuses`: one batch of order statuses, claimed, asked, applied and written (`poll_order_batch`, the unit
  of work beat fans out to workers);
- `refunds`: what a Canceled or Partial order gives back;
- `extras`: refills and cancels, sent and polled under short leases;
- the provider's retries, backoff, call slots and kept clients live beside its health, in catalog.backoff.
"""

from .cycle import plan_order_batches, poll_statuses, providers_due, run_cycle
from .extras import poll_provider_extras
from .refunds import refund_due
from .report import Report
from .statuses import poll_order_batch, pollable_orders

__all__ = ["Report", "plan_order_batches", "poll_order_batch", "poll_provider_extras", "poll_statuses",
           "pollable_orders", "providers_due", "refund_due", "run_cycle"]
