import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from reviewapp.accounts.models import Membership
from reviewapp.designs.models import Design


def test_it_seeds_a_demo_that_can_log_in_and_is_idempotent(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Log in as demo / demo-review-2026" in out
    # The login throttle (django-axes) counts by request: authentication is always given one.
    demo = authenticate(RequestFactory().post("/accounts/login/"), username="demo", password="demo-review-2026")
    assert demo is not None
    assert Membership.objects.get(user=demo).role == "owner"
    design = Design.objects.get()
    assert design.team.memberships.filter(user=demo).exists()
    # The demo is complete: both parts of the document are filled in.
    assert design.inputs["requirements"] and design.inputs["architecture"]


def test_it_keeps_changes_made_to_the_demo(db):
    call_command("seed_demo")
    Design.objects.update(description="edited by the user")
    call_command("seed_demo")
    assert Design.objects.get().description == "edited by the user"


def test_it_refuses_to_run_outside_development(db, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError

    settings.DJANGO_ENV = "production"
    with pytest.raises(CommandError, match="only with DJANGO_ENV=development"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists() and not Design.objects.exists()
