"""The API v2 client: one provider, one pooled HTTP session, typed answers, three error kinds.

Every failure surfaces as ProviderRefused / NotSent / Ambiguous (see errors.py). The client
never retries on its own: only the caller knows whether a retry is safe (NotSent) and an
``add`` that ended Ambiguous must go to a human, not be resent.

The API key never leaves this module except inside the request itself: messages are built
here (host only, never the URL), provider text is scrubbed, and requests' exceptions are
not chained (``from None``) because their text carries the URL, which with GET holds the key.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from . import parsing
from .errors import Ambiguous, NotSent, ProviderRefused, SmmApiError
from .types import Balance, ItemError, OrderStatusInfo, RefillStatusInfo, ServiceList

logger = logging.getLogger("smmapi")

# The protocol's limit for comma-separated ID lists (status/refill/refill_status/cancel).
MAX_IDS_PER_REQUEST = 100

T = TypeVar("T")


def _secret_forms(key: str) -> set[str]:
    """The key as it may appear in text: raw, and URL-encoded (GET query strings)."""
    return {form for form in (key, quote_plus(key), quote(key, safe="")) if form}


class _RedactKeysFilter(logging.Filter):
    """Redacts API keys from urllib3's DEBUG lines.

    urllib3 logs each request line at DEBUG ("GET /api/v2?key=...&action=status"), so with
    GET transport the key would reach any log handler set to DEBUG. Clients register their
    key here; records on urllib3's connection-pool logger are rewritten before they are emitted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is not ours to break
                return True
            if any(secret in message for secret in self.secrets):
                for secret in sorted(self.secrets, key=len, reverse=True):
                    message = message.replace(secret, "***")
                record.msg, record.args = message, None
        return True


_redact_filter = _RedactKeysFilter()
logging.getLogger("urllib3.connectionpool").addFilter(_redact_filter)


@dataclass(frozen=True)
class Transport:
    """How a provider wants requests shaped. Per-provider settings, not code changes."""

    method: str = "POST"  # "POST" or "GET"
    body: str = "form"  # "form" or "json" (POST only)
    key_field: str = "key"  # "key", "api", "api_key"

    def __post_init__(self) -> None:
        if self.method not in ("POST", "GET"):
            raise ValueError(f"transport method must be POST or GET, not {self.method!r}")
        if self.body not in ("form", "json"):
            raise ValueError(f"transport body must be form or json, not {self.body!r}")
        if not self.key_field:
            raise ValueError("transport key_field must not be empty")


# Fields the client sets itself; letting `add(**fields)` override them would be a bug.
_RESERVED_FIELDS = frozenset({"action", "key", "api", "api_key"})


class Client:
    def __init__(
        self,
        url: str,
        key: str,
        *,
        transport: Transport = Transport(),  # noqa: B008 - frozen, so a shared default is safe
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
        user_agent: str = "smm-panel/1",
        pool_maxsize: int = 10,
        observer: Callable[[str, bool, float], None] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("provider url must be an absolute http(s) URL")
        self.url = url
        self.host = parts.hostname
        self.transport = transport
        self.timeout = (connect_timeout, read_timeout)
        self.user_agent = user_agent
        # Told of every call: (action, whether the provider answered, seconds). A provider that says no
        # (ProviderRefused) answered; one that could not be reached or answered garbage did not.
        self.observer = observer
        self._key = key
        _redact_filter.secrets.update(_secret_forms(key))
        # A session passed in belongs to the caller: we neither mount on it nor close it.
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            # max_retries=0: never resend on our own (a resent `add` could double-order).
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    def __repr__(self) -> str:
        return (
            f"<smmapi.Client host={self.host!r} transport={self.transport.method}"
            f"/{self.transport.body} key_field={self.transport.key_field!r}>"
        )

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ actions

    def services(self) -> ServiceList:
        return self._call("services", {}, parsing.parse_services)

    def add(self, service: str | int, link: str, **fields: Any) -> str:
        """Place an order; returns the provider's order ID (always str).

        None-valued fields are dropped; list values (comments, usernames, keywords...) are
        joined one per line as the protocol wants; numbers are sent as plain decimal text.
        """
        reserved = _RESERVED_FIELDS.union({self.transport.key_field}).intersection(fields)
        if reserved:
            raise ValueError(f"add() got reserved field(s): {', '.join(sorted(reserved))}")
        payload = {"service": _field_value(service), "link": link}
        for name, value in fields.items():
            if value is not None:
                payload[name] = _field_value(value)
        return self._call("add", payload, parsing.parse_add)

    def status(self, order_id: str | int) -> OrderStatusInfo:
        order_id = _normalize_id(order_id)
        return self._call("status", {"order": order_id}, lambda data: parsing.parse_status(data, order_id))

    def statuses(self, order_ids: Iterable[str | int]) -> dict[str, OrderStatusInfo | ItemError]:
        return self._batched("status", "orders", order_ids, parsing.parse_statuses)

    def refill(self, order_id: str | int) -> str:
        """Request a refill for one order; returns the provider's refill ID."""
        order_id = _normalize_id(order_id)
        return self._call("refill", {"order": order_id}, lambda data: parsing.parse_refill(data, order_id))

    def refills(self, order_ids: Iterable[str | int]) -> dict[str, str | ItemError]:
        return self._batched("refill", "orders", order_ids, parsing.parse_refills)

    def refill_status(self, refill_id: str | int) -> RefillStatusInfo:
        refill_id = _normalize_id(refill_id)
        return self._call(
            "refill_status", {"refill": refill_id}, lambda data: parsing.parse_refill_status(data, refill_id)
        )

    def refill_statuses(self, refill_ids: Iterable[str | int]) -> dict[str, RefillStatusInfo | ItemError]:
        return self._batched("refill_status", "refills", refill_ids, parsing.parse_refill_statuses)

    def cancel(self, order_ids: Iterable[str | int] | str | int) -> dict[str, bool | ItemError]:
        """Ask the provider to cancel orders; True per order means the request was accepted."""
        return self._batched("cancel", "orders", order_ids, parsing.parse_cancels)

    def balance(self) -> Balance:
        return self._call("balance", {}, parsing.parse_balance)

    # ------------------------------------------------------------ batching

    def _batched(
        self,
        action: str,
        field_name: str,
        ids: Iterable[str | int] | str | int,
        parse: Callable[[object, list[str]], dict[str, T]],
    ) -> dict[str, T]:
        """Send IDs in chunks of MAX_IDS_PER_REQUEST and merge the answers.

        If a chunk fails as a whole, its error is raised with ``.partial`` holding the merged
        answers of the chunks before it, so the caller keeps what already came back.
        """
        results: dict[str, T] = {}
        for chunk in _chunks(_normalize_ids(ids), MAX_IDS_PER_REQUEST):
            def parse_chunk(data: object, chunk: list[str] = chunk) -> dict[str, T]:
                return parse(data, chunk)

            try:
                answer = self._call(action, {field_name: ",".join(chunk)}, parse_chunk)
            except SmmApiError as error:
                error.partial = dict(results)
                raise
            results.update(answer)
        return results

    # ------------------------------------------------------------ transport

    def _call(self, action: str, fields: dict[str, str], parse: Callable[[object], T]) -> T:
        """One request: send, classify failures, decode JSON, parse. All errors scrubbed."""
        started = time.monotonic()
        try:
            result = parse(self._request(action, fields))
        except SmmApiError as error:
            self._observe(action, isinstance(error, ProviderRefused), started)
            clean = self._scrubbed(error, action)
        else:
            self._observe(action, True, started)
            return result
        # Raised outside the except block so the scrubbed error has no __context__ at all:
        # the unscrubbed one (and the requests exception under it) would still be reachable.
        raise clean

    def _observe(self, action: str, answered: bool, started: float) -> None:
        if self.observer is not None:
            try:
                self.observer(action, answered, time.monotonic() - started)
            except Exception:  # an observer's trouble is never the call's
                logger.warning("smmapi: the call observer failed", exc_info=True)

    def _request(self, action: str, fields: dict[str, str]) -> object:
        payload = {self.transport.key_field: self._key, "action": action, **fields}
        kwargs: dict[str, Any] = {
            "timeout": self.timeout,
            "headers": {"User-Agent": self.user_agent, "Accept": "application/json"},
            # A POST redirected (http -> https) would be replayed as a GET without its
            # body; we would rather see the 3xx and report it.
            "allow_redirects": False,
        }
        if self.transport.method == "GET":
            kwargs["params"] = payload
        elif self.transport.body == "json":
            kwargs["json"] = payload
        else:
            kwargs["data"] = payload
        started = time.monotonic()
        error: SmmApiError | None
        try:
            response = self._session.request(self.transport.method, self.url, **kwargs)
        except requests.exceptions.RequestException as exc:
            error = _classify_exception(exc, action, self.host)
        else:
            error = None
        if error is not None:
            # Outside the except block: requests' exception (URL, key) must not be chained.
            logger.debug(
                "smmapi %s %s failed after %.3fs: %s",
                action,
                self.host,
                time.monotonic() - started,
                type(error).__name__,
            )
            raise error
        logger.debug(
            "smmapi %s %s -> HTTP %s in %.3fs",
            action,
            self.host,
            response.status_code,
            time.monotonic() - started,
        )
        return _decode(response, action)

    def _scrubbed(self, error: SmmApiError, action: str) -> SmmApiError:
        """A copy of ``error`` with the key removed from its text (provider text may echo it)."""
        if isinstance(error, ProviderRefused):
            clean: SmmApiError = ProviderRefused(self._scrub(error.message))
        elif isinstance(error, NotSent):
            clean = NotSent(self._scrub(error.reason))
        elif isinstance(error, Ambiguous):
            clean = Ambiguous(self._scrub(error.reason), http_status=error.http_status)
        else:
            clean = SmmApiError(self._scrub(str(error)))
        clean.partial = error.partial
        clean.action = action
        return clean

    def _scrub(self, text: str) -> str:
        for form in sorted(_secret_forms(self._key), key=len, reverse=True):
            text = text.replace(form, "***")
        return text


# ---------------------------------------------------------------- helpers


def _field_value(value: Any) -> str:
    """Stringify an `add` field: lists one item a line, Decimals as plain text (never 1E+3)."""
    if isinstance(value, list | tuple):
        return "\n".join(_field_value(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _normalize_id(value: str | int) -> str:
    item_id = parsing.parse_id(value)
    if item_id is None:
        raise ValueError("an ID must be a non-empty string or an integer")
    if "," in item_id:
        raise ValueError("an ID must not contain a comma (IDs are sent comma-separated)")
    return item_id


def _normalize_ids(ids: Iterable[str | int] | str | int) -> list[str]:
    """Normalised, de-duplicated IDs in the caller's order; a lone str/int counts as one ID."""
    if isinstance(ids, str | int):
        ids = [ids]
    return list(dict.fromkeys(_normalize_id(item_id) for item_id in ids))


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _decode(response: requests.Response, action: str) -> object:
    """The JSON body, or the right error for a non-2xx / non-JSON answer."""
    status = response.status_code
    try:
        # utf-8-sig: some PHP panels prefix their JSON with a byte-order mark.
        data = json.loads(response.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
        is_json = False
    else:
        is_json = True
    if 200 <= status < 300:
        if not is_json:
            raise Ambiguous(f"{action}: HTTP {status} answer is not JSON", http_status=status)
        return data
    if 400 <= status < 500 and is_json:
        message = parsing.error_message(data)
        if message is not None:
            # A 4xx with {"error": ...} (429 "Too many requests", 401 bad key) is a refusal:
            # the provider looked at the request and said no.
            raise ProviderRefused(message)
    # Anything else non-2xx (5xx, HTML error pages, redirects) may come after the
    # provider acted: we cannot tell, so never assume it did not.
    raise Ambiguous(f"{action}: HTTP {status} from provider", http_status=status)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (args, MaxRetryError.reason), and its cause/context chain."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend(item for item in linked if isinstance(item, BaseException))


# Underlying errors that prove the request never left: the connection was never made.
_NOT_SENT_CAUSES = (
    urllib3.exceptions.NewConnectionError,  # includes NameResolutionError (DNS)
    urllib3.exceptions.ConnectTimeoutError,
    ConnectionRefusedError,
    ssl.SSLCertVerificationError,  # certificate rejected during the handshake
)
# Underlying errors that happen after the request was (or may have been) sent.
_AMBIGUOUS_CAUSES = (
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.IncompleteRead,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    ConnectionResetError,
    BrokenPipeError,
)


def _classify_exception(exc: requests.exceptions.RequestException, action: str, host: str) -> SmmApiError:
    """Map a requests exception to NotSent or Ambiguous, with a message of our own.

    requests' ConnectionError covers both a refused connect and a connection dropped after
    sending, so look at the urllib3/socket error underneath. When unsure: Ambiguous.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NotSent(f"{action}: connect timeout to host {host}")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return Ambiguous(f"{action}: read timeout from host {host} after sending")
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema,
    ):
        return NotSent(f"{action}: invalid provider URL for host {host}")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return Ambiguous(f"{action}: answer from host {host} broke off or could not be decoded")
    if isinstance(exc, requests.exceptions.ConnectionError):
        causes = list(_causes(exc))
        # Ambiguous evidence wins: a read error after a connect proves we got as far as sending.
        if any(isinstance(cause, _AMBIGUOUS_CAUSES) for cause in causes):
            return Ambiguous(f"{action}: connection to host {host} dropped after sending")
        if any(isinstance(cause, _NOT_SENT_CAUSES) for cause in causes):
            return NotSent(f"{action}: could not connect to host {host}")
        return Ambiguous(f"{action}: connection error with host {host}")
    return Ambiguous(f"{action}: request to host {host} failed ({type(exc).__name__})")
