import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from engine.checklist import ChecklistError

from reviewapp.checklists.convert import version_checklist, version_export
from reviewapp.checklists.models import ChecklistVersion
from reviewapp.checklists.services import FORMATS


class Command(BaseCommand):
    help = "Export a checklist version (default: the newest published one) as our JSON or an AWS lens."

    def add_arguments(self, parser):
        parser.add_argument("key", help="The checklist's key.")
        parser.add_argument("--number", "-n", type=int, dest="number", help="Version number (default: newest published).")
        parser.add_argument("--format", choices=FORMATS, default="ours")
        parser.add_argument("--output", "-o", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, key: str, number: int | None, format: str, output: Path | None, **options):
        versions = ChecklistVersion.objects.filter(checklist__key=key).select_related("checklist")
        version = versions.filter(number=number).first() if number else versions.published().order_by("-number").first()
        if version is None:
            raise CommandError(f"No {'version ' + str(number) if number else 'published version'} of checklist {key!r}.")
        try:
            if format == "aws-lens":
                from engine.checklist.lens import checklist_to_lens

                document = checklist_to_lens(version_checklist(version))
            else:
                document = version_export(version)
        except ChecklistError as exc:
            raise CommandError(f"Cannot export {version}:\n" + "\n".join(f"  {p}" for p in exc.problems)) from None
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {version} to {output}.")
        else:
            self.stdout.write(text, ending="")
