"""The one description of /api/v2: every action, the calls it takes, example answers, errors and add's types.

The dispatcher (api.py) builds its action table from `ACTIONS`, so an action is served if and only if it is
documented here; the customers' API page renders the same structures. Example answers are the seed's, with
money spelled as this panel spells it (5 places).
"""

import json
import shlex
from dataclasses import dataclass, field

from smmapi import SERVICE_TYPE_FIELDS, ServiceType

from . import errors

MAX_IDS = 100


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    optional: bool = False


@dataclass(frozen=True)
class Call:
    """One way to call an action: the fields it takes, an example request and the answer to it."""

    title: str
    params: tuple[Param, ...]
    example: dict
    answer: object

    @property
    def answer_json(self) -> str:
        return json.dumps(self.answer, indent=2)


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    calls: tuple[Call, ...] = field(default_factory=tuple)


KEY = Param("key", "Your API key")


def _action(name: str) -> Param:
    return Param("action", name)


def _status(charge: str, start_count: str, status: str, remains: str) -> dict:
    return {"charge": charge, "start_count": start_count, "status": status, "remains": remains, "currency": "USD"}


IDS_HELP = f"IDs separated by commas, up to {MAX_IDS}"

ACTIONS: tuple[Action, ...] = (
    Action("services", "The services on sale: the panel's service IDs, prices per 1000 and limits.", (
        Call("Service list", (KEY, _action("services")), {}, [
            {"service": 1, "name": "Followers", "type": "Default", "category": "First Category",
             "rate": "0.90000", "min": "50", "max": "10000", "refill": True, "cancel": True,
             "dripfeed": False, "desc": ""},
            {"service": 2, "name": "Comments", "type": "Custom Comments", "category": "Second Category",
             "rate": "8.00000", "min": "10", "max": "1500", "refill": False, "cancel": True,
             "dripfeed": False, "desc": ""},
        ]),
    )),
    Action("add", "Place an order. The fields besides service and link depend on the service's type (below).", (
        Call("Add order", (
            KEY, _action("add"), Param("service", "Service ID"), Param("link", "Link to page"),
            Param("quantity", "Needed quantity (most types; see the types below)"),
            Param("runs", "Runs to deliver (drip-feed services)", optional=True),
            Param("interval", "Interval in minutes (drip-feed services)", optional=True),
            Param("request_id", "Your own ID for this request, up to 100 characters. Sent again (say after a "
                                "dropped connection), it answers the order the first request placed instead "
                                "of placing and charging a second one.", optional=True),
        ), {"service": 1, "link": "https://instagram.com/p/abc", "quantity": 1000}, {"order": 23501}),
    )),
    Action("status", "Where orders stand. `start_count` is \"0\" until the provider reports it; `remains` is "
                     "the whole quantity until it reports what is left; `charge` is what the order costs you "
                     "now: its price less anything refunded.", (
        Call("Order status", (KEY, _action("status"), Param("order", "Order ID")), {"order": 23501},
             _status("0.27819", "3572", "Partial", "157")),
        Call("Multiple orders status", (KEY, _action("status"), Param("orders", f"Order {IDS_HELP}")),
             {"orders": "1,10,100"}, {
                 "1": _status("0.27819", "3572", "Partial", "157"),
                 "10": {"error": errors.INCORRECT_ORDER},
                 "100": _status("1.44219", "234", "In progress", "10"),
             }),
    )),
    Action("refill", "Ask for a refill of completed orders, where the service offers refills.", (
        Call("Create refill", (KEY, _action("refill"), Param("order", "Order ID")), {"order": 23501},
             {"refill": "1"}),
        Call("Create multiple refill", (KEY, _action("refill"), Param("orders", f"Order {IDS_HELP}")),
             {"orders": "1,2,3"}, [
                 {"order": 1, "refill": 1}, {"order": 2, "refill": 2},
                 {"order": 3, "refill": {"error": errors.INCORRECT_ORDER}},
             ]),
    )),
    Action("refill_status", "Where refills stand: Pending, In progress, Completed or Rejected.", (
        Call("Get refill status", (KEY, _action("refill_status"), Param("refill", "Refill ID")), {"refill": 1},
             {"status": "Completed"}),
        Call("Get multiple refill status",
             (KEY, _action("refill_status"), Param("refills", f"Refill {IDS_HELP}")), {"refills": "1,2,3"}, [
                 {"refill": 1, "status": "Completed"}, {"refill": 2, "status": "Rejected"},
                 {"refill": 3, "status": {"error": errors.REFILL_NOT_FOUND}},
             ]),
    )),
    Action("cancel", "Cancel orders. One not yet sent upstream is canceled and refunded at once; one already "
                     "placed is canceled upstream and refunded when the provider confirms.", (
        Call("Create cancel", (KEY, _action("cancel"), Param("orders", f"Order {IDS_HELP}")), {"orders": "9,2"}, [
            {"order": 9, "cancel": {"error": errors.INCORRECT_ORDER}}, {"order": 2, "cancel": 1},
        ]),
    )),
    Action("balance", "Your balance, in the panel's currency.", (
        Call("User balance", (KEY, _action("balance")), {}, {"balance": "100.84292", "currency": "USD"}),
    )),
)

ACTION_NAMES: tuple[str, ...] = tuple(action.name for action in ACTIONS)

ERRORS: tuple[tuple[str, str], ...] = (
    (errors.INVALID_KEY, "The key is missing, wrong, rotated away, or its account is disabled."),
    (errors.ADDRESS_NOT_ALLOWED, "Your key has a list of allowed addresses and this call came from another one; "
                                 "nothing was done."),
    (errors.INCORRECT_REQUEST, "Unknown action, or a field missing or malformed."),
    (errors.INCORRECT_SERVICE, "No such service, or it is not on sale."),
    (errors.INCORRECT_ORDER, "No such order of yours (also per item in multi-ID answers)."),
    ("Quantity less than minimal N", "Below the service's minimum."),
    ("Quantity more than maximal N", "Above the service's maximum."),
    ("Not enough funds on balance", "The balance does not cover the charge; nothing was ordered."),
    ("Incorrect link", "The link is empty, too long or not an http(s) address."),
    (errors.REFILL_NOT_FOUND, "No such refill of yours (refill_status)."),
    (errors.TOO_MANY_IDS, f"More than {MAX_IDS} IDs in one request."),
    (errors.TOO_MANY_REQUESTS, "More requests this minute than your key may make; wait for the next minute."),
    (errors.INTERNAL_ERROR, "Something broke on our side; nothing you sent is at fault."),
)

# What each `add` field means, for the table of fields by service type.
FIELD_HELP = {
    "quantity": "Needed quantity",
    "runs": "Runs to deliver (drip-feed; quantity is per run)",
    "interval": "Interval in minutes between runs",
    "comments": "Comments, one a line (\\n or \\r\\n); the quantity is the number of lines",
    "country": "Country code or full country name: \"US\" or \"United States\"",
    "device": "1 Desktop, 2 Mobile (Android), 3 Mobile (iOS), 4 Mixed (Mobile), 5 Mixed (Mobile & Desktop)",
    "type_of_traffic": "1 Google keyword, 2 Custom referrer, 3 Blank referrer",
    "google_keyword": "Required if type_of_traffic = 1",
    "referring_url": "Required if type_of_traffic = 2",
    "answer_number": "The answer to vote for",
    "username": "Username",
    "usernames": "Usernames, one a line",
    "hashtags": "Hashtags, one a line",
    "hashtag": "Hashtag",
    "media": "Media link",
    "keywords": "Keywords, one a line",
    "min": "Minimum quantity per post",
    "max": "Maximum quantity per post",
    "posts": "Number of new posts to cover",
    "old_posts": "Number of existing posts to cover",
    "delay": "Delay in minutes: 0, 5, 10, 15, 30, 60, 90, ... 600",
    "expiry": "Expiry date, d/m/Y",
}
OPTIONAL_FIELDS = {"runs", "interval", "google_keyword", "referring_url", "old_posts", "expiry"}
# Where the charge is not rate × quantity / 1000.
CHARGE_RULES = {
    ServiceType.PACKAGE: "rate (one package)",
    ServiceType.CUSTOM_COMMENTS_PACKAGE: "rate (one package)",
    ServiceType.SUBSCRIPTIONS: "rate × max × (posts + old_posts) / 1000",
}


@dataclass(frozen=True)
class AddType:
    type: str
    params: tuple[Param, ...]
    charge: str


ADD_TYPES: tuple[AddType, ...] = tuple(
    AddType(
        type=str(service_type),
        params=tuple(Param(name, FIELD_HELP[name], optional=name in OPTIONAL_FIELDS) for name in names),
        charge=CHARGE_RULES.get(service_type, "rate × quantity / 1000"),
    )
    for service_type, names in SERVICE_TYPE_FIELDS.items()
    if service_type != ServiceType.OTHER
)


# --- Code examples --------------------------------------------------------------------------------------

KEY_PLACEHOLDER = "YOUR_API_KEY"


def curl_example(endpoint: str, action: str, call: Call) -> str:
    fields = {"key": KEY_PLACEHOLDER, "action": action, **call.example}
    data = " ".join(f"-d {shlex.quote(f'{name}={value}')}" for name, value in fields.items())
    return f"curl -X POST {shlex.quote(endpoint)} {data}"


def python_example(endpoint: str) -> str:
    return f'''import requests

API_URL = "{endpoint}"
API_KEY = "{KEY_PLACEHOLDER}"


def call(action, **fields):
    answer = requests.post(API_URL, data={{"key": API_KEY, "action": action, **fields}}, timeout=30).json()
    if isinstance(answer, dict) and "error" in answer:
        raise RuntimeError(answer["error"])
    return answer


print(call("balance"))
order = call("add", service=1, link="https://instagram.com/p/abc", quantity=1000,
             request_id="my-order-0001")  # a retry with the same request_id places nothing new
print(call("status", order=order["order"]))
print(call("status", orders="1,2,3"))'''


def php_example(endpoint: str) -> str:
    return f'''<?php
$apiUrl = '{endpoint}';
$apiKey = '{KEY_PLACEHOLDER}';

function api_call($action, $fields = []) {{
    global $apiUrl, $apiKey;
    $ch = curl_init($apiUrl);
    curl_setopt($ch, CURLOPT_POST, true);
    curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query(array_merge(['key' => $apiKey, 'action' => $action], $fields)));
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    $answer = json_decode(curl_exec($ch), true);
    curl_close($ch);
    return $answer;
}}

print_r(api_call('balance'));
$order = api_call('add', ['service' => 1, 'link' => 'https://instagram.com/p/abc', 'quantity' => 1000]);
print_r(api_call('status', ['order' => $order['order']]));'''
