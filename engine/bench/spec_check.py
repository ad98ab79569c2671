"""Checking a benchmark spec (a derived one after a reviewer edited it): `validate_spec`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.bench.spec_vocab import *  # noqa: F403 -- the limits this module checks against
from engine.bench.spec_vocab import CUDA_DEVICE
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import DTYPES, WorkloadSpec

# --- validating a spec ----------------------------------------------------------------------

def validate_spec(data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a spec (typically `spec_from_facts(...).spec` after a reviewer edited it).

    Returns (cleaned spec, errors by field: "queries", "batcher.max_batch_size", "model.params",
    ...; "$" for the whole document). A valid spec comes back equal to the input (lists for
    tuples, floats for whole-number ms); invalid fields are left out of the cleaned spec. Refuses
    unknown keys, wrong types (a bool is not a number), NaN and infinities, values outside the
    module's limits, unknown scenarios, presets and devices, and runs that would last too long.
    Never raises.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return {}, {"$": "The spec must be an object (a mapping of field to value)."}
    if data.get("scenario") in GENERATIVE_SCENARIOS:
        from engine.bench.generative_spec import check_generative

        return check_generative(data)
    for key in data:
        if key not in SPEC_KEYS:
            errors[str(key)] = f"Unknown field {key!r}; the spec fields are {', '.join(SPEC_KEYS)}."

    def put(key: str, value: Any, error: str | None) -> None:
        if error is None:
            clean[key] = value
        else:
            errors[key] = error

    if "scenario" in data:
        v = data["scenario"]
        put("scenario", v, None if isinstance(v, str) and v in SCENARIOS
            else f"Scenario must be one of {', '.join(SCENARIOS)}.")
    if "device" in data:
        v = data["device"]
        ok = isinstance(v, str) and (v in DEVICES or CUDA_DEVICE.fullmatch(v) is not None)
        put("device", v, None if ok else "Device must be auto, cpu, cuda or cuda:N.")

    given = [k for k in ("model", "preset", "workload") if data.get(k) is not None]
    if len(given) > 1:
        for k in given:
            errors[k] = "Give only one of model, preset and workload."
    else:
        if "model" in data:
            _check_model(data["model"], clean, errors)
        if "preset" in data:
            v = data["preset"]
            put("preset", v, None if v is None or (isinstance(v, str) and v in PRESETS)
                else f"Preset must be one of {', '.join(PRESETS)}.")
        if "workload" in data:
            _check_workload(data["workload"], clean, errors)

    if "batcher" in data:
        _check_batcher(data["batcher"], clean, errors)

    for key, limits, kind, nullable in (
        ("queries", QUERIES_LIMITS, int, False),
        ("seed", SEED_LIMITS, int, False),
        ("threads", THREADS_LIMITS, int, True),
        ("latency_p99_budget_ms", LATENCY_P99_BUDGET_MS_LIMITS, float, True),
        ("target_qps", TARGET_QPS_LIMITS, float, True),
        ("run_budgets", RUN_BUDGETS_LIMITS, float, False),
        ("offline_min_time_s", OFFLINE_MIN_TIME_S_LIMITS, float, False),
        ("overload_factor", OVERLOAD_FACTOR_LIMITS, float, False),
    ):
        if key in data:
            value, error = _check_number(data[key], limits, kind, nullable)
            put(key, value, error)
    for key in ("offline_batch_sizes", "cuda_graph_batch_sizes"):
        if key in data:
            value, error = _check_int_list(data[key], MAX_BATCH_SIZE_LIMITS, nullable=True)
            put(key, value, error)
    if "sweep" in data:
        _check_sweep(data["sweep"], clean, errors)

    # How long the runs would last.
    queries = clean.get("queries", DEFAULT_QUERIES)
    target = clean.get("target_qps")
    if target is not None and "queries" not in errors and queries / target > MAX_SERVER_RUN_S:
        errors["target_qps"] = (f"At {target:g} QPS, {queries} queries take {queries / target / 60:.0f} minutes; "
                                f"a server run may last {MAX_SERVER_RUN_S / 60:g}. Raise target_qps or lower "
                                "queries.")
        clean.pop("target_qps", None)
    budget = clean.get("latency_p99_budget_ms")
    run_budgets = clean.get("run_budgets", 20.0)
    if budget is not None and run_budgets * budget / 1000.0 > MAX_SERVER_RUN_S:
        errors.setdefault("run_budgets", f"Each search step would last {run_budgets:g} x {budget:g} ms = "
                                         f"{run_budgets * budget / 60_000:.0f} minutes; at most "
                                         f"{MAX_SERVER_RUN_S / 60:g}.")
        clean.pop("run_budgets", None)
    return clean, errors


def _check_number(value: Any, limits: tuple[float, float], kind: type, nullable: bool = False,
                  ) -> tuple[Any, str | None]:
    low, high = limits
    if value is None:
        return (None, None) if nullable else (None, "Required: must not be null.")
    if isinstance(value, bool):
        return None, "Must be a number, not true/false."
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return None, f"Must be a whole number written without a decimal point (got {value!r})."
        if not isinstance(value, int):
            return None, f"Must be a whole number from {low:,} to {high:,}."
        if not low <= value <= high:
            return None, f"Must be from {low:,} to {high:,} (got {value:,})."
        return value, None
    if not isinstance(value, (int, float)):
        return None, f"Must be a number from {low:g} to {high:g}."
    number = float(value)
    if not math.isfinite(number):
        return None, "Must be a finite number (not NaN or infinity)."
    if not low <= number <= high:
        return None, f"Must be from {low:g} to {high:g} (got {number:g})."
    return number, None


def _check_int_list(value: Any, limits: tuple[int, int], nullable: bool = False,
                    ) -> tuple[list[int] | None, str | None]:
    if value is None:
        return (None, None) if nullable else (None, "Required: must not be null.")
    if not isinstance(value, (list, tuple)) or not value:
        return None, "Must be a non-empty list of whole numbers."
    if len(value) > MAX_LIST_ITEMS:
        return None, f"At most {MAX_LIST_ITEMS} items."
    out = []
    for item in value:
        number, error = _check_number(item, limits, int)
        if error is not None:
            return None, f"Item {item!r}: {error}"
        out.append(number)
    return out, None


def _check_model(model: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if model is None:
        clean["model"] = None
        return
    if not isinstance(model, Mapping):
        errors["model"] = "Model must be an object with params, family, dtype and seq_len."
        return
    out: dict[str, Any] = {}
    allowed = ("params", "family", "dtype", "seq_len", *MODEL_EXTRA_LIMITS)
    for key in model:
        if key not in allowed:
            errors[f"model.{key}"] = f"Unknown model field {key!r}; model fields are {', '.join(allowed)}."
    family = model.get("family", "transformer")
    if not isinstance(family, str) or family not in MODEL_FAMILIES:
        errors["model.family"] = f"Family must be one of {', '.join(MODEL_FAMILIES)}."
    elif "family" in model:
        out["family"] = family
    if "params" not in model:
        errors["model.params"] = "Required: the model's parameter count."
    else:
        high = MLP_PARAMS_MAX if family == "mlp" else MODEL_PARAMS_LIMITS[1]
        value, error = _check_number(model["params"], (MODEL_PARAMS_LIMITS[0], high), int)
        if error is None:
            out["params"] = value
        else:
            errors["model.params"] = error
    if "dtype" in model:
        if isinstance(model["dtype"], str) and model["dtype"] in DTYPES:
            out["dtype"] = model["dtype"]
        else:
            errors["model.dtype"] = f"Dtype must be one of {', '.join(DTYPES)}."
    if "seq_len" in model:
        value, error = _check_number(model["seq_len"], SEQ_LEN_LIMITS, int)
        if error is None:
            out["seq_len"] = value
        else:
            errors["model.seq_len"] = error
    for key, limits in MODEL_EXTRA_LIMITS.items():
        if key in model:
            value, error = _check_number(model[key], limits, int)
            if error is None:
                out[key] = value
            else:
                errors[f"model.{key}"] = error
    if not any(k == "model" or k.startswith("model.") for k in errors):
        clean["model"] = out


def _check_workload(workload: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if workload is None:
        clean["workload"] = None
        return
    if not isinstance(workload, Mapping):
        errors["workload"] = "Workload must be an object of WorkloadSpec fields."
        return
    for key, value in workload.items():
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            errors[f"workload.{key}"] = "Must be a whole number (not true/false, NaN or infinity)."
            return
    try:
        spec = WorkloadSpec.from_dict(dict(workload))
    except (TypeError, ValueError) as exc:
        errors["workload"] = f"Invalid workload: {exc}."
        return
    if spec.family == "mlp" and spec.param_count > MLP_PARAMS_MAX:
        errors["workload"] = f"The workload has {spec.param_count:,} parameters; an MLP may have {MLP_PARAMS_MAX:,}."
        return
    if spec.family == "transformer" and spec.seq_len > SEQ_LEN_LIMITS[1]:
        errors["workload.seq_len"] = f"Must be from {SEQ_LEN_LIMITS[0]} to {SEQ_LEN_LIMITS[1]:,}."
        return
    clean["workload"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in workload.items()}


def _check_batcher(batcher: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if batcher is None:
        clean["batcher"] = None
        return
    if not isinstance(batcher, Mapping):
        errors["batcher"] = "Batcher must be an object of batcher settings."
        return
    before = len(errors)
    out: dict[str, Any] = {}
    for key in batcher:
        if key not in BATCHER_FIELDS:
            errors[f"batcher.{key}"] = f"Unknown batcher field {key!r}; they are {', '.join(BATCHER_FIELDS)}."
    for key, limits, kind in (
        ("max_batch_size", MAX_BATCH_SIZE_LIMITS, int),
        ("max_queue_delay_ms", MAX_QUEUE_DELAY_MS_LIMITS, float),
        ("max_queue_size", MAX_QUEUE_SIZE_LIMITS, int),
        ("num_slots", NUM_SLOTS_LIMITS, int),
    ):
        if key in batcher:
            value, error = _check_number(batcher[key], limits, kind)
            if error is None:
                out[key] = value
            else:
                errors[f"batcher.{key}"] = error
    if "preferred_batch_sizes" in batcher:
        top = out.get("max_batch_size", 64)
        value, error = _check_int_list(batcher["preferred_batch_sizes"], (1, top))
        if error is None and value != sorted(set(value)):
            error = "Must be strictly increasing."
        if error is None:
            out["preferred_batch_sizes"] = value
        else:
            errors["batcher.preferred_batch_sizes"] = error + (f" (each at most max_batch_size {top})"
                                                               if "Item" in error else "")
    if len(errors) > before:
        return
    # The serving core's own checks, as `run()` applies them (its defaults for the rest).
    config = {"max_batch_size": 64, "max_queue_delay_ms": 0.0, **out}
    config["preferred_batch_sizes"] = tuple(config.get("preferred_batch_sizes", ()))
    try:
        BatcherConfig(**config)
    except (TypeError, ValueError) as exc:
        errors["batcher"] = f"Invalid batcher settings: {exc}."
        return
    clean["batcher"] = out


def _check_sweep(sweep: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if sweep is None:
        clean["sweep"] = None
        return
    if not isinstance(sweep, Mapping):
        errors["sweep"] = "Sweep must be an object with max_batch_sizes and max_queue_delays_ms."
        return
    out: dict[str, Any] = {}
    for key in sweep:
        if key not in ("max_batch_sizes", "max_queue_delays_ms"):
            errors[f"sweep.{key}"] = f"Unknown sweep field {key!r}; they are max_batch_sizes, max_queue_delays_ms."
    if "max_batch_sizes" in sweep:
        value, error = _check_int_list(sweep["max_batch_sizes"], MAX_BATCH_SIZE_LIMITS)
        if error is None:
            out["max_batch_sizes"] = value
        else:
            errors["sweep.max_batch_sizes"] = error
    if "max_queue_delays_ms" in sweep:
        delays = sweep["max_queue_delays_ms"]
        if not isinstance(delays, (list, tuple)) or not delays or len(delays) > MAX_LIST_ITEMS:
            errors["sweep.max_queue_delays_ms"] = f"Must be a list of 1 to {MAX_LIST_ITEMS} numbers."
        else:
            checked = [_check_number(d, MAX_QUEUE_DELAY_MS_LIMITS, float) for d in delays]
            bad = next((e for _, e in checked if e is not None), None)
            if bad is None:
                out["max_queue_delays_ms"] = [v for v, _ in checked]
            else:
                errors["sweep.max_queue_delays_ms"] = bad
    if not any(k == "sweep" or k.startswith("sweep.") for k in errors):
        clean["sweep"] = out


