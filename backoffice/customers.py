"""Reads behind the back office's customer pages: every customer with what they spent, their order count and
when they were last seen, in one query a page."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest

from accounts.models import LedgerEntry, User, api_key_digest
from accounts.money import ZERO, MoneySum, money_field
from orders.models import Order

CUSTOMERS_PER_PAGE = 50
KEY_TAIL = 4  # the most of a key a page shows, and the least a search by key needs
MAX_SEARCH_LENGTH = 254  # an email address


def customers_for_staff(*, search: str = ""):
    """Customers, newest first, with what the list shows (see _customers). `search` matches part of the
    username or email, any case, the last KEY_TAIL characters of the API key, or
    the whole key (looked up by its digest).
    One query a page, however many customers."""
    customers = _customers()
    search = search.strip()[:MAX_SEARCH_LENGTH]
    if search:
        match = Q(username__icontains=search) | Q(email__icontains=search)
        if len(search) == KEY_TAIL:  # a key's last characters, as its owner reads them on their page
            match |= Q(api_key_hint__iexact=search)
        elif len(search) > KEY_TAIL:  # a whole key, pasted from a customer's software
            match |= Q(api_key_digest=api_key_digest(search))
        customers = customers.filter(match)
    return customers.order_by("-date_joined", "-id")


def customer_for_staff(*, pk: int) -> User | None:
    """One customer as the list shows them; None for staff and for nobody."""
    return _customers().filter(pk=pk).first()




def _customers():
    """Customers (never staff) with `spent` (order charges less their refunds, from the ledger), `orders_count`,
    `last_seen` (the later of the last login and the last API call) and `key_tail` (the API key's last
    characters). The key's digest and the password hash are not loaded: a page cannot show what it never held.
    Subqueries rather than joins: a join of both the ledger and the orders would multiply the rows summed."""
    entries = LedgerEntry.objects.filter(user=OuterRef("pk"), kind__in=[LedgerEntry.Kind.CHARGE,
                                                                          LedgerEntry.Kind.REFUND])
    spent = entries.order_by().values("user").annotate(total=MoneySum(-F("amount"))).values("total")
    orders = Order.objects.filter(user=OuterRef("pk")).order_by().values("user").annotate(n=Count("pk")).values("n")
    return User.objects.filter(is_staff=False).defer("api_key_digest", "password").annotate(
        spent=_MoneySubquery(spent),
        orders_count=Coalesce(Subquery(orders, output_field=IntegerField()), 0),
        # Greatest is NULL on SQLite when either side is: each side falls back on the other.
        last_seen=Greatest(Coalesce("last_login", "api_last_used_at"), Coalesce("api_last_used_at", "last_login")),
        key_tail=F("api_key_hint"),
    )


class _MoneySubquery(Subquery):
    """A subquery selecting one MoneySum, read back as MoneySum reads itself (on SQLite its SUM() is of whole
    units of 0.00001) rather than as a plain decimal column; no rows reads as zero."""

    def __init__(self, queryset):
        super().__init__(queryset, output_field=money_field())

    @property
    def convert_value(self):
        return _money_or_zero


def _money_or_zero(value, expression, connection):
    return ZERO if value is None else MoneySum._to_money(value, expression, connection)
