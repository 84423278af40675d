from datetime import timedelta

from celery import shared_task

from . import services

# A queued order younger than this still has its own task message on the way.
LOST_MESSAGE_AFTER = timedelta(seconds=60)


@shared_task(name="orders.send_order", ignore_result=True)
def send_order(order_id: int) -> None:
    services.order_send(order_id)


@shared_task(name="orders.sweep")
def sweep_orders() -> dict:
    """Beat: park orders stuck in `sending`, and re-dispatch queued ones whose message was lost."""
    parked = services.orders_park_stuck()
    dispatched = sum(services.dispatch(pk) for pk in services.orders_due(older_than=LOST_MESSAGE_AFTER))
    return {"parked": parked, "dispatched": dispatched}
