"""Latency statistics, the noise probe, provenance, and the result record."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PERCENTILES = (50, 90, 95, 99)
# MLPerf's early-stopping minimum for a p99 claim with zero overruns.
MIN_QUERIES_FOR_P99 = 2010


def latency_summary_ms(latencies_s: np.ndarray | list[float]) -> dict[str, float | int | None]:
    """p50/p90/p95/p99/max/mean in ms from raw latencies (numpy, 'higher' interpolation, so a
    percentile is always a latency that was really observed)."""
    lat = np.asarray(latencies_s, dtype=np.float64)
    out: dict[str, float | int | None] = {"count": int(lat.size)}
    if lat.size == 0:
        out.update({f"p{p}_ms": None for p in PERCENTILES})
        out.update(max_ms=None, mean_ms=None)
        return out
    values = np.percentile(lat, PERCENTILES, method="higher") * 1000.0
    for p, v in zip(PERCENTILES, values):
        out[f"p{p}_ms"] = round(float(v), 4)
    out["max_ms"] = round(float(lat.max() * 1000.0), 4)
    out["mean_ms"] = round(float(lat.mean() * 1000.0), 4)
    return out


def nearest_rank(values: np.ndarray | list[float], percentile: float) -> float | None:
    """The nearest-rank percentile: the smallest observed value with at least ``percentile`` %
    of the values at or below it (the ceil(p/100 x n)-th smallest). None for no values."""
    if not 0 < percentile <= 100:
        raise ValueError("percentile must be in (0, 100]")
    v = np.sort(np.asarray(values, dtype=np.float64))
    if v.size == 0:
        return None
    rank = max(1, math.ceil(round(percentile / 100.0 * v.size, 9)))
    return float(v[rank - 1])


def nearest_rank_summary_ms(values_s: np.ndarray | list[float],
                            percentiles: tuple[int, ...] = (50, 90, 99)) -> dict[str, float | int | None]:
    """count, mean, max and nearest-rank percentiles in ms of raw values in seconds."""
    v = np.asarray(values_s, dtype=np.float64)
    out: dict[str, float | int | None] = {"count": int(v.size)}
    for p in percentiles:
        x = nearest_rank(v, p)
        out[f"p{p}_ms"] = None if x is None else round(x * 1000.0, 4)
    out["mean_ms"] = round(float(v.mean()) * 1000.0, 4) if v.size else None
    out["max_ms"] = round(float(v.max()) * 1000.0, 4) if v.size else None
    return out


def noise_probe(duration_s: float = 0.05, stall_threshold_us: float = 50.0) -> dict[str, float]:
    """Spin for ``duration_s`` and report the share of wall time lost to stalls (gaps between
    consecutive clock reads above the threshold) and the longest stall: how noisy the machine
    was right beside a measurement."""
    clock = time.perf_counter
    threshold = stall_threshold_us / 1e6
    start = prev = clock()
    end = start + duration_s
    lost = 0.0
    longest = 0.0
    while prev < end:
        now = clock()
        gap = now - prev
        if gap > threshold:
            lost += gap
            if gap > longest:
                longest = gap
        prev = now
    wall = prev - start
    return {
        "stall_fraction": round(lost / wall, 4) if wall > 0 else 0.0,
        "longest_stall_ms": round(longest * 1000.0, 3),
        "probe_ms": round(wall * 1000.0, 1),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def git_commit(cwd: str | Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "engine"], cwd=cwd or Path(__file__).resolve().parent,
        capture_output=True, text=True, timeout=5,
    ).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def host_provenance() -> dict[str, Any]:
    """Facts that need no torch (torch facts come from ``engine.serving.runner.provenance``)."""
    return {
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_num_threads": os.environ.get("MKL_NUM_THREADS"),
        "git_commit": git_commit(),
        "argv": list(sys.argv),
    }


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(slots=True)
class BenchResult:
    """One benchmark's result: what was asked, where it ran, what was measured."""

    scenario: str
    workload: dict[str, Any]
    settings: dict[str, Any]
    provenance: dict[str, Any]
    seed: int
    started_at: str
    duration_s: float
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    schema_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=_json_default)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
