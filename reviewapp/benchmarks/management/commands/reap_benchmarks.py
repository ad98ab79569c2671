from django.core.management.base import BaseCommand

from reviewapp.benchmarks.services import runs_reap


class Command(BaseCommand):
    help = ("End benchmark runs no job will end: running with a silent heartbeat (worker lost) or past the "
            "hard time limit, queued for too long. Safe to run any time (e.g. from cron every minute).")

    def handle(self, *args, **options):
        count = runs_reap()
        self.stdout.write(f"Ended {count} benchmark run{'s' if count != 1 else ''}.")
