"""The API's rate limit shared by every web worker through Redis, and the check that warns when it is not.

Two RedisCache instances stand for two gunicorn workers: each has its own connection pool, as each worker
process has. The Redis tests need a server: REDIS_URL (its host and port), else 127.0.0.1:6379; they use its
database 12 only, emptied before and after, and are skipped when no server answers.
"""

import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core import checks
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from resellerapi import api
from resellerapi.checks import rate_limit_cache_is_shared
from resellerapi.errors import TOO_MANY_REQUESTS, ApiError

from .conftest import API_PATH

REDIS_DB = 12  # this file's own: flushed, and no other


def _redis_url() -> str:
    import os

    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379")
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


REDIS_URL = _redis_url()
needs_redis = pytest.mark.skipif(not _redis_answers(REDIS_URL), reason=f"no Redis answers at {REDIS_URL}")


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def a_worker_cache(url: str) -> RedisCache:
    """The default cache as one web worker builds it from CACHE_URL: a client and pool of its own."""
    return RedisCache(url, {})


class EachThreadItsCache:
    """Stands in for `resellerapi.api.cache`: each thread (a request in some worker) goes through the cache the
    thread was given, as each gunicorn worker goes through its own client."""

    def __init__(self):
        self.local = threading.local()

    def __getattr__(self, name):
        return getattr(self.local.cache, name)


def accepted(calls: int, user_id: int, caches: list) -> int:
    """`calls` throttled calls of one customer, made in turn through `caches`; how many were let through."""
    through = 0
    for n in range(calls):
        api.cache = caches[n % len(caches)]
        try:
            api.throttle(user_id)
        except ApiError as refusal:
            assert refusal.message == TOO_MANY_REQUESTS
        else:
            through += 1
    return through


@pytest.fixture
def one_minute(monkeypatch, settings):
    """The production limit, and every call within one window (no minute boundary in the middle)."""
    settings.API_RATE_LIMIT_PER_MINUTE = 600
    monkeypatch.setattr(api.time, "time", lambda: 28_000_000 * 60 + 1.5)
    monkeypatch.setattr(api, "cache", api.cache)  # put back whatever the tests below point it at


@needs_redis
def test_two_workers_on_redis_share_one_count_the_601st_call_is_refused(redis_db, one_minute):
    first, second = a_worker_cache(redis_db), a_worker_cache(redis_db)
    assert accepted(600, 7, [first, second]) == 600  # 300 through each worker, one count of 600
    for worker in (first, second):
        api.cache = worker
        with pytest.raises(ApiError) as refused:
            api.throttle(7)
        assert refused.value.message == TOO_MANY_REQUESTS
    assert accepted(5, 8, [second]) == 5  # another customer has a count of their own


@needs_redis
def test_the_shared_count_is_exact_when_workers_call_at_once(redis_db, one_minute):
    """8 threads over two workers' clients, 1,000 calls at once: exactly the limit goes through (the count is
    Redis's atomic INCR, never a read then a write that two workers could interleave)."""
    workers = [a_worker_cache(redis_db), a_worker_cache(redis_db)]
    per_thread = EachThreadItsCache()
    api.cache = per_thread
    results = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def requests(n: int) -> None:
        per_thread.local.cache = workers[n % 2]
        start.wait()
        mine = 0
        for _ in range(125):
            try:
                api.throttle(9)
                mine += 1
            except ApiError:
                pass
        with lock:
            results.append(mine)

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 600


def test_on_locmem_two_workers_count_apart_and_let_twice_the_limit_through(one_minute):
    """What the check below warns about: each process's LocMem has its own count (1,200 of 1,400 accepted)."""
    first, second = LocMemCache("worker-1", {}), LocMemCache("worker-2", {})
    assert accepted(1400, 7, [first, second]) == 1200


@needs_redis
def test_the_api_refuses_past_the_limit_with_redis_as_the_default_cache(client, call, key, redis_db, settings,
                                                                        monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_db}}
    settings.API_RATE_LIMIT_PER_MINUTE = 5
    monkeypatch.setattr(api.time, "time", lambda: 28_000_000 * 60 + 1.5)
    assert all("balance" in call("balance") for _ in range(5))
    assert call("balance") == {"error": TOO_MANY_REQUESTS}
    assert client.post(API_PATH, {"key": key, "action": "services"}).json() == {"error": TOO_MANY_REQUESTS}
    import redis

    names = [name.decode() for name in redis.Redis.from_url(redis_db).keys()]
    assert names and all(":resellerapi:rate:" in name and key not in name for name in names)  # no key in Redis


# --- The system check ----------------------------------------------------------------------------------------

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://redis:6379/1"}}


def _production(caches, limit=600, debug=False):
    """Settings as an operator sets them (restored before the rate counters are cleared after the test)."""
    return override_settings(DEBUG=debug, CACHES=caches, API_RATE_LIMIT_PER_MINUTE=limit)


def test_the_check_warns_in_production_when_the_limit_counts_per_process():
    with _production(LOCMEM):
        [warning] = rate_limit_cache_is_shared()
        registered = [message.id for message in checks.run_checks(tags=[checks.Tags.caches])]
    assert warning.id == "resellerapi.W001"
    assert warning.level == checks.WARNING
    assert "counted per web process" in warning.msg
    assert "set CACHE_URL to Redis" in warning.msg
    assert "resellerapi.W001" in registered  # `manage.py check` (and migrate, as the compose stack runs it) shows it


def test_the_check_warns_that_the_dummy_cache_never_counts():
    with _production(DUMMY):
        [warning] = rate_limit_cache_is_shared()
    assert "never counted" in warning.msg and "set CACHE_URL to Redis" in warning.msg


@pytest.mark.parametrize(("debug", "caches", "limit"), [
    (False, REDIS, 600),  # production as docker-compose.yml sets it up
    (True, LOCMEM, 600),  # development: one runserver process
    (False, LOCMEM, 0),  # no rate limit at all
])
def test_the_check_is_quiet_when_the_count_is_shared_or_does_not_matter(debug, caches, limit):
    with _production(caches, limit, debug):
        assert rate_limit_cache_is_shared() == []
