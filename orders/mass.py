"""Mass orders: many `service_id | link | quantity` lines at once.

`mass_preview` reads the text and gives every line its verdict (the charge, or the exact problem) and
the total; it writes nothing. `mass_place` judges the same text again and places every good line through
order_place, each in its own transaction: a line refused at placement (the balance ran out half-way) is
reported and the orders before it stay placed.
"""

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.models import Service
from catalog.selectors import apply_customer_prices
from smmapi import normalize_service_type
from smmapi.status import SERVICE_TYPE_FIELDS

from .forms import DRIPFEED_FIELDS
from .models import Order
from .services import OrderRefused, order_place, order_quote

MAX_LINES = 500
FORMAT = "service_id | link | quantity"
# Types a mass line can express: nothing but a link and a quantity (drip-feed stays on the New order page).
MASS_TYPES = frozenset(
    service_type for service_type, names in SERVICE_TYPE_FIELDS.items()
    if tuple(n for n in names if n not in DRIPFEED_FIELDS) == ("quantity",)
)


@dataclass
class MassLine:
    number: int  # 1-based, counting the lines of the text as typed
    text: str
    service_id: int | None = None
    link: str = ""
    quantity: str = ""
    service: Service | None = None
    charge: Decimal | None = None
    error: str = ""
    order: Order | None = None

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class MassBatch:
    lines: list[MassLine] = field(default_factory=list)
    error: str = ""  # a problem with the whole text: nothing is placed
    balance: Decimal | None = None

    @property
    def ok_lines(self) -> list[MassLine]:
        return [line for line in self.lines if line.ok]

    @property
    def total(self) -> Decimal:
        return sum((line.charge for line in self.ok_lines if line.charge is not None), Decimal("0"))

    @property
    def covered(self) -> bool:
        return self.balance is not None and self.total <= self.balance

    @property
    def placed(self) -> list[MassLine]:
        return [line for line in self.lines if line.order is not None]


def parse_lines(text: str) -> list[MassLine]:
    """Split the text into lines, skipping blank ones. Only the shape is checked here."""
    lines = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if raw.strip():
            lines.append(_parse_line(number, raw.strip()))
    return lines


def _parse_line(number: int, text: str) -> MassLine:
    line = MassLine(number=number, text=text)
    if text.count("|") < 2:
        line.error = f"Malformed line: expected {FORMAT}."
        return line
    # The service is before the first bar and the quantity after the last: a link may hold a bar itself.
    service_id, rest = text.split("|", 1)
    link, quantity = rest.rsplit("|", 1)
    service_id = service_id.strip().lstrip("#")
    if not (service_id.isascii() and service_id.isdigit()) or len(service_id) > 18:
        line.error = f"Malformed line: the service ID must be a number ({FORMAT})."
        return line
    line.service_id, line.link, line.quantity = int(service_id), link.strip(), quantity.strip()
    return line


def mass_preview(*, user, text: str) -> MassBatch:
    """Every line's verdict and the total, against the user's current balance. Writes nothing."""
    lines = parse_lines(text)
    batch = MassBatch(lines=lines, balance=_balance(user))
    if len(lines) > MAX_LINES:
        batch.error = f"{len(lines)} lines: a mass order takes at most {MAX_LINES}. Split it up; nothing was placed."
        return batch
    if not lines:
        batch.error = f"Enter at least one line: {FORMAT}."
        return batch
    services = Service.objects.select_related("provider_service__provider").in_bulk(
        {line.service_id for line in lines if line.service_id is not None}
    )
    apply_customer_prices(services.values(), user)
    for line in lines:
        if line.ok:
            _judge(line, services.get(line.service_id))
    return batch


def _judge(line: MassLine, service: Service | None) -> None:
    if service is None:
        line.error = f"Service {line.service_id} does not exist."
    elif not service.enabled:
        line.error = f"Service {line.service_id} is not on sale."
    elif normalize_service_type(service.type) not in MASS_TYPES:
        line.error = (f"Service {line.service_id} ({service.type}) needs more than a link and a quantity: "
                      "order this service from the New order page.")
    else:
        line.service = service
        try:
            line.charge = order_quote(service=service, fields=_fields(line)).order.charge
        except OrderRefused as refused:
            line.error = refused.message


def _fields(line: MassLine) -> dict[str, str]:
    return {"link": line.link, "quantity": line.quantity}


def new_batch_id() -> str:
    return uuid.uuid4().hex


def mass_place(*, user, text: str, batch_id: str = "") -> MassBatch:
    """Judge the text again and place its good lines one by one; a refusal stays with its line.

    `batch_id` (handed out with the preview) makes each line's request ID: sending the same confirmed form
    twice (a refresh, a double click) returns the orders already placed instead of placing them again.
    """
    batch = mass_preview(user=user, text=text)
    if batch.error:
        return batch
    batch_id = batch_id if re.fullmatch(r"[0-9a-f]{32}", batch_id or "") else new_batch_id()
    for line in batch.ok_lines:
        try:
            line.order = order_place(user=user, service=line.service, fields=_fields(line),
                                     request_id=f"mass-{batch_id}-{line.number}")
        except OrderRefused as refused:
            line.error = refused.message
    batch.balance = _balance(user)
    return batch


def _balance(user) -> Decimal:
    user.refresh_from_db(fields=["balance"])
    return user.balance
