"""The new-order form: a service and the fields its type takes.

Every input is collected as text; the rules (what is required, limits, links, prices) live in one place,
smmapi.orders via orders.services.order_quote, and its refusals are put next to the field they name.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms

from smmapi import normalize_service_type
from smmapi.orders import (
    DRIPFEED_TYPES,
    LINE_COUNTED,
    PACKAGES,
    SUBSCRIPTION_DELAYS,
    WEB_TRAFFIC_DEVICES,
    WEB_TRAFFIC_KINDS,
)
from smmapi.status import SERVICE_TYPE_FIELDS, ServiceType

from .services import OrderRefused, order_quote

# Prices a would-be order while the link is still missing: the link does not change the charge.
PLACEHOLDER_LINK = "https://example.com/"


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str = "text"  # text | number | lines | select
    help: str = ""
    optional: bool = False
    choices: tuple = ()
    placeholder: str = ""


FIELD_SPECS = {
    "link": FieldSpec("Link", help="The full address, starting with https://", placeholder="https://"),
    "quantity": FieldSpec("Quantity", "number"),
    "runs": FieldSpec("Runs", "number", "Drip-feed: deliver the quantity this many times. Leave empty for one go.",
                      optional=True),
    "interval": FieldSpec("Interval (minutes)", "number", "Drip-feed: minutes between runs.", optional=True),
    "comments": FieldSpec("Comments", "lines", "One comment per line."),
    "usernames": FieldSpec("Usernames", "lines", "One username per line."),
    "hashtags": FieldSpec("Hashtags", "lines", "One hashtag per line."),
    "hashtag": FieldSpec("Hashtag", placeholder="#"),
    "username": FieldSpec("Username"),
    "media": FieldSpec("Media link", placeholder="https://"),
    "keywords": FieldSpec("Keywords", "lines", "One keyword per line."),
    "country": FieldSpec("Country", help="A country code or name, e.g. US or United States."),
    "device": FieldSpec("Device", "select", choices=(("", "Choose a device"), *WEB_TRAFFIC_DEVICES.items())),
    "type_of_traffic": FieldSpec("Type of traffic", "select",
                                 choices=(("", "Choose a type"), *WEB_TRAFFIC_KINDS.items())),
    "google_keyword": FieldSpec("Google keyword", help="Needed for Google keyword traffic.", optional=True),
    "referring_url": FieldSpec("Referring URL", help="Needed for custom referrer traffic.", optional=True,
                               placeholder="https://"),
    "answer_number": FieldSpec("Answer number", "number", "The number of the poll answer to vote for."),
    "min": FieldSpec("Min per post", "number"),
    "max": FieldSpec("Max per post", "number"),
    "posts": FieldSpec("New posts", "number", "How many future posts to deliver to."),
    "old_posts": FieldSpec("Old posts", "number", "How many existing posts to deliver to as well.", optional=True),
    "delay": FieldSpec("Delay (minutes)", "select",
                       choices=tuple((d, "No delay" if d == 0 else f"{d} minutes") for d in SUBSCRIPTION_DELAYS)),
    "expiry": FieldSpec("Expiry", help="Day/month/year, e.g. 31/12/2030.", optional=True, placeholder="dd/mm/yyyy"),
}
DRIPFEED_FIELDS = ("runs", "interval")


def order_field_names(service) -> tuple[str, ...]:
    """The inputs the service's type takes, link first; drip-feed fields only when the service allows it."""
    service_type = normalize_service_type(service.type)
    # An unknown type is ordered like Default (link and quantity), as order_quote validates it.
    names = ("quantity",) if service_type == ServiceType.OTHER else SERVICE_TYPE_FIELDS[service_type]
    if not (service.dripfeed and service_type in DRIPFEED_TYPES):
        names = tuple(name for name in names if name not in DRIPFEED_FIELDS)
    return ("link", *names)


def is_package(service) -> bool:
    return normalize_service_type(service.type) in PACKAGES


def price_label(service) -> str:
    return "per package" if is_package(service) else "per 1000"


def _limits_help(service, name: str) -> str:
    low, high = service.min_quantity, service.max_quantity
    service_type = normalize_service_type(service.type)
    if name == "quantity" or name in ("min", "max"):
        return f"Min {low} · max {high}."
    if LINE_COUNTED.get(service_type) == name:
        return f"{low} to {high} lines."
    return ""


def _build_field(name: str, service) -> forms.Field:
    spec = FIELD_SPECS.get(name) or FieldSpec(name.replace("_", " ").capitalize())
    optional = spec.optional or (name == "link" and normalize_service_type(service.type) == ServiceType.SUBSCRIPTIONS)
    attrs = {"placeholder": spec.placeholder} if spec.placeholder else {}
    if spec.kind == "number":
        attrs.update(inputmode="numeric", step="1", min="1" if name != "old_posts" else "0")
        if name in ("quantity", "min", "max"):
            attrs.update(min=str(service.min_quantity), max=str(service.max_quantity))
        widget: forms.Widget = forms.NumberInput(attrs=attrs)
    elif spec.kind == "lines":
        widget = forms.Textarea(attrs={**attrs, "rows": 5})
    elif spec.kind == "select":
        widget = forms.Select(choices=spec.choices, attrs=attrs)
    else:
        widget = forms.TextInput(attrs=attrs)
    help_text = " ".join(part for part in (spec.help, _limits_help(service, name)) if part)
    label = f"{spec.label} (optional)" if optional else spec.label
    return forms.CharField(label=label, required=False, help_text=help_text, widget=widget)


@dataclass
class LiveQuote:
    """What the page shows while the customer types: the charge if it can be worked out, and the problems."""

    charge: Decimal | None = None
    units: int | None = None
    quantity: int | None = None
    runs: int | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field label, message)


class OrderForm(forms.Form):
    """The service and the inputs its type takes. Collects text only: order_quote/order_place judge it."""

    category = forms.CharField(required=False, label="Category")
    service = forms.CharField(required=False, label="Service")

    def __init__(self, data=None, *, service=None, **kwargs):
        super().__init__(data, **kwargs)
        self.chosen_service = service
        self.type_field_names = order_field_names(service) if service is not None else ()
        for name in self.type_field_names:
            self.fields[name] = _build_field(name, service)

    @property
    def type_fields(self):
        return [self[name] for name in self.type_field_names]

    def order_inputs(self) -> dict[str, str]:
        """The inputs to hand to order_quote / order_place: all empty on a form not yet filled in."""
        if not self.is_valid():  # every input is optional text: this only fills cleaned_data
            return dict.fromkeys(self.type_field_names, "")
        return {name: self.cleaned_data.get(name, "") for name in self.type_field_names}

    def refuse(self, refused: OrderRefused) -> None:
        """Put a refusal next to the input it names, or above the form when it names none."""
        self.add_error(refused.field if refused.field in self.fields else None, refused.message)

    def live_quote(self) -> LiveQuote:
        """Price the order as it stands. A missing link does not hide the charge: it is priced without it."""
        fields = self.order_inputs()
        try:
            return self._quoted(fields)
        except OrderRefused as refused:
            if refused.field != "link":
                return LiveQuote(problems=[self._problem(refused)])
            link_problem = self._problem(refused)
        try:
            quote = self._quoted({**fields, "link": PLACEHOLDER_LINK})
        except OrderRefused as refused:
            return LiveQuote(problems=[link_problem, self._problem(refused)])
        quote.problems.append(link_problem)
        return quote

    def _quoted(self, fields) -> LiveQuote:
        order = order_quote(service=self.chosen_service, fields=fields).order
        return LiveQuote(charge=order.charge, units=order.units, quantity=order.quantity, runs=order.runs)

    def _problem(self, refused: OrderRefused) -> tuple[str, str]:
        """(label, message); the label only when the message does not already say which input it means."""
        field = self.fields.get(refused.field)
        label = str(field.label or "") if field is not None else ""  # every field here has its label
        if label.split(" (")[0].lower() in refused.message.lower():
            label = ""
        return (label, refused.message)


_CHOICE_NAMES = {"device": WEB_TRAFFIC_DEVICES, "type_of_traffic": WEB_TRAFFIC_KINDS}
_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_SPECS)}


def param_rows(params: dict) -> list[tuple[str, object]]:
    """An order's stored type fields as (label, value) rows for people, in form order, choices by name."""
    rows = []
    for name in sorted(params, key=lambda n: (_FIELD_ORDER.get(n, len(_FIELD_ORDER)), n)):
        spec = FIELD_SPECS.get(name)
        value = params[name]
        if name in _CHOICE_NAMES:
            value = _CHOICE_NAMES[name].get(value, value)
        rows.append((spec.label if spec else name.replace("_", " ").capitalize(), value))
    return rows
