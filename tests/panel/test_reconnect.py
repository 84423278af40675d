"""After the database drops its connections (a restart), the worker and beat open new ones on their next
task or tick, rather than failing on the dead ones until someone restarts them."""

from unittest import mock

import pytest
from celery import signals
from django.contrib.auth import get_user_model
from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)
# SQLite's test database lives in memory, and Django never closes that connection: only a server restarts.
needs_a_server = pytest.mark.skipif(connections["default"].vendor == "sqlite",
                                    reason="a database server's connections (set DATABASE_URL)")


class FakeTask:
    class request:  # noqa: N801 - Celery's own attribute name
        is_eager = False


def dropped_by_the_server():
    """The connection as a restart leaves it: a query failed on it, and it no longer answers."""
    connection = connections["default"]
    connection.ensure_connection()
    connection.errors_occurred = True
    return mock.patch.object(type(connection), "is_usable", return_value=False)


@needs_a_server
@pytest.mark.parametrize("signal", [signals.task_prerun, signals.task_postrun])
def test_a_task_closes_a_connection_the_database_dropped(signal):
    with dropped_by_the_server():
        signal.send(sender=None, task=FakeTask(), task_id="t1", args=(), kwargs={})
    assert connections["default"].connection is None  # closed: the next query connects again
    assert get_user_model().objects.count() == 0


@needs_a_server
def test_a_healthy_connection_is_kept_between_tasks():
    connection = connections["default"]
    connection.ensure_connection()
    kept = connection.connection
    signals.task_prerun.send(sender=None, task=FakeTask(), task_id="t2", args=(), kwargs={})
    assert connection.connection is kept


@needs_a_server
def test_beat_closes_a_dropped_connection_before_its_database_work():
    from panel.beat import HeartbeatScheduler

    seen = []
    with dropped_by_the_server():
        HeartbeatScheduler._safely(lambda: seen.append(connections["default"].connection))
    assert seen == [None]  # the step ran with the dead connection closed, free to open a new one
