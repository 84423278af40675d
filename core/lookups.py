"""`field__any=[...]`: membership in a list, sent to PostgreSQL as one array parameter.

`pk__in=[...]` puts one placeholder per value in the SQL, and psycopg re-parses such a statement on every
execution (it only caches short ones); polling runs a hundred of those per cycle with a hundred IDs each.
`= ANY(%s)` keeps the statement short and the same for any number of values. Other databases get `IN`.
"""

from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler

from .bulk import cast_db_type, pg_array

if TYPE_CHECKING:
    _In = In[Any]  # generic in django-stubs only: Django's lookups take no [] at run time
else:
    _In = In


@Field.register_lookup
class AnyOf(_In):
    lookup_name = "any"

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s::{cast_db_type(field, connection)}[])", (*lhs_params, pg_array(values))
