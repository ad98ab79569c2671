"""The GPU price catalog as the engine wants it: plain data, from the database.

Staff edit `GpuPrice` rows in the admin; the planning reads them here. With an empty table (a fresh
install before `manage.py load_gpu_prices`) the shipped file answers, so numbers never go blank.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from engine.planning.gpu_catalog import PRICE_PLANS, catalog_errors, shipped_catalog
from reviewapp.designs.models import GpuPrice

NUMBER_FIELDS = ("memory_gb", "bf16_tflops", "fp8_tflops", "int8_tops", "memory_bandwidth_gb_s")


def gpu_entry(row: GpuPrice) -> dict[str, Any]:
    """One row as a catalog entry (the shape of `engine/data/gpu_prices.json`)."""
    return {
        "label": row.label,
        "kind": row.kind,
        **{name: getattr(row, name) for name in NUMBER_FIELDS},
        "price_usd_per_hour": {plan: getattr(row, f"{plan}_usd_per_hour") for plan in PRICE_PLANS},
    }


def gpu_catalog() -> dict[str, Any]:
    """The catalog the planning uses: the staff-edited table, or the shipped file if it is empty.

    Every request reads the table (one query), so that an edit shows at once in every process;
    building and checking the catalog from the rows is memoised by their values, which is where
    most of the time went (~0.6 ms a request). The query is plain SQL: the ORM took 0.65 ms to
    build and compile the same SELECT against 0.2 ms for all of it (benchmarks/page_profile.py)."""
    return _catalog_from_rows(_catalog_rows())


CATALOG_COLUMNS = ("key", "label", "kind", "source", "as_of", *NUMBER_FIELDS,
                   *(f"{plan}_usd_per_hour" for plan in PRICE_PLANS))
_AS_OF = CATALOG_COLUMNS.index("as_of")


def _catalog_rows() -> tuple[tuple, ...]:
    """The table's rows in the admin's order (`GpuPrice.Meta.ordering`), dates as dates."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(GpuPrice._meta.get_field(name).column) for name in CATALOG_COLUMNS)
    order = ", ".join(quote(GpuPrice._meta.get_field(name).column) for name in GpuPrice._meta.ordering)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {quote(GpuPrice._meta.db_table)} ORDER BY {order}")
        rows = cursor.fetchall()
    # SQLite hands dates back as text (the ORM's converters would parse them).
    return tuple(row if not isinstance(row[_AS_OF], str) else
                 (*row[:_AS_OF], dt.date.fromisoformat(row[_AS_OF]), *row[_AS_OF + 1:]) for row in rows)


@functools.lru_cache(maxsize=8)
def _catalog_from_rows(rows: tuple[tuple, ...]) -> dict[str, Any]:
    # Callers get the same dict for the same rows: they read it and never change it.
    if not rows:
        return shipped_catalog()
    rows = [GpuPrice(**dict(zip(CATALOG_COLUMNS, values))) for values in rows]
    dates = [row.as_of for row in rows if row.as_of]
    sources = list(dict.fromkeys(row.source for row in rows if row.source))
    newest = max(dates) if dates else None
    gpus = {row.key: gpu_entry(row) for row in rows}
    for row in rows:
        if row.as_of != newest:
            # Prices read on another day (or never dated) say so: the catalog's newest date is not
            # this accelerator's (engine.planning.cost takes an entry's own as_of first).
            gpus[row.key]["as_of"] = row.as_of.isoformat() if row.as_of else None
    catalog = {
        "source": " / ".join(sources) or "Edited by staff in the admin.",
        "as_of": newest.isoformat() if newest else None,
        "currency": "USD",
        "price_unit": "USD per accelerator-hour",
        "gpus": gpus,
    }
    if catalog_errors(catalog):
        # The admin validates every row, so this only happens if someone wrote the table by hand;
        # planning on the shipped prices beats failing every page.
        return shipped_catalog()
    return catalog


def validate_gpu_price(row: GpuPrice) -> None:
    """Raise ValidationError naming the field if the engine would reject this row."""
    errors = catalog_errors({"gpus": {row.key or "gpu": gpu_entry(row)}})
    if not errors:
        return
    by_field: dict[str, list[str]] = {}
    for message in errors:
        detail = message.split(": ", 1)[-1]
        name = detail.split(" ", 1)[0]
        if name.startswith("price_usd_per_hour."):
            name = name.removeprefix("price_usd_per_hour.") + "_usd_per_hour"
        by_field.setdefault(name if hasattr(row, name) else "__all__", []).append(detail)
    raise ValidationError(by_field)
