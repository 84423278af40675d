from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from catalog.backoff import close_clients

from . import polling, services

# A worker keeps one client (and its connections) per provider (catalog.backoff.client_for): closed when it stops.
worker_shutdown.connect(close_clients, weak=False, dispatch_uid="orders.close_clients")
worker_process_shutdown.connect(close_clients, weak=False, dispatch_uid="orders.close_clients.process")

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


@shared_task(name="orders.poll_cycle")
def poll_cycle() -> int:
    """Beat: plan the cycle and fan it out as batch tasks that any number of workers share."""
    sent = 0
    for provider in polling.providers_due():
        poll_extras.delay(provider.pk)
        for batch in polling.plan_order_batches(provider):
            poll_batch.delay(provider.pk, batch)
            sent += 1
    return sent


@shared_task(name="orders.poll_batch", ignore_result=True)
def poll_batch(provider_id: int, order_ids: list[int]) -> None:
    polling.poll_order_batch(provider_id, order_ids)


@shared_task(name="orders.poll_extras", ignore_result=True)
def poll_extras(provider_id: int) -> None:
    polling.poll_provider_extras(provider_id)
