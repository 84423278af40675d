"""Refills and cancels: queued requests sent upstream in batches (`refill`, `cancel`), open refills polled
(`refill_status`), each batch under a short lease of its rows (orders.claims) so that no request goes up twice,
with up to Provider.poll_concurrency calls in flight. A read that fails is tried again within the cycle; a
write only when it surely did not go out. A write whose answer was lost (smmapi.Ambiguous) is never sent
again on its own: its refills are marked, and a later refusal ("already requested") goes before staff.
"""

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import smmapi
from catalog import backoff
from catalog.models import Provider
from core import events as announce
from core.services import notice_once

from .. import claims
from ..models import Order, OrderEvent, Refill
from .report import Report
from .statuses import pollable_orders

REFILL_STATUS_MAP = {
    smmapi.RefillStatus.PENDING: Refill.Status.PENDING,
    smmapi.RefillStatus.IN_PROGRESS: Refill.Status.IN_PROGRESS,
    smmapi.RefillStatus.COMPLETED: Refill.Status.COMPLETED,
    smmapi.RefillStatus.REJECTED: Refill.Status.REJECTED,
}


def _lease_seconds() -> float:
    return settings.PROVIDER_CONNECT_TIMEOUT + settings.PROVIDER_READ_TIMEOUT + 30


def poll_provider_extras(provider_id: int, *, client=None) -> Report:
    """Send queued cancels and refills, and poll open refills, for one provider. `client`: the cycle's own
    (else this worker's, catalog.backoff.client_for). Stops once the provider is backed off."""
    report = Report()
    provider = Provider.objects.get(pk=provider_id)
    client = client or backoff.client_for(provider)
    for step in (_send_cancels, _send_refills, _poll_refills):
        if backoff.backed_off(provider):
            break
        step(provider, client, report)
    return report


def _batches(queryset, size=None):
    size = size or settings.POLL_BATCH_SIZE
    ids = list(queryset.order_by("id").values_list("id", flat=True)[: settings.POLL_MAX_ORDERS_PER_CYCLE])
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _in_claimed_batches(provider: Provider, wanted, report: Report, *, call, apply, safe, still=None, related=(),
                        answer_lost=None) -> int:
    """Claim the `wanted` rows batch by batch, make one provider call per batch (up to poll_concurrency at
    once, tried again when `safe` allows) and apply its answers here as each call ends.

    `still` is what a row must still be to be claimed, on its own table (default: `wanted`); `wanted` may
    go through joins to pick the rows. A call that failed lets its batch go and counts against the
    provider; when the provider may have acted on it (smmapi.Ambiguous), `answer_lost` is told which rows
    first. Returns rows done.
    """
    still = wanted if still is None else still
    batches = iter(_batches(wanted))
    slots = max(1, provider.poll_concurrency)
    retry = backoff.Retry()
    done = 0
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix=f"poll-extras-{provider.pk}") as wire:
        in_flight: dict[Future[Any], tuple[str, list[Any]]] = {}  # the call -> its claim (token, rows)

        def send_more():
            while len(in_flight) < slots and not backoff.backed_off(provider):
                batch = next(batches, None)
                if batch is None:
                    return
                token, rows = claims.claim(still.filter(pk__any=batch), seconds=_lease_seconds(), related=related)
                if rows:
                    in_flight[wire.submit(retry, lambda rows=rows: call(rows), safe=safe)] = (token, rows)

        send_more()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                token, rows = in_flight.pop(future)
                report.count(calls=1)
                try:
                    answers = future.result()
                except smmapi.SmmApiError as exc:
                    if answer_lost and isinstance(exc, smmapi.Ambiguous):
                        answer_lost(rows)
                    claims.release(wanted.model, token, [row.pk for row in rows])
                    report.count(failed_calls=1)
                    report.errors.append(f"{provider.name}: {exc}")
                    backoff.provider_failed(provider, exc)
                    continue
                backoff.provider_answered(provider)
                try:
                    apply(rows, answers)
                finally:
                    claims.release(wanted.model, token, [row.pk for row in rows])
                done += len(rows)
            send_more()
    return done


def _send_cancels(provider: Provider, client, report: Report) -> None:
    wanted = pollable_orders(provider.pk).filter(cancel_state=Order.Cancel.REQUESTED)
    report.count(cancels_sent=_in_claimed_batches(
        provider, wanted, report, call=lambda orders: client.cancel([o.external_id for o in orders]),
        apply=_apply_cancels, safe=backoff.safe_to_repeat_write))


def _send_refills(provider: Provider, client, report: Report) -> None:
    queued = Refill.objects.filter(status=Refill.Status.QUEUED)
    report.count(refills_sent=_in_claimed_batches(
        provider, queued.filter(order__provider=provider), report, still=queued,
        call=lambda refills: client.refills([r.order.external_id for r in refills]),
        apply=_apply_refills_sent, safe=backoff.safe_to_repeat_write, related=("order",),
        answer_lost=_refills_answer_lost))


def _refills_answer_lost(refills: list[Refill]) -> None:
    """The provider may have taken these refill requests: they go again, and a refusal then may only mean
    "already requested" (see _apply_refills_sent)."""
    Refill.objects.filter(pk__any=[refill.pk for refill in refills], status=Refill.Status.QUEUED).update(
        answer_lost_at=timezone.now())


def _poll_refills(provider: Provider, client, report: Report) -> None:
    open_ = Refill.objects.filter(status__in=[Refill.Status.PENDING, Refill.Status.IN_PROGRESS]).exclude(external_id="")
    report.count(refills_polled=_in_claimed_batches(
        provider, open_.filter(order__provider=provider), report, still=open_,
        call=lambda refills: client.refill_statuses([r.external_id for r in refills]),
        apply=_apply_refill_statuses, safe=backoff.safe_to_repeat_read))


@transaction.atomic
def _apply_cancels(orders: list[Order], answers: dict) -> None:
    events = []
    for order in orders:
        answer = answers.get(order.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError) or not answer:
            order.cancel_state = Order.Cancel.REFUSED
            order.cancel_error = (answer.message if isinstance(answer, smmapi.ItemError) else "not accepted")[:255]
            events.append(OrderEvent(order_id=order.pk, kind="cancel", message=f"The provider refused the cancel: "
                                                                        f"{order.cancel_error}."))
        else:
            order.cancel_state = Order.Cancel.ACCEPTED
            events.append(OrderEvent(order_id=order.pk, kind="cancel",
                                     message="The provider accepted the cancel; the refund follows its status."))
    Order.objects.bulk_update(orders, ["cancel_state", "cancel_error"])
    OrderEvent.objects.bulk_create(events)


@transaction.atomic
def _apply_refills_sent(refills: list[Refill], answers: dict) -> None:
    """Store the refill IDs the provider gave, or its refusals. A refusal of a refill whose earlier request
    went unanswered may mean the provider is refilling already ("already requested"): its order is put
    before staff, who check with the provider and then clear the flag."""
    now = timezone.now()
    events, unsure = [], []
    for refill in refills:
        answer = answers.get(refill.order.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError):
            refill.status, refill.error = Refill.Status.REJECTED, answer.message[:255]
            events.append(OrderEvent(order=refill.order, kind="refill",
                                     message=f"The provider refused the refill: {refill.error}."))
            if refill.answer_lost_at:
                unsure.append(refill)
                events.append(OrderEvent(
                    order=refill.order, kind="refill", staff_only=True,
                    message=f"An earlier request for this refill went unanswered "
                            f"({timezone.localtime(refill.answer_lost_at):%Y-%m-%d %H:%M}); the provider may be "
                            "refilling already. Check with the provider, then clear the flag."))
        else:
            refill.status, refill.external_id = Refill.Status.PENDING, str(answer)
            events.append(OrderEvent(order=refill.order, kind="refill", message="Refill requested from the provider."))
        refill.sent_at, refill.updated_at = now, now
    Refill.objects.bulk_update(refills, ["status", "error", "external_id", "sent_at", "updated_at"])
    OrderEvent.objects.bulk_create(events)
    rejected = [refill.pk for refill in refills if refill.status == Refill.Status.REJECTED]
    if rejected:
        announce.refills_finished.send(sender=Refill, refill_ids=rejected)
    if unsure:  # one notice for the batch: a lost answer is usually a whole call's
        order_ids = [refill.order_id for refill in unsure]
        Order.objects.filter(pk__any=order_ids).update(needs_attention=True)
        listed = ", ".join(f"#{order_id}" for order_id in order_ids)
        notice_once(f"Refills may be running at the provider for {len(unsure)} order(s): {listed}"[:255],
                    "Requests for these refills went unanswered; asked again, the provider refused them "
                    f"(“{unsure[0].error}”). Customers see them as rejected. Each order is flagged: check with "
                    "the provider, then clear the flag.")


@transaction.atomic
def _apply_refill_statuses(refills: list[Refill], answers: dict) -> None:
    now = timezone.now()
    events, ended = [], []
    for refill in refills:
        answer = answers.get(refill.external_id, smmapi.ItemError(smmapi.MISSING_FROM_ANSWER))
        if isinstance(answer, smmapi.ItemError):
            refill.error, refill.poll_errors = answer.message[:255], refill.poll_errors + 1
        else:
            status = REFILL_STATUS_MAP.get(answer.status)
            if status and status != refill.status:
                refill.status, refill.error = status, ""
                events.append(OrderEvent(order_id=refill.order_id, kind="refill", message=f"Refill {status}."))
                if status in (Refill.Status.COMPLETED, Refill.Status.REJECTED):
                    ended.append(refill.pk)
        refill.last_polled_at, refill.updated_at = now, now
    Refill.objects.bulk_update(refills, ["status", "error", "poll_errors", "last_polled_at", "updated_at"])
    OrderEvent.objects.bulk_create(events)
    if ended:
        announce.refills_finished.send(sender=Refill, refill_ids=ended)
