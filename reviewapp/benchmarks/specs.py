"""The spec a run page offers: the design's derived spec, the "quick check" preset, a reviewer's
adjustments, and the command line that runs the same spec on another machine."""

from __future__ import annotations

import copy
import shlex
from typing import Any

# "quick": the design's model and settings, measured briefly: 300 queries per server run (the
# engine's minimum is 100; results are marked short, below the 2,010 a p99 claim needs) and 20 ms
# per offline batch size. Minutes become seconds; use it to try the pipeline, not to sign off.
PRESETS = {
    "design": ("As derived from the design (2,010 queries: enough for a p99 claim)", {}),
    "quick": ("Quick check (300 queries, short offline timing: a rough number in seconds)",
              {"queries": 300, "offline_min_time_s": 0.02}),
}
# Form field -> where it goes in the spec.
ADJUSTABLE = {
    "queries": ("queries",),
    "max_batch_size": ("batcher", "max_batch_size"),
    "max_queue_delay_ms": ("batcher", "max_queue_delay_ms"),
    "latency_p99_budget_ms": ("latency_p99_budget_ms",),
    "target_qps": ("target_qps",),
    "device": ("device",),
    "seed": ("seed",),
}
# validate_spec's error keys that are not a form field's name.
ERROR_FIELD = {"batcher.max_batch_size": "max_batch_size", "batcher.max_queue_delay_ms": "max_queue_delay_ms",
               "run_budgets": "latency_p99_budget_ms"}


def build_spec(derived: dict[str, Any], preset: str, adjustments: dict[str, Any]) -> dict[str, Any]:
    """`derived` with the preset's settings, then the given adjustments (None = keep)."""
    spec = copy.deepcopy(derived)
    spec.update(PRESETS[preset][1])
    for name, value in adjustments.items():
        if value is None or value == "":
            continue
        *parents, key = ADJUSTABLE[name]
        node = spec
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return spec


def error_field(key: str) -> str | None:
    """The form field a `validate_spec` error key belongs to (None: the form as a whole)."""
    key = ERROR_FIELD.get(key, key)
    return key if key in ADJUSTABLE else None


def cli_command(spec: dict[str, Any], out: str = "result.json") -> str:
    """`python -m engine.bench ...` running `spec` on any machine with torch; its --out file is
    what the upload form takes."""
    args = ["python", "-m", "engine.bench", str(spec.get("scenario", "capacity"))]
    model = spec.get("model") or {}
    if model:
        args += ["--workload", "mlp" if model.get("family") == "mlp" else "transformer",
                 "--params", str(model.get("params")), "--dtype", str(model.get("dtype", "fp32")),
                 "--seq-len", str(model.get("seq_len", 128))]
    elif spec.get("preset"):
        args += ["--workload", str(spec["preset"])]
    batcher = spec.get("batcher") or {}
    if "max_batch_size" in batcher:
        args += ["--max-batch-size", str(batcher["max_batch_size"])]
    if "max_queue_delay_ms" in batcher:
        args += ["--max-queue-delay-ms", f"{batcher['max_queue_delay_ms']:g}"]
    for key, flag in (("latency_p99_budget_ms", "--p99-budget-ms"), ("target_qps", "--rate"),
                      ("queries", "--queries"), ("seed", "--seed")):
        if spec.get(key) is not None:
            value = spec[key]
            args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    args += ["--device", str(spec.get("device", "auto")), "--out", out]
    return shlex.join(args)


def spec_rows(spec: dict[str, Any], sources: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The spec as (label, value, source) rows for a page; `sources` from `DesignBenchSpec.sources`."""
    sources = sources or {}
    model = spec.get("model") or {}
    batcher = spec.get("batcher") or {}

    def src(*keys: str) -> str:
        found = [sources[k] for k in keys if k in sources]
        return ", ".join(dict.fromkeys(found)) if found else "default"

    rows = []
    if model:
        rows.append({"label": "Model", "source": src("model.family", "model.params", "model.dtype", "model.seq_len"),
                     "value": f"{model.get('family')}, {model.get('params', 0):,} parameters, {model.get('dtype')}, "
                              f"sequence {model.get('seq_len')}"})
    else:
        rows.append({"label": "Model", "value": f"preset {spec.get('preset') or 'reference-mlp'}", "source": ""})
    budget, target = spec.get("latency_p99_budget_ms"), spec.get("target_qps")
    rows += [
        {"label": "Max batch size", "value": str(batcher.get("max_batch_size", 64)),
         "source": src("batcher.max_batch_size")},
        {"label": "Max queue delay", "value": f"{batcher.get('max_queue_delay_ms', 0.0):g} ms",
         "source": src("batcher.max_queue_delay_ms")},
        {"label": "P99 budget", "value": f"{budget:g} ms" if budget is not None else
         "10 × the measured single-request time", "source": src("latency_p99_budget_ms")},
        {"label": "Target rate", "value": f"{target:g} QPS" if target is not None else "half the measured capacity",
         "source": src("target_qps")},
        {"label": "Queries per server run", "value": f"{spec.get('queries', 2010):,}", "source": ""},
        {"label": "Device, seed", "value": f"{spec.get('device', 'auto')}, {spec.get('seed', 0)}", "source": ""},
    ]
    return rows
