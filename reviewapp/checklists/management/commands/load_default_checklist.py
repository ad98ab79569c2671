from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from engine.checklist import ChecklistError

from reviewapp.checklists import services


class Command(BaseCommand):
    help = "Import and publish the shipped default checklist as version 1 (idempotent: once only)."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=services.DEFAULT_CHECKLIST_PATH)

    def handle(self, *args, path: Path, **options):
        if not path.exists():
            # `make run` calls this on every start; a missing file must not stop the app.
            self.stderr.write(self.style.WARNING(f"No default checklist at {path}; nothing loaded."))
            return
        try:
            version, created = services.default_checklist_load(path=path)
        except ChecklistError as exc:
            raise CommandError(f"{path}: nothing loaded.\n" + "\n".join(f"  {p}" for p in exc.problems)) from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Loaded and published {version}."))
        else:
            self.stdout.write(f"Default checklist already loaded ({version}); nothing changed.")
