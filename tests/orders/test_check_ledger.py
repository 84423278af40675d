import pytest
from django.core.management import CommandError, call_command

from orders.models import Order
from orders.services import order_place

pytestmark = pytest.mark.django_db


def test_check_ledger_accepts_charged_orders_and_names_one_whose_refund_does_not_add_up(funded, service, no_broker,
                                                                                      capsys):
    ok = order_place(user=funded, service=service, fields={"link": "https://x.com/a", "quantity": "100"})
    bad = order_place(user=funded, service=service, fields={"link": "https://x.com/b", "quantity": "100"})
    call_command("check_ledger")
    Order.objects.filter(pk=bad.pk).update(status="Canceled", refunded=bad.charge)  # refund without a ledger row
    with pytest.raises(CommandError):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"order #{bad.pk}" in err and f"order #{ok.pk}" not in err
