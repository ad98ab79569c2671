from django.core.management.base import BaseCommand
from django.utils import timezone

from reviewapp.actions.services import actions_notify_overdue


class Command(BaseCommand):
    help = "Remind the owners of overdue actions (once per due date) and tell the teams' webhooks. Run daily."

    def handle(self, *args, **options):
        count = actions_notify_overdue(today=timezone.localdate())
        self.stdout.write(f"{count} overdue action(s) notified.")
