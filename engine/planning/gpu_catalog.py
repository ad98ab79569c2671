"""The GPU price catalog: hardware figures and hourly prices, as plain data.

The shipped file is `engine/data/gpu_prices.json`. Staff may keep their own copy (the web app lets
them edit prices); every calculator takes the catalog as an argument, so pass theirs in.

Shape (all prices in USD per accelerator-hour, figures per single accelerator):

    {"source": str, "as_of": "YYYY-MM-DD", "currency": "USD",
     "gpus": {"h100-80gb": {"label": str, "kind": "gpu" | "cpu", "memory_gb": float,
                            "bf16_tflops": float, "fp8_tflops": float | null,
                            "int8_tops": float | null, "memory_bandwidth_gb_s": float,
                            "price_usd_per_hour": {"on_demand": float, "spot": float,
                                                   "reserved_1y": float, "reserved_3y": float}}}}

`bf16_tflops` is the dense 16-bit (bf16, or fp16 where bf16 is missing) tensor throughput. An
entry may carry its own `"as_of"` (a date, or null when undated) when its prices were read on
another day than the catalog's `as_of`; the cost plan shows the chosen accelerator's date.
"""

from __future__ import annotations

import copy
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "gpu_prices.json"
PRICE_PLANS = ("on_demand", "spot", "reserved_1y", "reserved_3y")
_REQUIRED_NUMBERS = ("memory_gb", "bf16_tflops", "memory_bandwidth_gb_s")
_OPTIONAL_NUMBERS = ("fp8_tflops", "int8_tops")


@lru_cache(maxsize=1)
def _shipped_text() -> str:
    return CATALOG_PATH.read_text(encoding="utf-8")


def load_gpu_catalog(path: str | Path | None = None) -> dict[str, Any]:
    """Return the catalog as a fresh plain dict (the shipped file unless `path` is given).

    Raises ValueError if the file is not a valid catalog.
    """
    text = _shipped_text() if path is None else Path(path).read_text(encoding="utf-8")
    catalog = json.loads(text)
    errors = catalog_errors(catalog)
    if errors:
        raise ValueError("invalid GPU catalog: " + "; ".join(errors))
    return catalog


def shipped_catalog() -> dict[str, Any]:
    """The shipped catalog (a copy; callers may change it freely)."""
    return copy.deepcopy(_shipped_catalog_cached())


@lru_cache(maxsize=1)
def _shipped_catalog_cached() -> dict[str, Any]:
    return load_gpu_catalog()


def catalog_errors(catalog: Any) -> list[str]:
    """Every problem with a catalog, as messages naming the GPU and the entry (empty if valid).

    The web app calls this before saving an edited catalog.
    """
    if not isinstance(catalog, Mapping):
        return ["the catalog must be an object"]
    errors: list[str] = []
    gpus = catalog.get("gpus")
    if not isinstance(gpus, Mapping) or not gpus:
        return ["'gpus' must be a non-empty object"]
    for key, gpu in gpus.items():
        if not isinstance(key, str) or not key:
            errors.append(f"GPU key {key!r} must be a non-empty string")
            continue
        if not isinstance(gpu, Mapping):
            errors.append(f"{key}: must be an object")
            continue
        for name in _REQUIRED_NUMBERS:
            if not _positive(gpu.get(name)):
                errors.append(f"{key}: {name} must be a positive number")
        for name in _OPTIONAL_NUMBERS:
            if gpu.get(name) is not None and not _positive(gpu.get(name)):
                errors.append(f"{key}: {name} must be a positive number or null")
        prices = gpu.get("price_usd_per_hour")
        if not isinstance(prices, Mapping):
            errors.append(f"{key}: price_usd_per_hour must be an object")
            continue
        for plan in PRICE_PLANS:
            value = prices.get(plan)
            if not _number(value) or value < 0:
                errors.append(f"{key}: price_usd_per_hour.{plan} must be a number >= 0")
    return errors


def gpu_choices(catalog: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(key, label) pairs for every accelerator in the catalog, in file order."""
    catalog = catalog if catalog is not None else _shipped_catalog_cached()
    return [(key, str(gpu.get("label", key))) for key, gpu in catalog["gpus"].items()]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: Any) -> bool:
    return _number(value) and value > 0
