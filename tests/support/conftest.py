"""What the notification tests share: the outbox's dispatch recorded rather than sent, and a fake Telegram."""

from unittest import mock

import pytest

from panel.celery import app as celery_app
from support import notify
from support.notify import SEND_TASK

REAL_DISPATCH = notify.dispatch  # as imported, before any fixture stubs it
TOKEN = "123456789:AAE-telegram-secret-token-for-tests_x"
TELEGRAM = "https://telegram.test"


@pytest.fixture
def broker():
    """The task's dispatch, recorded rather than sent (the real dispatch, should a conftest stub it)."""
    with mock.patch.object(notify, "dispatch", REAL_DISPATCH), mock.patch.object(celery_app, "send_task") as send_task:
        yield send_task


def dispatched(broker) -> int:
    """How many times the send task was dispatched."""
    return sum(1 for call in broker.call_args_list if call.args and call.args[0] == SEND_TASK)
