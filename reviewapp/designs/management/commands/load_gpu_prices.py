"""Copy the shipped GPU price catalog into the database, where staff can edit it.

Safe to run again: accelerators already in the table keep their (possibly staff-edited) prices
unless --update is given.
"""

from datetime import date

from django.core.management.base import BaseCommand
from django.db import transaction

from engine.planning.gpu_catalog import PRICE_PLANS, load_gpu_catalog
from reviewapp.designs.catalog import NUMBER_FIELDS
from reviewapp.designs.models import GpuPrice


class Command(BaseCommand):
    help = "Load engine/data/gpu_prices.json into the GPU price table (adds missing accelerators)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--update", action="store_true", help="Also overwrite accelerators already in the table.")
        parser.add_argument("--file", help="A catalog file of the same shape (default: the shipped one).")

    @transaction.atomic
    def handle(self, *args, update: bool = False, file: str | None = None, **options) -> None:
        catalog = load_gpu_catalog(file)
        as_of = date.fromisoformat(catalog["as_of"]) if catalog.get("as_of") else None
        created = updated = 0
        for position, (key, gpu) in enumerate(catalog["gpus"].items()):
            values = {
                "label": gpu.get("label", key),
                "kind": gpu.get("kind", GpuPrice.Kind.GPU),
                "position": position,
                **{name: gpu.get(name) for name in NUMBER_FIELDS},
                **{f"{plan}_usd_per_hour": gpu["price_usd_per_hour"][plan] for plan in PRICE_PLANS},
                "source": catalog.get("source", ""),
                "as_of": as_of,
            }
            row = GpuPrice.objects.filter(key=key).first()
            if row is None:
                GpuPrice.objects.create(key=key, **values)
                created += 1
            elif update:
                GpuPrice.objects.filter(pk=row.pk).update(**values)
                updated += 1
        self.stdout.write(self.style.SUCCESS(
            f"GPU prices: {created} added, {updated} updated, {GpuPrice.objects.count()} in the catalog."
        ))
