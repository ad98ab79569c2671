"""Checking what comes back from a benchmark: a result file, a job's result dict, a throughput a
team measured elsewhere; each turned into the measurements `build_facts` reads."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from functools import partial
from typing import Any

from engine.bench.spec_check import _check_number
from engine.bench.spec_vocab import *  # noqa: F403 -- the limits results are checked against
from engine.bench.spec_vocab import (
    GENERATIVE_DTYPES,
    GENERATIVE_SCENARIOS,
    REFERENCE_DTYPE,
    finite_number,
    workload_for_spec,
)
from engine.jsontext import JsonTextError, read_json
from engine.serving.workloads import DTYPES

# --- validating a result --------------------------------------------------------------------

class _NonFinite:
    """Stands for a NaN / Infinity literal while parsing, so its JSON path can be reported."""

    def __init__(self, literal: str):
        self.literal = literal


def validate_uploaded_result(
    raw: bytes | str,
    *,
    expected_spec: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check a result file from `python -m engine.bench ... --out result.json` (it writes the dict
    `run()` returns, as is). Returns ({"measurements", "provenance", "result", "notes"}, {}) or
    (None, errors keyed by JSON path: "$" for the document, "max_qps_at_p99",
    "provenance.device_name", ...).

    `measurements` is what `build_facts(measurements=...)` takes (see `measurements_from_result`).
    `expected_spec`: the spec the design asks for; the result's workload must be the one that
    spec builds, and its P99 budget and batcher (max batch size, queue delay) the spec's, so a
    result for another model or another question is refused. `now`: the current time (aware); a
    result that starts in the future is refused (skipped when None).
    """
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > MAX_UPLOAD_BYTES:
            return None, {"$": f"The file is {len(raw):,} bytes; a result is at most {MAX_UPLOAD_BYTES:,}."}
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return None, {"$": f"The file is not UTF-8 text (byte {exc.start})."}
    elif isinstance(raw, str):
        text = raw
        if len(text) > MAX_UPLOAD_BYTES:
            return None, {"$": f"The file is {len(text):,} characters; a result is at most {MAX_UPLOAD_BYTES:,}."}
    else:
        return None, {"$": "Expected the text of a JSON file."}
    if not text.strip():
        return None, {"$": "The file is empty."}
    try:
        document = read_json(text, parse_constant=_NonFinite)
    except JsonTextError as exc:
        if exc.syntax:
            return None, {"$": f"Invalid JSON at line {exc.line}, column {exc.column}: {exc.syntax} "
                               "(is the file complete?)."}
        return None, {exc.path or "$": f"{exc.message[0].upper()}{exc.message[1:]}."}
    literals: dict[str, str] = {}
    _find_non_finite(document, "", literals)
    if literals:
        return None, literals
    if not isinstance(document, dict):
        return None, {"$": f"The top level must be a JSON object (the result), not {_json_type(document)}."}
    return measurements_from_result(document, expected_spec=expected_spec, now=now)


def _find_non_finite(node: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(node, _NonFinite):
        out[path or "$"] = f"{node.literal} is not a valid JSON number."
    elif isinstance(node, dict):
        for key, value in node.items():
            _find_non_finite(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _find_non_finite(value, f"{path}[{i}]", out)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def measurements_from_result(
    result: Any,
    *,
    expected_spec: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check a `run()` result dict (a job's, or a parsed upload) and turn it into measurements.

    Returns ({"measurements": ..., "provenance": ..., "result": result, "notes": [...]}, {}) or
    (None, errors by JSON path). `measurements` has the keys `BenchmarkFacts` reads:

        max_qps_at_p99            result.max_qps_at_p99 (the search, confirmed or not)
        p50/p95/p99_ms_at_peak    the server run at target_qps (the design's per-replica peak)
        p99_budget_ms             result.latency_p99_budget_ms
        offline_throughput_per_s  result.offline_max_qps
        device                    provenance.device_name on CUDA, "cpu" on CPU
        dtype                     result.workload.dtype
        torch_version             provenance.torch_version
        max_batch_size, max_queue_delay_ms   result.settings.batcher
        seed, duration_s          result.seed, result.duration_s
        measured_at               started_at + duration_s (ISO 8601, UTC)

    plus keys `build_facts` ignores, for the app: source ("benchmark"), scenario, target_qps,
    queries, p99_valid, max_qps_confirmed.
    """
    errors: dict[str, str] = {}
    if not isinstance(result, Mapping):
        return None, {"$": "The result must be an object."}

    status = result.get("status")
    if status != "ok":
        detail = result.get("error")
        errors["status"] = (f"The run did not succeed (status {status!r}"
                            + (f": {str(detail)[:300]}" if detail else "") + "); only an ok run is a measurement."
                            if status is not None else "Missing: a result records its status.")
    schema = result.get("schema_version")
    if schema != 1:
        errors["schema_version"] = f"Expected schema_version 1, got {schema!r}."
    scenario = result.get("scenario")
    if scenario in GENERATIVE_SCENARIOS:
        return _generative_measurements(result, errors, expected_spec=expected_spec, now=now)
    if scenario not in SCENARIOS:
        errors["scenario"] = f"Scenario must be one of {', '.join(SCENARIOS)}."

    number = partial(_result_number, errors)

    max_qps = number("max_qps_at_p99", result.get("max_qps_at_p99"), 0.0, RESULT_QPS_MAX, required=True)
    budget = number("latency_p99_budget_ms", result.get("latency_p99_budget_ms"), 0.0, RESULT_MS_MAX,
                    required=True, strict_low=True)
    p50 = number("p50_ms", result.get("p50_ms"), 0.0, RESULT_MS_MAX, required=False)
    p99 = number("p99_ms", result.get("p99_ms"), 0.0, RESULT_MS_MAX, required=False)
    target = number("target_qps", result.get("target_qps"), 0.0, RESULT_QPS_MAX, required=False)
    offline = number("offline_max_qps", result.get("offline_max_qps"), 0.0, RESULT_QPS_MAX, required=False)
    duration = number("duration_s", result.get("duration_s"), 0.0, RESULT_DURATION_S_MAX, required=True)
    p95 = None
    server = result.get("server")
    if isinstance(server, Mapping) and isinstance(server.get("latency_ms"), Mapping):
        p95 = number("server.latency_ms.p95_ms", server["latency_ms"].get("p95_ms"), 0.0, RESULT_MS_MAX,
                     required=False)
    if p50 is not None and p99 is not None and p50 > p99:
        errors["p50_ms"] = f"P50 ({p50:g} ms) above P99 ({p99:g} ms): the percentiles are inconsistent."

    seed = result.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        errors["seed"] = "Must be a whole number."
        seed = None

    started = result.get("started_at")
    started_at = _parse_time(started)
    if started_at is None:
        errors["started_at"] = "Must be an ISO 8601 time with a time zone, e.g. 2025-01-31T12:00:00+00:00."
    elif now is not None and started_at > now + dt.timedelta(minutes=5):
        errors["started_at"] = "The run starts in the future."

    workload = result.get("workload")
    dtype = None
    if not isinstance(workload, Mapping):
        errors["workload"] = "Missing: the result records the workload it ran."
    else:
        family = workload.get("family")
        if family == "noop":
            errors["workload.family"] = "A noop run measures the scheduler only, not a model."
        elif family not in MODEL_FAMILIES:
            errors["workload.family"] = f"Family must be one of {', '.join(MODEL_FAMILIES)}."
        dtype = workload.get("dtype")
        if dtype not in DTYPES:
            errors["workload.dtype"] = f"Dtype must be one of {', '.join(DTYPES)}."
            dtype = None
        count = workload.get("param_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            errors["workload.param_count"] = "Must be a whole number >= 1."
        if expected_spec is not None and not any(k.startswith("workload") for k in errors):
            expected = workload_for_spec(expected_spec)
            if expected is not None:
                differs = sorted(k for k, v in expected.items() if workload.get(k) != v)
                if differs:
                    errors["workload"] = ("The result is for a different model than the design asks for "
                                          f"({', '.join(differs)} differ): run the design's spec.")

    settings = result.get("settings")
    max_batch = delay = queries = None
    if not isinstance(settings, Mapping):
        errors["settings"] = "Missing: the result records the settings it ran with."
    else:
        batcher = settings.get("batcher")
        if not isinstance(batcher, Mapping):
            errors["settings.batcher"] = "Missing: the result records its batcher settings."
        else:
            max_batch = batcher.get("max_batch_size")
            if isinstance(max_batch, bool) or not isinstance(max_batch, int) or not 1 <= max_batch <= 65_536:
                errors["settings.batcher.max_batch_size"] = "Must be a whole number from 1 to 65,536."
                max_batch = None
            delay = number("settings.batcher.max_queue_delay_ms", batcher.get("max_queue_delay_ms"), 0.0,
                           RESULT_MS_MAX, required=True)
        queries = settings.get("queries")
        if isinstance(queries, bool) or not isinstance(queries, int) or queries < QUERIES_LIMITS[0]:
            errors["settings.queries"] = f"Must be a whole number >= {QUERIES_LIMITS[0]}."
            queries = None

    if expected_spec is not None:
        _check_settings_match(expected_spec, budget, max_batch, delay, errors)

    provenance = result.get("provenance")
    device = None
    if not isinstance(provenance, Mapping) or not provenance:
        errors["provenance"] = "Missing: a measurement records where and with what it ran."
    else:
        device = _check_provenance(provenance, settings if isinstance(settings, Mapping) else {}, errors)

    if errors:
        return None, errors
    notes: list[str] = []
    if max_qps == 0:
        notes.append("No rate met the P99 budget: the reference cannot serve this model within it.")
    if result.get("max_qps_confirmed") is False:
        notes.append("The confirming run at max QPS did not pass: treat max QPS as an upper bound.")
    if result.get("p99_valid") is False:
        notes.append("The server run was short or invalid: its P99 is not a reliable claim.")
    finished = started_at + dt.timedelta(seconds=duration)
    measurements = {
        "max_qps_at_p99": max_qps,
        "p50_ms_at_peak": p50,
        "p95_ms_at_peak": p95,
        "p99_ms_at_peak": p99,
        "p99_budget_ms": budget,
        "offline_throughput_per_s": offline,
        "device": device,
        "dtype": dtype,
        "torch_version": provenance.get("torch_version"),
        "max_batch_size": max_batch,
        "max_queue_delay_ms": delay,
        "seed": seed,
        "duration_s": duration,
        "measured_at": finished.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        # Not read by build_facts; for the app.
        "source": "benchmark",
        "scenario": scenario,
        "target_qps": target,
        "queries": queries,
        "p99_valid": result.get("p99_valid") if isinstance(result.get("p99_valid"), bool) else None,
        "max_qps_confirmed": (result.get("max_qps_confirmed") if isinstance(result.get("max_qps_confirmed"), bool)
                              else None),
    }
    return {"measurements": measurements, "provenance": dict(provenance), "result": dict(result),
            "notes": notes}, {}


def _result_number(errors: dict[str, str], path: str, value: Any, low: float, high: float, *, required: bool,
                   strict_low: bool = False) -> float | None:
    """A finite number of a result within [low, high], or None with the error under `path`."""
    if value is None:
        if required:
            errors[path] = "Missing: the result has no value here."
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors[path] = "Must be a number."
        return None
    number_ = float(value)
    if not math.isfinite(number_):
        errors[path] = "Must be a finite number."
    elif number_ < low or (strict_low and number_ == low):
        errors[path] = f"Must be {'above' if strict_low else 'at least'} {low:g} (got {number_:g})."
    elif number_ > high:
        errors[path] = f"{number_:g} is not plausible (at most {high:g})."
    else:
        return number_
    return None


def _generative_measurements(result: Mapping[str, Any], errors: dict[str, str], *,
                             expected_spec: Mapping[str, Any] | None,
                             now: dt.datetime | None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """`measurements_from_result` for a generative run (scenario generate-...): goodput, output
    tokens/s, TTFT p99, TPOT p99 (p99 over all requests, an unfinished one infinitely late).

    Refused as well as a server run is: a p99 above its own SLO where the run claims the SLO met
    (or the reverse), p50 above p99, a max rate whose run missed the SLO, a result for another
    decoder or other SLOs than the design's spec, missing provenance."""
    number = partial(_result_number, errors)
    scenario = str(result["scenario"])
    metrics = result.get("metrics")
    slo = result.get("slo") if isinstance(result.get("slo"), Mapping) else {}
    if not isinstance(metrics, Mapping):
        errors["metrics"] = "Missing: a generative result records the measured run's metrics."
        metrics = {}
    ttft_slo = number("slo.ttft_slo_ms", slo.get("ttft_slo_ms"), 0.0, RESULT_MS_MAX, required=True, strict_low=True)
    tpot_slo = number("slo.tpot_slo_ms", slo.get("tpot_slo_ms"), 0.0, RESULT_MS_MAX, required=True, strict_low=True)
    ttft = number("metrics.ttft_p99_all_ms", metrics.get("ttft_p99_all_ms"), 0.0, RESULT_MS_MAX, required=False)
    tpot = number("metrics.tpot_p99_all_ms", metrics.get("tpot_p99_all_ms"), 0.0, RESULT_MS_MAX, required=False)
    tokens_s = number("metrics.output_tokens_per_s", metrics.get("output_tokens_per_s"), 0.0, RESULT_QPS_MAX,
                      required=True)
    goodput = number("metrics.goodput_rps", metrics.get("goodput_rps"), 0.0, RESULT_QPS_MAX, required=True)
    duration = number("duration_s", result.get("duration_s"), 0.0, RESULT_DURATION_S_MAX, required=True)
    for kind, p99 in (("ttft", ttft), ("tpot", tpot)):
        summary = metrics.get(kind) if isinstance(metrics.get(kind), Mapping) else {}
        p50 = number(f"metrics.{kind}.p50_ms", summary.get("p50_ms"), 0.0, RESULT_MS_MAX, required=False)
        if p50 is not None and p99 is not None and p50 > p99:
            errors[f"metrics.{kind}.p50_ms"] = (f"{kind.upper()} p50 ({p50:g} ms) above its p99 ({p99:g} ms): the "
                                                "percentiles are inconsistent.")
    met = metrics.get("slo_met")
    if not isinstance(met, bool):
        errors["metrics.slo_met"] = "Missing: the result says whether both p99s met their SLOs."
    elif None not in (ttft_slo, tpot_slo) and not any(k.startswith("metrics.") for k in errors):
        holds = ttft is not None and tpot is not None and ttft <= ttft_slo and tpot <= tpot_slo
        if met != holds:
            errors["metrics.slo_met"] = (f"The run says the SLOs were {'met' if met else 'missed'}, but TTFT p99 "
                                         f"{ttft} ms / SLO {ttft_slo:g} ms and TPOT p99 {tpot} ms / SLO "
                                         f"{tpot_slo:g} ms say otherwise.")
    capacity = goodput
    if scenario == "generate-max-qps":
        capacity = number("max_rate_rps", result.get("max_rate_rps"), 0.0, RESULT_QPS_MAX, required=True)
        if capacity and met is False:
            errors["max_rate_rps"] = (f"A max rate of {capacity:g} requests/s whose run missed the SLOs: the "
                                      "rate does not hold at them.")

    seed = result.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        errors["seed"] = "Must be a whole number."
    started_at = _parse_time(result.get("started_at"))
    if started_at is None:
        errors["started_at"] = "Must be an ISO 8601 time with a time zone, e.g. 2025-01-31T12:00:00+00:00."
    elif now is not None and started_at > now + dt.timedelta(minutes=5):
        errors["started_at"] = "The run starts in the future."
    workload = result.get("workload") if isinstance(result.get("workload"), Mapping) else {}
    dtype = workload.get("dtype")
    if dtype not in GENERATIVE_DTYPES:
        errors["workload.dtype"] = f"Dtype must be one of {', '.join(GENERATIVE_DTYPES)}."
    settings = result.get("settings") if isinstance(result.get("settings"), Mapping) else {}
    if expected_spec is not None:
        wanted = expected_spec.get("shape")
        if isinstance(wanted, Mapping):
            differs = sorted(k for k, v in wanted.items() if workload.get(k) != v)
            if differs:
                errors["workload"] = ("The result is for a different decoder than the design asks for "
                                      f"({', '.join(differs)} differ): run the design's spec.")
        for key in ("ttft_slo_ms", "tpot_slo_ms"):
            want, got = finite_number(expected_spec.get(key)), finite_number(slo.get(key))
            if want is not None and got is not None and not math.isclose(want, got, rel_tol=1e-6):
                errors[f"slo.{key}"] = f"The run used {got:g} ms; the design's spec asks for {want:g} ms."
    provenance = result.get("provenance")
    device = None
    if not isinstance(provenance, Mapping) or not provenance:
        errors["provenance"] = "Missing: a measurement records where and with what it ran."
    else:
        device = _check_provenance(provenance, settings, errors)
    if errors:
        return None, errors
    notes: list[str] = []
    if result.get("valid") is False:
        notes.append("The run was cut short (requests unfinished at the drain limit): its p99s are not a claim.")
    if ttft is None or tpot is None:
        notes.append("Some requests did not finish: the TTFT / TPOT p99 over all requests is unbounded.")
    finished = started_at + dt.timedelta(seconds=duration)
    measurements = {
        "goodput_rps": capacity,
        "output_tokens_per_s": tokens_s,
        "ttft_p99_ms": ttft,
        "tpot_p99_ms": tpot,
        "device": device,
        "dtype": dtype,
        "torch_version": provenance.get("torch_version"),
        "max_batch_size": ((settings.get("scheduler") or {}).get("max_num_seqs")
                           if isinstance(settings.get("scheduler"), Mapping) else None),
        "seed": seed,
        "duration_s": duration,
        "measured_at": finished.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        # Not read by build_facts; for the app.
        "source": "benchmark",
        "scenario": scenario,
        "ttft_slo_ms": ttft_slo,
        "tpot_slo_ms": tpot_slo,
        "slo_met": met,
        "requests": metrics.get("requests"),
    }
    return {"measurements": measurements, "provenance": dict(provenance), "result": dict(result),
            "notes": notes}, {}


def _check_settings_match(spec: Mapping[str, Any], budget: float | None, max_batch: int | None,
                          delay: float | None, errors: dict[str, str]) -> None:
    """A result measured under another budget or batcher answers another question."""
    wanted = spec.get("latency_p99_budget_ms")
    if finite_number(wanted) is not None and budget is not None and not math.isclose(budget, wanted, rel_tol=1e-6):
        errors["latency_p99_budget_ms"] = (f"The run used a {budget:g} ms P99 budget; the design's spec asks for "
                                           f"{wanted:g} ms.")
    batcher = spec.get("batcher")
    if not isinstance(batcher, Mapping):
        return
    wanted = batcher.get("max_batch_size")
    if isinstance(wanted, int) and max_batch is not None and max_batch != wanted:
        errors["settings.batcher.max_batch_size"] = (f"The run used max batch size {max_batch}; the design's spec "
                                                     f"asks for {wanted}.")
    wanted = finite_number(batcher.get("max_queue_delay_ms"))
    if wanted is not None and delay is not None and not math.isclose(delay, wanted, abs_tol=1e-9):
        errors["settings.batcher.max_queue_delay_ms"] = (f"The run used a {delay:g} ms queue delay; the design's "
                                                         f"spec asks for {wanted:g} ms.")


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_provenance(prov: Mapping[str, Any], settings: Mapping[str, Any], errors: dict[str, str]) -> str | None:
    """Require what a genuine run records and that it hangs together; return the device label."""
    for key in HOST_PROVENANCE_KEYS + TORCH_PROVENANCE_KEYS:
        if key not in prov:
            errors[f"provenance.{key}"] = "Missing: every benchmark result records it."
    for key in ("python_version", "numpy_version", "platform", "torch_version", "device_name"):
        value = prov.get(key)
        if key in prov and (not isinstance(value, str) or not value.strip() or len(value) > 300):
            errors[f"provenance.{key}"] = "Must be a non-empty text."
    for key in ("cpu_count", "torch_threads"):
        value = prov.get(key)
        if key in prov and value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            errors[f"provenance.{key}"] = "Must be a whole number >= 1."
    if "torch_threads" in prov and prov.get("torch_threads") is None:
        errors["provenance.torch_threads"] = "Must be a whole number >= 1."
    if "argv" in prov and not isinstance(prov.get("argv"), list):
        errors["provenance.argv"] = "Must be the command line, a list."
    if "git_commit" in prov and prov.get("git_commit") is not None and not isinstance(prov.get("git_commit"), str):
        errors["provenance.git_commit"] = "Must be a commit id or null."

    device_type = prov.get("device_type")
    if "device_type" in prov and device_type not in ("cpu", "cuda"):
        errors["provenance.device_type"] = "Must be cpu or cuda."
        return None
    torch_version = prov.get("torch_version")
    if device_type == "cuda":
        cuda = prov.get("cuda_version")
        if not isinstance(cuda, str) or not cuda.strip():
            errors["provenance.cuda_version"] = "A CUDA run records the CUDA version torch was built with."
        if isinstance(torch_version, str) and torch_version.endswith("+cpu"):
            errors["provenance.torch_version"] = f"{torch_version} is a CPU-only build: it cannot have run on CUDA."
        if "cudnn_version" not in prov:
            errors["provenance.cudnn_version"] = "Missing: a CUDA run records the cuDNN version."
        name = prov.get("device_name")
        if isinstance(name, str) and name.strip().lower() in ("cpu", "cuda", "gpu", "unknown"):
            errors["provenance.device_name"] = "A CUDA run records the GPU's name."
    ran_on = settings.get("device")
    if isinstance(device_type, str) and ran_on is not None and (
            not isinstance(ran_on, str) or ran_on.split(":")[0] != device_type):
        errors["provenance.device_type"] = (f"The settings say the run used {ran_on!r} but the provenance says "
                                            f"{device_type!r}.")
    if any(k.startswith("provenance.") for k in errors):
        return None
    return prov["device_name"].strip()[:200] if device_type == "cuda" else "cpu"


# --- a throughput measured elsewhere --------------------------------------------------------

def known_throughput_measurements(
    per_replica_qps: Any,
    p99_ms: Any,
    source: Any,
    *,
    p99_budget_ms: Any = None,
    device: Any = None,
    dtype: Any = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Measurements for a throughput a team measured elsewhere (a load test, a vendor benchmark).

    `per_replica_qps`: the rate one replica sustained; `p99_ms`: its P99 there; `source`: where
    the numbers come from (shown next to them). The P99 budget defaults to that P99. Returns
    (measurements in the `build_facts` shape with source "entered", {}) or (None, errors keyed
    by argument name). The same limits as for a benchmark result apply.
    """
    errors: dict[str, str] = {}
    qps, error = _check_number(per_replica_qps, (0.0, RESULT_QPS_MAX), float)
    if error is None and qps == 0:
        error = "Must be above 0."
    if error:
        errors["per_replica_qps"] = error
    p99, error = _check_number(p99_ms, (0.0, RESULT_MS_MAX), float)
    if error is None and p99 == 0:
        error = "Must be above 0."
    if error:
        errors["p99_ms"] = error
    budget = p99
    if p99_budget_ms is not None:
        budget, error = _check_number(p99_budget_ms, (0.0, RESULT_MS_MAX), float)
        if error is None and budget == 0:
            error = "Must be above 0."
        if error:
            errors["p99_budget_ms"] = error
        elif p99 is not None and p99 > budget:
            errors["p99_ms"] = f"The P99 ({p99:g} ms) is above the budget ({budget:g} ms): that rate does not meet it."
    if not isinstance(source, str) or not source.strip():
        errors["source"] = "Say where the numbers come from (a load test, a vendor benchmark, ...)."
    elif len(source) > 500:
        errors["source"] = "At most 500 characters."
    if device is not None and (not isinstance(device, str) or not device.strip() or len(device) > 200):
        errors["device"] = "Must be a text of at most 200 characters."
    if dtype is not None and (not isinstance(dtype, str) or dtype not in REFERENCE_DTYPE):
        errors["dtype"] = f"Must be one of {', '.join(REFERENCE_DTYPE)}."
    if errors:
        return None, errors
    return {
        "max_qps_at_p99": qps,
        "p99_ms_at_peak": p99,
        "p99_budget_ms": budget,
        "device": device.strip() if isinstance(device, str) else None,
        "dtype": dtype,
        # Not read by build_facts; for the app.
        "source": "entered",
        "source_note": source.strip(),
    }, {}

