"""Writes on payments: start a top-up, act on what a gateway says about it, settle what staff decide.

Exactly once: a payment leaves `pending` (or `review`) by one conditional UPDATE from the state it leaves, and
the ledger rows that follow are written in the same transaction. Every notification is first kept as a
GatewayEvent, unique per gateway and event ID, so a replay is recognised before it is acted on; the ledger's
unique constraints (one deposit, one bonus, one dispute per payment) are the last guard. A gateway is called
outside any transaction. What a notification means is decided here once, for every gateway alike.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.money import ZERO, money_str, to_money
from accounts.services import customer_flag, wallet_credit_payment, wallet_take_back_payment
from core import events as announce
from core.models import StaffNotice
from core.services import audit, changed, notice_once, snapshot, staff_notice_create

from . import gateways
from .gateways.base import GatewayError, Notice, Outcome, Urls, minor_units, scrub
from .models import GatewayEvent, Payment, PaymentMethod

log = logging.getLogger(__name__)

Status = Payment.Status
HUNDRED = Decimal(100)
MAX_DIGITS_BEFORE_POINT = 12  # a top-up of a trillion is a typo, and the columns hold 15 digits before the point


class PaymentRefused(Exception):
    """The payment cannot be started or decided; the message is for the person, `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


# --- What a top-up costs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    """What the customer pays (`total`) and gets (`amount` + `bonus`), before anything is written."""

    amount: Decimal
    fee: Decimal
    total: Decimal
    bonus: Decimal
    currency: str


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def payment_quote(*, method: PaymentMethod, amount: Decimal) -> Quote:
    """Check an amount against the method's limits and price it. Raises PaymentRefused; writes nothing."""
    currency = settings.PANEL_CURRENCY
    unit = _unit(currency)
    if not amount.is_finite() or amount <= 0:
        raise PaymentRefused("Enter an amount above zero.", "amount")
    if amount.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        raise PaymentRefused("That amount is too large.", "amount")
    if amount != amount.quantize(unit, rounding=ROUND_DOWN):
        places = minor_units(currency)
        raise PaymentRefused(f"Use at most {places} decimal place{'s' if places != 1 else ''}." if places else
                             "Enter a whole amount.", "amount")
    if amount < method.min_amount:
        raise PaymentRefused(f"The least you can add with {method.name} is {_shown(method.min_amount, unit)} "
                             f"{currency}.", "amount")
    if method.max_amount is not None and amount > method.max_amount:
        raise PaymentRefused(f"The most you can add with {method.name} at once is "
                             f"{_shown(method.max_amount, unit)} {currency}.", "amount")
    fee = (amount * method.fee_percent / HUNDRED).quantize(unit, rounding=ROUND_HALF_UP)
    return Quote(amount=to_money(amount), fee=to_money(fee), total=to_money(amount + fee),
                 bonus=to_money(_bonus(method, amount, unit)), currency=currency)


def _bonus(method: PaymentMethod, amount: Decimal, unit: Decimal) -> Decimal:
    if method.bonus_percent <= 0 or amount < method.bonus_from:
        return ZERO
    return (amount * method.bonus_percent / HUNDRED).quantize(unit, rounding=ROUND_DOWN)


def _shown(value: Decimal, unit: Decimal) -> str:
    return f"{value.quantize(unit, rounding=ROUND_HALF_UP):f}"


# --- Starting a top-up -------------------------------------------------------------------------------


def payment_start(*, user, method: PaymentMethod | None, amount: Decimal, customer_reference: str = "") -> Payment:
    """Start a top-up. A hosted gateway's payment is created there and its page is `redirect_url`; a manual
    one goes straight before staff with the customer's reference. Raises PaymentRefused.

    The payment row is committed before the gateway hears of it, so its notification always finds it; if
    the gateway cannot be reached the payment is failed at once: the customer never saw a page to pay on,
    so nothing can have been charged.
    """
    if method is None or not method.enabled or not gateways.configured(method.gateway):
        raise PaymentRefused("Choose a payment method that is available.", "method")
    if user.is_staff:
        raise PaymentRefused("Staff accounts do not add funds; log in as the customer.", "method")
    quote = payment_quote(method=method, amount=amount)
    if method.is_manual:
        return _start_manual(user=user, method=method, quote=quote, customer_reference=customer_reference)
    payment = Payment.objects.create(
        user=user, method=method, gateway=method.gateway, amount=quote.amount, fee=quote.fee, total=quote.total,
        bonus=quote.bonus, currency=quote.currency,
        expires_at=timezone.now() + timedelta(seconds=settings.PAYMENT_LIFETIME_SECONDS),
    )
    try:
        checkout = gateways.get_gateway(method.gateway).create(
            payment, urls=payment_urls(payment), description=f"{settings.PANEL_NAME}: add funds for {user.username}")
    except Exception as exc:  # a GatewayError, or our own bug mid-call: either way no page was handed out
        if not isinstance(exc, GatewayError):
            log.exception("payment %s: unexpected error while creating it at %s", payment.pk, method.gateway)
        said = exc if isinstance(exc, GatewayError) else type(exc).__name__
        _fail_unmade(payment, f"Not created at the gateway: {said}")
        raise PaymentRefused(f"{method.name} did not take the payment just now, and nothing was charged. "
                             "Try again in a minute, or choose another method.") from None
    expires_at = min(filter(None, [checkout.expires_at, payment.expires_at]))
    try:
        made = Payment.objects.filter(pk=payment.pk, status=Status.PENDING, redirect_url="").update(
            gateway_ref=checkout.gateway_ref, redirect_url=checkout.redirect_url, expires_at=expires_at)
    except IntegrityError:  # the gateway gave an ID another payment already holds
        made = 0
    if not made:
        _fail_unmade(payment, f"The gateway's answer could not be kept (its ID {checkout.gateway_ref!r}).")
        raise PaymentRefused(f"{method.name} did not take the payment just now, and nothing was charged. "
                             "Try again in a minute.")
    payment.gateway_ref, payment.redirect_url, payment.expires_at = (checkout.gateway_ref, checkout.redirect_url,
                                                                     expires_at)
    return payment


@transaction.atomic
def _start_manual(*, user, method: PaymentMethod, quote: Quote, customer_reference: str) -> Payment:
    reference = customer_reference.strip()
    if not reference:
        raise PaymentRefused("Give the reference of your transfer, so that staff can find it.", "reference")
    payment = Payment.objects.create(
        user=user, method=method, gateway=method.gateway, amount=quote.amount, fee=quote.fee, total=quote.total,
        bonus=quote.bonus, currency=quote.currency, status=Status.REVIEW, customer_reference=reference[:255],
        review_reason="Manual payment: check that the transfer arrived, then approve or reject it.",
    )
    staff_notice_create(subject=f"Payment #{payment.pk} to check: {money_str(quote.total)} {quote.currency} by "
                                f"{method.name} from {user.username}",
                        body=f"Reference given: {payment.customer_reference}", level=StaffNotice.Level.INFO)
    announce.payment_needs_review.send(sender=Payment, payment_id=payment.pk,
                                       reason=f"A {method.name} transfer to check (reference {payment.customer_reference}).")
    return payment


def _fail_unmade(payment: Payment, reason: str) -> None:
    log.warning("payment %s: not created at %s: %s", payment.pk, payment.gateway, reason)
    Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
        status=Status.FAILED, failure_reason=reason[:500], updated_at=timezone.now())
    payment.status, payment.failure_reason = Status.FAILED, reason[:500]


def payment_urls(payment: Payment) -> Urls:
    """Absolute addresses for the gateway, from SITE_URL (never from a request's Host header, which the
    visitor chooses)."""
    site = settings.SITE_URL.rstrip("/")
    page = site + reverse("payments:detail", args=[payment.reference])
    return Urls(notify=site + reverse("payments:webhook", args=[payment.gateway]),
                success=page + "?returned=1", cancel=page + "?canceled=1")


# --- What a gateway says ------------------------------------------------------------------------------


def notice_apply(*, gateway: str, notice: Notice, source: str = "webhook") -> str:
    """Act on one verified notice, at most once per event ID. Returns what was done, in a line for staff.

    One transaction: the event row first (a second copy of it, even one arriving at the same moment, waits
    on the unique index and then is recognised as a duplicate), then the payment's row lock, then the
    conditional UPDATE and the ledger rows.
    """
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    event = GatewayEvent.objects.create(
                        gateway=gateway, event_id=notice.event_id[:255], kind=notice.kind[:100], source=source,
                        payload=scrub(dict(notice.payload)))
            except IntegrityError:
                return "duplicate: already received"
            payment = _find_locked(gateway, notice)
            outcome = _unplaced(gateway, notice) if payment is None else _act(payment, notice)
            GatewayEvent.objects.filter(pk=event.pk).update(payment=payment, outcome=outcome[:500])
    except IntegrityError:
        # A constraint refused what this notice would have written (a second credit past the conditional
        # UPDATE): nothing of it was kept and the money is as it was. Raised on, so that the gateway sends it
        # again; by then the payment's state answers it.
        log.exception("payment notice %s %s refused by the database's constraints", gateway, notice.event_id)
        raise
    return outcome


def _find_locked(gateway: str, notice: Notice) -> Payment | None:
    # Only the payment's row is locked (`of`): not its method's, which every payment by that method shares.
    payments = Payment.objects.select_for_update(of=("self",), no_key=True).select_related("method", "user").filter(gateway=gateway)
    try:
        reference = uuid.UUID(str(notice.reference)) if notice.reference else None
    except ValueError:
        reference = None
    for lookup in ({"reference": reference}, {"gateway_ref": notice.gateway_ref or None},
                   {"gateway_charge_ref": notice.charge_ref}):
        value = next(iter(lookup.values()))
        if value:
            payment = payments.filter(**lookup).first()
            if payment is not None:
                return payment
    return None


def _unplaced(gateway: str, notice: Notice) -> str:
    """A notification no payment of ours answers to: never credited, always shown to staff."""
    if notice.outcome == Outcome.PENDING:
        return "ignored: no such payment here, and nothing happened to it"
    notice_once(f"{gateway} sent a notification for a payment the panel does not know ({notice.outcome})",
                f"Event {notice.event_id}, gateway ID {notice.gateway_ref or '—'}, reference {notice.reference or '—'}."
                " Nothing was credited. Check it in the gateway's dashboard.", level=StaffNotice.Level.ERROR)
    return "before staff: no payment here answers to it"


def _act(payment: Payment, notice: Notice) -> str:
    _keep_refs(payment, notice)
    if notice.gateway_ref and payment.gateway_ref and notice.gateway_ref != payment.gateway_ref:
        return _to_review(payment, f"The gateway's notice names its payment {notice.gateway_ref}, but this payment "
                                   f"is {payment.gateway_ref} there.", from_statuses=[Status.PENDING])
    handler = {
        Outcome.PENDING: lambda p, n: "still pending",
        Outcome.PAID: _paid,
        Outcome.PARTIAL: _paid,
        Outcome.OVERPAID: _paid,
        Outcome.FAILED: _failed,
        Outcome.EXPIRED: _expired,
        Outcome.REFUNDED: _refunded,
        Outcome.DISPUTED: _disputed,
        Outcome.REVIEW: lambda p, n: _to_review(p, f"The gateway holds it: {n.detail or n.kind}.",
                                                from_statuses=[Status.PENDING]),
    }[notice.outcome]
    return handler(payment, notice)


def _keep_refs(payment: Payment, notice: Notice) -> None:
    changes = {}
    if notice.gateway_ref and not payment.gateway_ref:
        changes["gateway_ref"] = notice.gateway_ref[:255]
    if notice.charge_ref and not payment.gateway_charge_ref:
        changes["gateway_charge_ref"] = notice.charge_ref[:255]
    if changes:
        Payment.objects.filter(pk=payment.pk).update(**changes)
        for name, value in changes.items():
            setattr(payment, name, value)


def _mismatch(payment: Payment, notice: Notice) -> str:
    if notice.amount is None or notice.currency.upper() != payment.currency.upper() or \
            to_money(notice.amount) != payment.total:
        return (f"The gateway says it was for {_said(notice.amount)} {notice.currency.upper() or '?'}, but the panel "
                f"asked for {money_str(payment.total)} {payment.currency}.")
    if notice.outcome in (Outcome.PARTIAL, Outcome.OVERPAID) and notice.received is None:
        return "The gateway says a different amount arrived, but not how much."
    if notice.outcome == Outcome.PARTIAL and notice.received is not None and not 0 <= notice.received < payment.total:
        return (f"The gateway says too little arrived, yet gives {money_str(notice.received)} "
                f"{payment.currency} of {money_str(payment.total)}.")
    if notice.outcome == Outcome.OVERPAID and notice.received is not None and not notice.received > payment.total:
        return (f"The gateway says too much arrived, yet gives {money_str(notice.received)} "
                f"{payment.currency} of {money_str(payment.total)}.")
    return ""


def _said(amount: Decimal | None) -> str:
    return "an unknown amount" if amount is None else money_str(amount)


def _paid(payment: Payment, notice: Notice) -> str:
    if payment.status == Status.PAID:
        return "nothing: already credited"
    if payment.status in (Status.REFUNDED, Status.DISPUTED):
        notice_once(f"Payment #{payment.pk} of {payment.user.username}: the gateway says paid after it was "
                    f"{payment.get_status_display().lower()}",
                    f"Event {notice.event_id}. Nothing was credited again; check the payment at the gateway.",
                    level=StaffNotice.Level.ERROR)
        return f"before staff: paid again after it was {payment.get_status_display().lower()}; nothing credited"
    if payment.status == Status.REVIEW:
        return "nothing: already before staff"
    problem = _mismatch(payment, notice)
    if not problem and payment.status != Status.PENDING:
        problem = (f"The gateway says it was paid, but the panel had marked it {payment.get_status_display().lower()}"
                   f"{': ' + payment.failure_reason if payment.failure_reason else ''}.")
    if problem:
        return _to_review(payment, problem, from_statuses=[Status.PENDING, Status.FAILED, Status.EXPIRED])
    deposit, bonus, note = payment.amount, payment.bonus, ""
    received = notice.received  # never None with these outcomes: _mismatch sent such notices to staff
    if notice.outcome == Outcome.PARTIAL and received is not None:
        unit = _unit(payment.currency)
        deposit = to_money((payment.amount * received / payment.total).quantize(unit, rounding=ROUND_DOWN))
        bonus = ZERO
        note = (f"Only {money_str(received)} of {money_str(payment.total)} {payment.currency} arrived: "
                f"credited {money_str(deposit)}, no bonus.")
        if deposit <= 0:
            return _to_review(payment, note, from_statuses=[Status.PENDING])
    elif notice.outcome == Outcome.OVERPAID and received is not None:
        extra = to_money(received - payment.total)
        note = (f"{money_str(received)} {payment.currency} arrived for {money_str(payment.total)} asked: "
                f"credited what was asked; {money_str(extra)} more is for staff to decide on.")
        notice_once(f"Payment #{payment.pk} of {payment.user.username} was overpaid by {money_str(extra)} "
                    f"{payment.currency}", note + " Add it with a staff adjustment, or refund it at the gateway.")
    if not _credit(payment, deposit=deposit, bonus=bonus, from_statuses=[Status.PENDING], note=note):
        return "nothing: it was settled meanwhile"
    return f"credited {money_str(deposit)}" + (f" and a bonus of {money_str(bonus)}" if bonus else "")


def _credit(payment: Payment, *, deposit: Decimal, bonus: Decimal, from_statuses: list[str], note: str = "",
            staff=None) -> bool:
    """pending (or review) → paid by one conditional UPDATE, with the deposit and bonus rows. Inside the
    caller's transaction."""
    now = timezone.now()
    changes = {"status": Status.PAID, "credited": deposit, "bonus_credited": bonus, "paid_at": now, "updated_at": now}
    if note:
        changes["review_reason"] = note[:2000]
    if staff is not None:
        changes.update(reviewed_by=staff, reviewed_at=now)
    if Payment.objects.filter(pk=payment.pk, status__in=from_statuses).update(**changes) != 1:
        return False
    for name, value in changes.items():
        setattr(payment, name, value)
    label = f"Payment #{payment.pk} ({payment.method.name})"
    wallet_credit_payment(user_id=payment.user_id, payment_id=payment.pk, amount=deposit,
                          kind=LedgerEntry.Kind.DEPOSIT, note=label, created_by=staff)
    if bonus > 0:
        wallet_credit_payment(user_id=payment.user_id, payment_id=payment.pk, amount=bonus,
                              kind=LedgerEntry.Kind.BONUS, note=f"Bonus on {label}", created_by=staff)
    announce.payment_credited.send(sender=Payment, payment_id=payment.pk)
    return True


def _to_review(payment: Payment, reason: str, *, from_statuses: list[str]) -> str:
    moved = Payment.objects.filter(pk=payment.pk, status__in=from_statuses).update(
        status=Status.REVIEW, review_reason=reason[:2000], updated_at=timezone.now())
    notice_once(f"Payment #{payment.pk} of {payment.user.username} needs a decision", reason,
                level=StaffNotice.Level.ERROR)
    announce.payment_needs_review.send(sender=Payment, payment_id=payment.pk, reason=reason)
    if moved:
        payment.status, payment.review_reason = Status.REVIEW, reason[:2000]
        return f"before staff: {reason}"
    return f"before staff (left {payment.get_status_display().lower()}): {reason}"


def _failed(payment: Payment, notice: Notice) -> str:
    reason = notice.detail or "The gateway says the payment failed."
    if Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
            status=Status.FAILED, failure_reason=reason[:500], updated_at=timezone.now()):
        payment.status, payment.failure_reason = Status.FAILED, reason[:500]
        return "failed"
    return f"nothing: it is {payment.get_status_display().lower()}"


def _expired(payment: Payment, notice: Notice) -> str:
    if _expire(payment, notice.detail or "The gateway's page closed unpaid."):
        return "expired"
    return f"nothing: it is {payment.get_status_display().lower()}"


def _expire(payment: Payment, reason: str) -> bool:
    if Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
            status=Status.EXPIRED, failure_reason=reason[:500], updated_at=timezone.now()):
        payment.status, payment.failure_reason = Status.EXPIRED, reason[:500]
        return True
    return False


def _credited_in_all(payment: Payment) -> Decimal:
    return payment.credited + payment.bonus_credited


def _share(payment: Payment, gateway_amount: Decimal) -> Decimal:
    """What the ledger must give back for `gateway_amount` of the payment's total: the same share of the
    deposit and the bonus together (a bonus earned by a payment goes with it)."""
    share = min(gateway_amount / payment.total, Decimal(1))
    return to_money(_credited_in_all(payment) * share)


def _refunded(payment: Payment, notice: Notice) -> str:
    if payment.status not in (Status.PAID, Status.REFUNDED, Status.DISPUTED):
        notice_once(f"Payment #{payment.pk}: the gateway refunded a payment the panel never credited",
                    f"It is {payment.get_status_display().lower()} here. Nothing was taken back.")
        return f"nothing to take back: it is {payment.get_status_display().lower()}"
    other_charge = notice.amount is not None and to_money(notice.amount) != payment.total
    if notice.refunded is None or other_charge or (notice.currency and notice.currency.upper() != payment.currency.upper()):
        return _tell_staff_of_take_back(payment, "The gateway refunded it, but not in an amount the panel can read; "
                                                 "nothing was taken back.")
    owed = _share(payment, notice.refunded) - payment.taken_back
    if owed <= 0:
        return "nothing more to take back"
    whole = notice.refunded >= payment.total
    status = Status.REFUNDED if whole and payment.status == Status.PAID else payment.status
    _take_back(payment, amount=owed, kind=LedgerEntry.Kind.PAYMENT_REFUND, status=status,
               note=f"Payment #{payment.pk} refunded by the gateway ({money_str(notice.refunded)} "
                    f"{payment.currency})")
    return _tell_staff_of_take_back(payment, f"Refunded at the gateway: took back {money_str(owed)}.")


def _disputed(payment: Payment, notice: Notice) -> str:
    if payment.status not in (Status.PAID, Status.REFUNDED):
        if payment.status == Status.DISPUTED:
            return "nothing more: already disputed"
        notice_once(f"Payment #{payment.pk}: a dispute of a payment the panel never credited",
                    f"It is {payment.get_status_display().lower()} here. Nothing was taken back.",
                    level=StaffNotice.Level.ERROR)
        return f"nothing to take back: it is {payment.get_status_display().lower()}"
    disputed = notice.refunded if notice.refunded is not None else payment.total
    owed = min(_share(payment, disputed), _credited_in_all(payment) - payment.taken_back)
    if owed > 0:
        _take_back(payment, amount=owed, kind=LedgerEntry.Kind.DISPUTE, status=Status.DISPUTED,
                   note=f"Payment #{payment.pk} disputed at the gateway ({money_str(disputed)} {payment.currency})")
    else:
        Payment.objects.filter(pk=payment.pk).update(status=Status.DISPUTED, updated_at=timezone.now())
    return _tell_staff_of_take_back(payment, f"Disputed at the gateway: took back {money_str(max(owed, ZERO))}.")


def _take_back(payment: Payment, *, amount: Decimal, kind: str, status: str, note: str) -> None:
    """Raise taken_back by a conditional UPDATE on the value this transaction read (under the row lock), and
    write the ledger row that takes the money from the balance, even below zero."""
    moved = Payment.objects.filter(pk=payment.pk, taken_back=payment.taken_back).update(
        taken_back=F("taken_back") + amount, status=status, updated_at=timezone.now())
    if moved != 1:
        raise IntegrityError(f"payment {payment.pk} changed while its refund was written")
    payment.taken_back, payment.status = payment.taken_back + amount, status
    wallet_take_back_payment(user_id=payment.user_id, payment_id=payment.pk, amount=amount, kind=kind, note=note)


def _tell_staff_of_take_back(payment: Payment, what: str) -> str:
    reason = f"Payment #{payment.pk}: {what}"
    customer_flag(user_id=payment.user_id, reason=reason)
    notice_once(f"Payment #{payment.pk} of {payment.user.username}: money taken back by the gateway",
                f"{what} Their balance may now be below zero; they cannot order until it is not.",
                level=StaffNotice.Level.ERROR)
    return what


# --- Staff decisions ----------------------------------------------------------------------------------


def payment_approve(*, payment_id: int, staff, amount: Decimal | None = None, note: str = "") -> Payment:
    """Staff checked it (a manual transfer arrived, or a gateway payment put before them is good): credit it.
    `amount` is what to credit, the amount asked when left out. Raises PaymentRefused."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",), no_key=True).select_related("method", "user").filter(
            pk=payment_id).first()
        if payment is None or payment.status != Status.REVIEW:
            raise PaymentRefused("Only a payment under review can be approved.")
        deposit = payment.amount if amount is None else to_money(amount)
        if deposit <= 0:
            raise PaymentRefused("Enter an amount above zero.", "amount")
        bonus = payment.bonus if deposit == payment.amount else to_money(
            _bonus(payment.method, deposit, _unit(payment.currency)))
        text = f"Approved by {staff.username}" + (f": {note.strip()}" if note.strip() else "") + \
            (f" (credited {money_str(deposit)} of {money_str(payment.amount)} asked)" if deposit != payment.amount else "")
        if not _credit(payment, deposit=deposit, bonus=bonus, from_statuses=[Status.REVIEW], note=text, staff=staff):
            raise PaymentRefused("Only a payment under review can be approved.")
        _staff_event(payment, "approved", staff, {"credited": money_str(deposit), "bonus": money_str(bonus),
                                                  "note": note.strip()})
        audit(actor=staff, action="payment.approve", target=payment, before={"status": Status.REVIEW},
              after={"status": Status.PAID, "credited": money_str(deposit), "bonus": money_str(bonus)}, note=note)
    return payment


def payment_reject(*, payment_id: int, staff, reason: str) -> Payment:
    """Staff found nothing arrived (or the payment is not good): failed, nothing credited."""
    reason = reason.strip()
    if not reason:
        raise PaymentRefused("Say why, for the customer and the record.", "reason")
    with transaction.atomic():
        payment = Payment.objects.select_for_update(no_key=True).filter(pk=payment_id).first()
        now = timezone.now()
        if payment is None or not Payment.objects.filter(pk=payment_id, status=Status.REVIEW).update(
                status=Status.FAILED, failure_reason=f"Rejected: {reason}"[:500], reviewed_by=staff, reviewed_at=now,
                updated_at=now):
            raise PaymentRefused("Only a payment under review can be rejected.")
        _staff_event(payment, "rejected", staff, {"reason": reason})
        audit(actor=staff, action="payment.reject", target=payment, before={"status": Status.REVIEW},
              after={"status": Status.FAILED}, note=reason)
        payment.refresh_from_db()
    return payment


def _staff_event(payment: Payment, kind: str, staff, data: dict) -> None:
    GatewayEvent.objects.create(gateway=payment.gateway, event_id=f"staff:{uuid.uuid4()}", kind=kind, source="staff",
                                payment=payment, payload={"by": staff.username, **data},
                                outcome=f"{kind} by {staff.username}")


# --- The gateway's own state: missed webhooks, expiry ---------------------------------------------------


def payment_check(payment_id: int, *, min_gap_seconds: float | None = None) -> str:
    """Ask the gateway about a pending payment and act on its answer; expire it once past its time. One
    asker at a time: a conditional UPDATE of `checked_at` claims it."""
    gap = settings.PAYMENT_CHECK_AFTER_SECONDS if min_gap_seconds is None else min_gap_seconds
    now = timezone.now()
    claimed = Payment.objects.filter(pk=payment_id, status=Status.PENDING).filter(
        Q(checked_at__isnull=True) | Q(checked_at__lte=now - timedelta(seconds=gap))).update(checked_at=now)
    if not claimed:
        return "skipped"
    payment = Payment.objects.select_related("method", "user").get(pk=payment_id)
    past_expiry = payment.expires_at is not None and payment.expires_at <= now
    if not payment.redirect_url:
        if now - payment.created_at > timedelta(seconds=settings.PAYMENT_CHECK_AFTER_SECONDS):
            _fail_never_made(payment, "It never reached the gateway.")
            return "failed: never reached the gateway"
        return "not at the gateway yet"
    try:
        notice = gateways.get_gateway(payment.gateway).fetch(payment)
    except (GatewayError, gateways.NotConfigured) as exc:
        log.warning("payment %s: could not ask %s about it: %s", payment.pk, payment.gateway, exc)
        grace = timedelta(seconds=settings.PAYMENT_EXPIRY_GRACE_SECONDS)
        if payment.expires_at is not None and payment.expires_at + grace <= now and _expire(
                payment, "Expired; the gateway could not be asked about it."):
            return "expired (the gateway could not be asked)"
        return "the gateway could not be asked"
    outcome = notice_apply(gateway=payment.gateway, notice=notice, source="fetch")
    if past_expiry and _expire(payment, "Not paid in time."):
        return f"{outcome}; expired"
    return outcome


def _fail_never_made(payment: Payment, reason: str) -> None:
    Payment.objects.filter(pk=payment.pk, status=Status.PENDING).update(
        status=Status.FAILED, failure_reason=reason, updated_at=timezone.now())


def payments_due_for_check(*, limit: int = 500) -> list[int]:
    """Pending payments whose webhook is overdue (older than PAYMENT_CHECK_AFTER_SECONDS) or which are past
    their expiry, and which nobody asked about within that time."""
    now = timezone.now()
    overdue = now - timedelta(seconds=settings.PAYMENT_CHECK_AFTER_SECONDS)
    return list(
        Payment.objects.filter(status=Status.PENDING)
        .filter(Q(created_at__lte=overdue) | Q(expires_at__lte=now))
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=overdue))
        .order_by("created_at").values_list("pk", flat=True)[:limit]
    )


def payments_reconcile() -> dict[str, int]:
    """One round of the beat task: ask about every pending payment that is due. Returns counts by outcome."""
    counts: dict[str, int] = {}
    for payment_id in payments_due_for_check():
        try:
            outcome = payment_check(payment_id)
        except Exception:  # one payment's trouble must not stop the others
            log.exception("payment %s: the check failed", payment_id)
            outcome = "error"
        key = outcome.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


# --- Staff: methods -----------------------------------------------------------------------------------


METHOD_FIELDS = ("name", "gateway", "enabled", "min_amount", "max_amount", "fee_percent", "bonus_percent",
                 "bonus_from", "instructions", "display_order")


@transaction.atomic
def method_save(*, method: PaymentMethod, actor=None) -> PaymentMethod:
    """Create or change a payment method, as the staff form built it."""
    stored = PaymentMethod.objects.filter(pk=method.pk).first() if method.pk else None
    before = snapshot(stored, METHOD_FIELDS) if stored else {}
    method.full_clean()
    method.save()
    was, now = changed(before, snapshot(method, METHOD_FIELDS))
    audit(actor=actor, action="payment_method.update" if stored else "payment_method.add", target=method,
          before=was, after=now)
    return method
