"""Events the apps announce, for notifications to listen to (support.receivers). Sent inside the
transaction of the change, so that what listens writes its rows in it too, and nothing is told of a change
that rolled back. Here, in the project module every app may import: the senders never import support."""

from django.dispatch import Signal

# orders: order_ids whose status just became final (Completed, Partial, Canceled), their refunds written
orders_finished = Signal()
# orders: order_id parked for staff (failed: outcome unknown, or stuck while sending)
order_needs_decision = Signal()
# orders: refill_ids whose refill just ended (Completed or Rejected)
refills_finished = Signal()
# payments: payment_id credited (its deposit and bonus written)
payment_credited = Signal()
# payments: payment_id put before staff (under review), with reason
payment_needs_review = Signal()
# catalog: provider_id whose balance is now below its warning level, with balance
provider_balance_low = Signal()
# catalog: provider_id backed off after failed calls in a row, with error
provider_failing = Signal()
# orders: polling has been quiet since `since` (no order asked about for five intervals)
polling_stopped = Signal()
