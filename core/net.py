"""The address a request came from, as the panel should believe it.

Behind a reverse proxy every request comes from the proxy, and the visitor's address is in X-Forwarded-For,
which anybody can also send: only the entries the operator's own proxies appended are true. With
TRUSTED_PROXY_COUNT = N (0 by default: no proxy, REMOTE_ADDR is the visitor), the visitor is the Nth address
from the right of X-Forwarded-For; entries further left were sent by the client and are ignored."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote: str = request.META.get("REMOTE_ADDR", "") or ""
    count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote  # not through all our proxies: a direct request, believe the socket
    candidate = chain[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
