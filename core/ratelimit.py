"""Fixed-window counters in the default cache (shared between web workers when CACHE_URL is Redis).

`allow(scope, who, limit=..., window=...)` counts one attempt and answers whether it is within the limit:
the count starts with an atomic `add` and grows with an atomic `incr`, so concurrent requests are each
counted once. A cache that is down lets the request through (a throttle is no reason to refuse a page)."""

import hashlib
import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def _key(scope: str, who: str, window: int) -> str:
    digest = hashlib.sha256(who.strip().lower().encode()).hexdigest()[:32]  # e-mail addresses never in keys
    return f"rl:{scope}:{digest}:{int(time.time() // window)}"


def allow(scope: str, who: str, *, limit: int, window: int) -> bool:
    if limit <= 0 or not who:
        return True
    key = _key(scope, who, window)
    try:
        if cache.add(key, 1, timeout=window + 1):
            return True
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr: this is the first of a new window
        cache.add(key, 1, timeout=window + 1)
        return True
    except Exception:
        log.warning("rate limit %s: the cache is unavailable; allowing", scope, exc_info=True)
        return True
