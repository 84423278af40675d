"""Short leases on rows, taken with one conditional UPDATE: whoever stamped the token owns the rows.

Polling sends refill and cancel requests under these (they must not go upstream twice); status polls claim
their orders by stamping last_polled_at instead (orders.polling).

Works the same on SQLite and PostgreSQL, and across processes: two pollers handed the same IDs split them,
and no row is worked on twice while its lease lasts. A crashed poller's lease simply runs out.

The claim's conditions must be on the claimed table itself. A condition through a join would make Django
write `WHERE id IN (SELECT ...)`, and PostgreSQL does not re-check such a subquery against a row another
claimer has just changed: both would win it. So `claim` refuses a queryset that joins.
"""

import uuid
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone


def claim(queryset: QuerySet, *, seconds: float, related=()) -> tuple[str, list]:
    """Stamp a fresh token on the unleased rows of `queryset`; return the token and the rows won, in
    primary-key order, with `related` selected."""
    token = uuid.uuid4().hex
    now = timezone.now()
    free = queryset.filter(Q(poll_claim_until__isnull=True) | Q(poll_claim_until__lt=now))
    if free.query.count_active_tables() > 1:
        raise ValueError("a claim's conditions must be on the claimed table (see orders.claims)")
    free.update(poll_token=token, poll_claim_until=now + timedelta(seconds=seconds))
    return token, list(queryset.model.objects.filter(poll_token=token).select_related(*related).order_by("pk"))


def release(model, token: str, pks) -> None:
    """Let go of the rows (by primary key) that still carry this token."""
    model.objects.filter(pk__any=list(pks), poll_token=token).update(poll_token="", poll_claim_until=None)
