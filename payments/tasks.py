import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(name="payments.reconcile")
def reconcile() -> dict:
    """Beat: ask the gateways about pending payments whose webhook is overdue, and expire the ones past time."""
    return services.payments_reconcile()


@shared_task(name="payments.check_payment", ignore_result=True)
def check_payment(payment_id: int, min_gap_seconds: float) -> None:
    services.payment_check(payment_id, min_gap_seconds=min_gap_seconds)


def dispatch_check(payment_id: int, *, min_gap_seconds: float) -> bool:
    """Have a worker ask the gateway about one payment. With the broker down the beat task does it later."""
    try:
        check_payment.apply_async((payment_id, min_gap_seconds), retry=False)
    except Exception:  # any broker failure: the beat task asks in its own time
        log.warning("broker unavailable, payment %s left to the beat task", payment_id)
        return False
    return True
