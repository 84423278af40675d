from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User


def test_seed_demo_creates_a_staff_user_and_a_customer_and_prints_their_logins(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin / admin-demo" in out
    assert "demo / demo-demo" in out
    assert authenticate(username="admin", password="admin-demo").is_staff
    assert not authenticate(username="demo", password="demo-demo").is_staff


def test_seed_demo_run_twice_keeps_one_of_each_and_restores_the_password(db):
    call_command("seed_demo")
    demo = User.objects.get(username="demo")
    demo.set_password("changed")
    demo.save()
    call_command("seed_demo")
    assert User.objects.filter(username__in=["admin", "demo"]).count() == 2
    assert authenticate(username="demo", password="demo-demo") is not None
