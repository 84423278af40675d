"""Short leases on rows, taken with one conditional UPDATE: whoever stamped the token owns the rows.

Works the same on SQLite and PostgreSQL, and across processes: two pollers handed the same IDs split them,
and no row is worked on twice while its lease lasts. A crashed poller's lease simply runs out.
"""

import uuid
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone


def claim(queryset: QuerySet, *, seconds: float, fields: tuple[str, ...] = (), related=()) -> tuple[str, list]:
    """Stamp a fresh token on the unleased rows of `queryset`; return the token and the rows won.

    With `fields`, the rows come back as tuples of (pk, *fields) rather than model instances.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(poll_claim_until__isnull=True) | Q(poll_claim_until__lt=now)
    queryset.filter(free).update(poll_token=token, poll_claim_until=now + timedelta(seconds=seconds))
    won = queryset.filter(poll_token=token).select_related(*related).order_by("pk")
    return token, list(won.values_list("pk", *fields) if fields else won)


def release(model, token: str, pks) -> None:
    """Let go of the rows (by primary key) that still carry this token."""
    model.objects.filter(pk__in=list(pks), poll_token=token).update(poll_token="", poll_claim_until=None)
