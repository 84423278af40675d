"""Bulk writes of many rows in one statement, for the hot path of polling.

- `bulk_update_rows`: `UPDATE ... FROM (VALUES ...)`, different values per row. Django's bulk_update builds a
  CASE expression per field and row, which costs about a second of Python per hundred rows of a dozen
  fields; this writes the same change as one plain statement (PostgreSQL, and SQLite 3.33 or newer).
- `bulk_insert_rows`: one multi-row `INSERT`, from plain tuples rather than model instances.

Values are prepared for the database by their field, as Django would; a value of a plain type (int, str,
bool, None) is passed as it is, and the others (datetimes, decimals) are prepared once per distinct value.
"""

from django.db import connections, router

# SQLite allows 32766 parameters per statement; PostgreSQL 65535. Stay well under both.
MAX_PARAMS = 30000
_PLAIN = frozenset((int, str, bool, type(None)))


def bulk_update_rows(objs, fields: list[str], *, model=None) -> int:
    """Write `fields` of every object in `objs` (all of one model) by primary key. Returns rows updated.

    The objects may be model instances or anything with the same attributes (then name the `model`).
    """
    if not objs:
        return 0
    model = model or type(objs[0])
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    getters = [(column.attname, _preparer(column, connection)) for column in columns]
    step = max(1, MAX_PARAMS // len(columns))
    updated = 0
    for start in range(0, len(objs), step):
        chunk = objs[start:start + step]
        params = [prep(getattr(obj, attname)) for obj in chunk for attname, prep in getters]
        with connection.cursor() as cursor:
            cursor.execute(_update_sql(meta, columns, len(chunk), connection), params)
            updated += cursor.rowcount
    return updated


def bulk_insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert `rows`, each a tuple of values for `fields` (attribute names: `order_id`, not `order`)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [_field_by_attname(meta, name) for name in fields]
    preps = [_preparer(column, connection) for column in columns]
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c.column) for c in columns)}) VALUES "
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    step = max(1, MAX_PARAMS // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            params = [prep(value) for row in chunk for prep, value in zip(preps, row, strict=True)]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)), params)


def _field_by_attname(meta, name):
    for field in meta.concrete_fields:
        if field.attname == name:
            return field
    raise ValueError(f"{meta.label} has no column {name!r}")


def _preparer(field, connection):
    """The field's get_db_prep_save, skipped for plain values and remembered for the others."""
    seen = {}

    def prep(value):
        if type(value) in _PLAIN:
            return value
        try:
            return seen[value]
        except KeyError:
            seen[value] = prepared = field.get_db_prep_save(value, connection)
            return prepared
        except TypeError:  # unhashable (a dict for a JSON field)
            return field.get_db_prep_save(value, connection)

    return prep


def _update_sql(meta, columns, rows: int, connection) -> str:
    qn = connection.ops.quote_name
    cast = connection.vendor == "postgresql"  # SQLite would turn a datetime cast into a number
    placeholder = ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" if cast else "%s" for f in columns)
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    values = ", ".join([f"({placeholder})"] * rows)
    assignments = ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(columns) if i)
    table = qn(meta.db_table)
    if cast:
        source = f"(VALUES {values}) AS v ({names})"
    else:  # SQLite names VALUES columns column1, column2, ... and takes no column list on the alias
        renamed = ", ".join(f"column{i + 1} AS c{i}" for i in range(len(columns)))
        source = f"(SELECT {renamed} FROM (VALUES {values})) AS v"
    return f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{qn(meta.pk.column)} = v.c0"
