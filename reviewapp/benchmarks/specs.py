"""The spec a run page offers: the design's derived spec, the "quick check" preset, a reviewer's
adjustments, and the command line that runs the same spec on another machine."""

from __future__ import annotations

import copy
import shlex
from typing import Any

from engine.bench.generative_spec import is_generative, quick_variant

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
# A generative design's run: "quick" is engine.bench.generative_spec.quick_variant.
GENERATIVE_PRESETS = {
    "design": ("As derived from the design (the max rate at both SLOs, 200 requests per run)", {}),
    "quick": ("Quick check (a 2 M-parameter decoder, lengths / 16, 16 requests at once: seconds)", {}),
}
GENERATIVE_ADJUSTABLE = {
    "requests": ("requests",),
    "rate": ("rate",),
    "ttft_slo_ms": ("ttft_slo_ms",),
    "tpot_slo_ms": ("tpot_slo_ms",),
    "max_num_seqs": ("max_num_seqs",),
    "device": ("device",),
    "seed": ("seed",),
}
# validate_spec's error keys that are not a form field's name.
ERROR_FIELD = {"batcher.max_batch_size": "max_batch_size", "batcher.max_queue_delay_ms": "max_queue_delay_ms",
               "run_budgets": "latency_p99_budget_ms"}


def adjustable_fields(derived: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The run form's adjustable fields for this spec: form field -> where it goes in the spec."""
    return GENERATIVE_ADJUSTABLE if is_generative(derived) else ADJUSTABLE


def build_spec(derived: dict[str, Any], preset: str, adjustments: dict[str, Any]) -> dict[str, Any]:
    """`derived` with the preset's settings, then the given adjustments (None = keep; a field
    this kind of spec does not have is ignored: the form shows only the spec's own)."""
    spec = copy.deepcopy(derived)
    if is_generative(derived):
        if preset == "quick":
            spec = quick_variant(spec)
    else:
        spec.update(PRESETS[preset][1])
    fields = adjustable_fields(derived)
    for name, value in adjustments.items():
        if value is None or value == "" or name not in fields:
            continue
        *parents, key = fields[name]
        node = spec
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return spec


def error_field(key: str) -> str | None:
    """The form field a `validate_spec` error key belongs to (None: the form as a whole)."""
    key = ERROR_FIELD.get(key, key)
    return key if key in ADJUSTABLE or key in GENERATIVE_ADJUSTABLE else None


def cli_command(spec: dict[str, Any], out: str = "result.json") -> str:
    """`python -m engine.bench ...` running `spec` on any machine with torch; its --out file is
    what the upload form takes."""
    if is_generative(spec):
        return _generate_command(spec, out)
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


def _generate_command(spec: dict[str, Any], out: str) -> str:
    args = ["python", "-m", "engine.bench", "generate", str(spec["scenario"])[len("generate-"):]]
    for key, value in spec.items():
        if key == "scenario" or value is None:
            continue
        if key == "shape":
            for name in ("vocab_size", "layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim",
                         "max_position"):
                if name in value:
                    args += [f"--{name.replace('_', '-')}", str(value[name])]
            continue
        args += [f"--{key.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join([*args, "--out", out])


def _generative_rows(spec: dict[str, Any], src) -> list[dict[str, str]]:
    shape = spec.get("shape") or {}
    model = (f"decoder, {shape.get('layers')} layers x {shape.get('d_model')}, {shape.get('kv_heads')} KV heads x "
             f"{shape.get('head_dim')}, {spec.get('dtype', 'fp32')}" if shape else
             f"decoder of about {spec.get('params', 0):,} parameters, {spec.get('dtype', 'fp32')}")
    ttft, tpot, rate = spec.get("ttft_slo_ms"), spec.get("tpot_slo_ms"), spec.get("rate")
    scenario = {"generate-max-qps": "max rate at both SLOs", "generate-server": "one run at the rate",
                "generate-offline": "all requests at once"}[spec["scenario"]]
    return [
        {"label": "Model", "value": model, "source": src("params", "dtype")},
        {"label": "Scenario", "value": scenario, "source": ""},
        {"label": "Prompt tokens", "value": str(spec.get("input_len_dist", "uniform:8-64")),
         "source": src("input_len_dist")},
        {"label": "Output tokens", "value": str(spec.get("output_len_dist", "uniform:8-64")),
         "source": src("output_len_dist")},
        {"label": "TTFT SLO (p99)", "value": f"{ttft:g} ms" if ttft is not None else
         "scaled to the reference's prefill", "source": src("ttft_slo_ms")},
        {"label": "TPOT SLO (p99)", "value": f"{tpot:g} ms" if tpot is not None else
         "10 x the reference's decode step", "source": src("tpot_slo_ms")},
        {"label": "KV budget", "value": f"{spec.get('num_blocks', '—')} blocks of {spec.get('block_size', 16)} tokens, "
                                        f"at most {spec.get('max_num_seqs', 64)} sequences at once",
         "source": src("num_blocks", "max_num_seqs")},
        {"label": "Rate", "value": f"{rate:g} requests/s" if rate is not None else "half the offline rate",
         "source": src("rate")},
        {"label": "Requests per run", "value": f"{spec.get('requests', 200):,}", "source": ""},
        {"label": "Device, seed", "value": f"{spec.get('device', 'auto')}, {spec.get('seed', 0)}", "source": ""},
    ]


def spec_rows(spec: dict[str, Any], sources: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The spec as (label, value, source) rows for a page; `sources` from `DesignBenchSpec.sources`."""
    sources = sources or {}
    model = spec.get("model") or {}
    batcher = spec.get("batcher") or {}

    def src(*keys: str) -> str:
        found = [sources[k] for k in keys if k in sources]
        return ", ".join(dict.fromkeys(found)) if found else "default"

    if is_generative(spec):
        return _generative_rows(spec, src)
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
