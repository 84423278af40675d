"""Row locks that do not fight foreign keys.

A row read to be changed is locked FOR NO KEY UPDATE on PostgreSQL, not FOR UPDATE: its key never changes,
and FOR UPDATE also blocks the FOR KEY SHARE lock that every insert of a row pointing at it takes (Django's
foreign keys are checked at COMMIT, DEFERRABLE INITIALLY DEFERRED). Two polling batches refunding
customers in user order then deadlocked anyway: one, at its COMMIT, checked a ledger row's user that the
other held FOR UPDATE while waiting for a user the first had locked (bench/load.py found it). The ORM's
spelling is `select_for_update(no_key=True)`; raw SQL takes `row_lock(connection)`.
"""

from django.db.backends.base.base import BaseDatabaseWrapper


def row_lock(connection: BaseDatabaseWrapper) -> str:
    """The locking clause for a SELECT of rows about to be updated (not their keys), or "" where the
    database has none (SQLite: its IMMEDIATE transaction already holds the write lock)."""
    if connection.vendor == "postgresql":
        return " FOR NO KEY UPDATE"
    return " FOR UPDATE" if connection.features.has_select_for_update else ""
