import pytest
import requests
from django.db import connection

from core.inprocess import serve_self


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_in_process_server_answers_and_leaves_no_database_session_behind():
    before = _other_sessions() if connection.vendor == "postgresql" else 0
    with serve_self() as base_url:
        answer = requests.post(f"{base_url}/api/v2", data={"key": "no-such-key", "action": "balance"}, timeout=10)
    assert answer.status_code == 200 and "error" in answer.json()  # the key was looked up in the database
    if connection.vendor == "postgresql":  # the serving thread's connection was closed, not left to linger
        assert _other_sessions() == before
