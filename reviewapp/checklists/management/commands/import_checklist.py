from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from engine.checklist import ChecklistError

from reviewapp.checklists import services


class Command(BaseCommand):
    help = "Import a checklist file as a new draft version (our JSON or an AWS lens); nothing is written if it has a problem."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", choices=services.FORMATS, default="ours")
        parser.add_argument("--publish", action="store_true", help="Publish the imported version.")

    def handle(self, *args, path: Path, format: str, publish: bool, **options):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            version = services.checklist_import(data=data, fmt=format, publish=publish)
        except ChecklistError as exc:
            raise CommandError(f"{path}: nothing imported.\n" + "\n".join(f"  {p}" for p in exc.problems)) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {version}."))
