"""Bulk writes of many rows in one statement, for the hot path of polling.

- `bulk_update_rows`: `UPDATE ... FROM (VALUES ...)` (on PostgreSQL `FROM unnest(<one array per column>)`),
  different values per row, optionally only where each row still holds what the caller read (an optimistic
  lock, answered with `RETURNING`: SQLite 3.35 or newer, which panel.apps requires). Django's bulk_update
  builds a CASE expression per field and row, which costs about a second of Python per hundred rows of a
  dozen fields.
- `bulk_insert_rows`: one multi-row `INSERT` (on PostgreSQL from `unnest`), from plain tuples rather than model
  instances.

On PostgreSQL a statement with a placeholder per value is long, and psycopg parses it again on every
execution; an array per column keeps it short and the same for any number of rows.

Values are prepared for the database by their field, as Django would, a column at a time: a column of
plain values only (int, str, bool, None) is passed as it is; in any other (datetimes, decimals) each
distinct value is prepared once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeAlias, cast, overload

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.options import Options

# SQLite allows 32766 parameters per statement; PostgreSQL 65535. Stay well under both.
MAX_PARAMS = 30000
_PLAIN = frozenset((int, str, bool, type(None)))

Column: TypeAlias = "Field[Any, Any]"  # a string: Django's classes take no [] at run time
Prep = Callable[[Any], Any]


@overload
def bulk_update_rows(objs: Sequence[Any], fields: list[str], *, model: type[Model] | None = None,
                     expect: None = None) -> int: ...


@overload
def bulk_update_rows(objs: Sequence[Any], fields: list[str], *, model: type[Model] | None = None,
                     expect: list[str]) -> set[Any]: ...


def bulk_update_rows(objs: Sequence[Any], fields: list[str], *, model: type[Model] | None = None,
                     expect: list[str] | None = None) -> int | set[Any]:
    """Write `fields` of every object in `objs` (all of one model) by primary key. Returns rows updated.

    The objects may be model instances or anything with the same attributes (then name the `model`).
    With `expect` (field names), each object's `expected` attribute holds the values those fields must still
    have in its row: a row that no longer has them is left as it is (an optimistic lock). Then the answer is
    the set of primary keys written (`expect` names at least one field: an empty list counts rows, as None).
    """
    if not fields:
        raise ValueError("bulk_update_rows needs at least one field to write")
    if not objs:
        return set() if expect else 0
    model = model or type(objs[0])
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.pk, *(concrete_field(meta, name) for name in fields)]
    guards = [concrete_field(meta, name) for name in expect or ()]
    read = attrgetter(*(column.attname for column in columns))  # a tuple: there are two columns or more
    sql_columns = [*columns, *guards]
    preps = [_preparer(column, connection) for column in sql_columns]
    written: set[Any] = set()
    updated = 0
    step = len(objs) if connection.vendor == "postgresql" else max(1, MAX_PARAMS // len(sql_columns))
    for start in range(0, len(objs), step):
        chunk = objs[start:start + step]
        rows = [read(obj) + tuple(obj.expected) for obj in chunk] if guards else [read(obj) for obj in chunk]
        values = _prepared_columns(rows, preps)  # refuses a row of the wrong length
        if connection.vendor == "postgresql":  # one array per column: a short statement, whatever the rows
            params = [pg_array(column) for column in values]
            params.append(params[0])  # the keys again, for the index lookup (see _update_sql)
        else:
            params = [value for row in zip(*values, strict=True) for value in row]
        sql = _update_sql(meta, columns, guards, len(rows), connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if guards:
                written.update(pk for (pk,) in cursor.fetchall())
            else:
                updated += cursor.rowcount
    return written if guards else updated


def bulk_insert_rows(model: type[Model], fields: list[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert `rows`, each a tuple of values for `fields` (attribute names: `order_id`, not `order`)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [_field_by_attname(meta, name) for name in fields]
    preps = [_preparer(column, connection) for column in columns]
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c.column) for c in columns)}) "
    if connection.vendor == "postgresql":
        arrays = [pg_array(column) for column in _prepared_columns(rows, preps)]
        with connection.cursor() as cursor:
            # In the rows' order: serial keys then follow it, as they do for a multi-row VALUES.
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            cursor.execute(head + f"SELECT {names} FROM {_unnest(columns, connection, ordinality=True)} ORDER BY n",
                           arrays)
        return
    head += "VALUES "
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    step = max(1, MAX_PARAMS // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            params = [value for row in zip(*_prepared_columns(chunk, preps), strict=True) for value in row]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)), params)


def pg_array(values: Iterable[Any]) -> str | list[Any]:
    """PostgreSQL: the values as one array literal (`{1,2,NULL}`), to be cast by the statement (`%s::int[]`).

    psycopg would dump a list element by element in Python, which costs more than the statement it feeds;
    joining the text here is a few C calls. Values of other types than these go to psycopg as a list.
    """
    items: list[str] = []
    for value in values:
        kind = type(value)
        if value is None:
            items.append("NULL")
        elif kind is bool:
            items.append("t" if value else "f")
        elif kind is int or kind is Decimal:
            items.append(str(value))
        elif kind is str:
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif kind is datetime and value.tzinfo is not None:
            items.append('"' + value.isoformat() + '"')
        else:
            return list(values)
    return "{" + ",".join(items) + "}"


def cast_db_type(field: Column, connection: BaseDatabaseWrapper) -> str:
    """The SQL type a parameter for `field` is cast to (`%s::bigint[]`): Field.cast_db_type, which django-stubs
    leaves out."""
    return field.cast_db_type(connection)  # type: ignore[attr-defined, no-any-return]  # not in the stubs


def concrete_field(meta: Options[Any], name: str) -> Column:
    """The field named `name`, typed as the column it is: callers name concrete fields, never a relation's
    other side (get_field's answer may be one for mypy when the name is not a literal)."""
    return cast(Column, meta.get_field(name))


def _field_by_attname(meta: Options[Any], name: str) -> Column:
    for field in meta.concrete_fields:
        if field.attname == name:
            return field
    raise ValueError(f"{meta.label} has no column {name!r}")


def _preparer(field: Column, connection: BaseDatabaseWrapper) -> Prep:
    """The field's get_db_prep_save, remembered per distinct value (a batch repeats its times and amounts)."""
    seen: dict[Any, Any] = {}

    def prep(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = prepared = field.get_db_prep_save(value, connection)
            return prepared
        except TypeError:  # unhashable (a dict for a JSON field)
            return field.get_db_prep_save(value, connection)

    return prep


def _prepared_columns(rows: Iterable[Sequence[Any]], preps: Sequence[Prep]) -> list[tuple[Any, ...]]:
    """The rows' values column by column, each prepared by its column's `prep` unless all are plain (int, str,
    bool, None, which need no preparing): done a column at a time, the checks run in C."""
    columns: list[tuple[Any, ...]] = []
    for values, prep in zip(zip(*rows, strict=True), preps, strict=True):  # a row of the wrong length: ValueError
        if not all(map(_PLAIN.__contains__, map(type, values))):
            values = tuple(map(prep, values))
        columns.append(values)
    return columns


def _unnest(columns: Sequence[Column], connection: BaseDatabaseWrapper, *, ordinality: bool = False) -> str:
    """PostgreSQL: rows from one array parameter per column, named c0, c1, ... (and n, their position)."""
    arrays = ", ".join(f"%s::{cast_db_type(f, connection)}[]" for f in columns)
    names = [f"c{i}" for i in range(len(columns))] + (["n"] if ordinality else [])
    return f"unnest({arrays}){' WITH ORDINALITY' if ordinality else ''} AS v ({', '.join(names)})"


def _update_sql(meta: Options[Any], columns: Sequence[Column], guards: Sequence[Column], rows: int,
                connection: BaseDatabaseWrapper) -> str:
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(columns) if i)
    table = qn(meta.db_table)
    everything = [*columns, *guards]
    if connection.vendor == "postgresql":
        source = _unnest(everything, connection)
        same = "IS NOT DISTINCT FROM"
    else:  # SQLite names VALUES columns column1, column2, ... and takes no column list on the alias
        values = ", ".join(["(" + ", ".join(["%s"] * len(everything)) + ")"] * rows)
        renamed = ", ".join(f"column{i + 1} AS c{i}" for i in range(len(everything)))
        source = f"(SELECT {renamed} FROM (VALUES {values})) AS v"
        same = "IS"
    pk = f"{table}.{qn(meta.pk.column)}"
    where = " AND ".join([f"{pk} = v.c0", *(f"{table}.{qn(f.column)} {same} v.c{len(columns) + i}"
                                            for i, f in enumerate(guards))])
    if connection.vendor == "postgresql":
        # PostgreSQL cannot tell how many rows unnest() gives, and on a small table it would rather read the
        # whole table than look each key up; naming the keys as well makes it use the primary key's index.
        where += f" AND {pk} = ANY(%s::{cast_db_type(meta.pk, connection)}[])"
    returning = f" RETURNING {pk}" if guards else ""
    return f"UPDATE {table} SET {assignments} FROM {source} WHERE {where}{returning}"
