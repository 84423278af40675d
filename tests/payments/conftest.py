from decimal import Decimal

import pytest

from payments.models import Payment, PaymentMethod


@pytest.fixture
def make_method(db):
    """A payment method of the given gateway (enabled, no limits, no fee, no bonus unless given)."""

    def make(gateway: str = "sandbox", **fields) -> PaymentMethod:
        fields.setdefault("name", {"stripe": "Card", "cryptomus": "Crypto", "manual": "Bank transfer",
                                   "sandbox": "Test card"}.get(gateway, gateway))
        return PaymentMethod.objects.create(gateway=gateway, **fields)

    return make


@pytest.fixture
def make_payment(db):
    """A payment as payment_start leaves it at a hosted gateway: pending, with the gateway's ID and page."""

    def make(user, method, *, amount="10.00", fee="0", bonus="0", status=Payment.Status.PENDING,
             gateway_ref="ref-1", **fields) -> Payment:
        amount, fee = Decimal(amount), Decimal(fee)
        fields.setdefault("redirect_url", "https://gateway.example/pay/" + (gateway_ref or "x"))
        fields.setdefault("currency", "USD")
        return Payment.objects.create(user=user, method=method, gateway=method.gateway, amount=amount, fee=fee,
                                      total=amount + fee, bonus=Decimal(bonus), status=status,
                                      gateway_ref=gateway_ref, **fields)

    return make
