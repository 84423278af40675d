"""`field__any=[...]`: membership in a list, sent to PostgreSQL as one array parameter.

`pk__in=[...]` puts one placeholder per value in the SQL, and psycopg re-parses such a statement on every
execution (it only caches short ones); polling runs a hundred of those per cycle with a hundred IDs each.
`= ANY(%s)` keeps the statement short and the same for any number of values. Other databases get `IN`.
"""

from django.db.models import Field
from django.db.models.lookups import In

from .bulk import pg_array


@Field.register_lookup
class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s::{field.cast_db_type(connection)}[])", (*lhs_params, pg_array(values))
