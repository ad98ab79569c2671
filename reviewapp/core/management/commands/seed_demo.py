"""Seed a demo team, users and design. Safe to run again: it changes nothing that exists.

Development only: the demo users' passwords are published (README), one of them is staff."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reviewapp.accounts.models import Membership, Role, Team
from reviewapp.designs.models import Design

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-review-2026"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-review-2026"
DEMO_TEAM = "Demo team"
DEMO_DESIGN = "Support assistant (RAG chat)"


class Command(BaseCommand):
    help = "Create the demo team, the demo user, a staff admin and the demo design (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        from engine.design import example_design

        if settings.DJANGO_ENV != "development":
            raise CommandError(
                f"seed_demo runs only with DJANGO_ENV=development (this is {settings.DJANGO_ENV}): "
                "it creates a staff user whose password is published."
            )

        User = get_user_model()
        demo, created_demo = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"first_name": "Demo", "email": "demo@example.com"}
        )
        if created_demo:
            demo.set_password(DEMO_PASSWORD)
            demo.save(update_fields=["password"])
        admin, created_admin = User.objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"},
        )
        if created_admin:
            admin.set_password(ADMIN_PASSWORD)
            admin.save(update_fields=["password"])
        team, _ = Team.objects.get_or_create(name=DEMO_TEAM, defaults={"slug": "demo-team"})
        Membership.objects.get_or_create(user=demo, team=team, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(user=admin, team=team, defaults={"role": Role.REVIEWER})
        design, created_design = Design.objects.get_or_create(
            team=team,
            name=DEMO_DESIGN,
            defaults={
                "description": (
                    "A customer-support assistant: retrieval over the help centre plus a hosted "
                    "8B-parameter model, answering in the product's chat widget."
                ),
                "inputs": example_design(),
                "created_by": demo,
                "updated_by": demo,
            },
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready. Log in as {DEMO_USERNAME} / {DEMO_PASSWORD} "
                f"(staff: {ADMIN_USERNAME} / {ADMIN_PASSWORD}). "
                f"Demo design: “{design.name}”{' (created)' if created_design else ''}."
            )
        )
