"""Shared data and fixtures for the benchmark app's tests (no tests here)."""

import copy
import json
from pathlib import Path

import pytest

# A design whose model is small enough to benchmark in a few seconds on one CPU thread: a 200k
# parameter MLP, P99 25 ms (15 ms left for the model after the network's 10 ms), peak 2,000 QPS.
TINY_INPUTS = {
    "requirements": {
        "workload_timing": "online", "model_family": "mlp", "model_params_billions": 0.0002, "model_dtype": "fp32",
        "sequence_length_tokens": 16, "latency_p50_ms": 5.0, "latency_p95_ms": 12.0, "latency_p99_ms": 25.0,
        "average_qps": 700.0, "peak_qps": 2000.0,
    },
    "architecture": {"batching_mode": "dynamic", "max_batch_size": 8, "max_batch_delay_ms": 1.0,
                     "gpu_type": "l4-24gb"},
}  # fmt: skip
TINY_SHAPE = "mlp/200000/fp32/16"
# A genuine result of TINY_INPUTS' derived spec (300 queries, cpu), as `python -m engine.bench --out` writes it.
RESULT_FILE = Path(__file__).parent / "data" / "benchmark-result-tiny.json"


def tiny_result() -> dict:
    return json.loads(RESULT_FILE.read_text())


def measurements_for(result: dict | None = None, **changes) -> dict:
    from engine.bench.design_spec import measurements_from_result

    checked, errors = measurements_from_result(result or tiny_result())
    assert errors == {}
    return {**checked["measurements"], **changes}


@pytest.fixture
def tiny_design(design):
    design.inputs = copy.deepcopy(TINY_INPUTS)
    design.save(update_fields=["inputs"])
    return design


def make_run(design, *, status="succeeded", source="run", shape_key=TINY_SHAPE, measurements="default", **fields):
    """A run row as a finished job (or upload / entry) leaves it."""
    from django.utils import timezone

    from reviewapp.benchmarks.models import BenchmarkRun

    if measurements == "default":
        measurements = measurements_for() if status == "succeeded" else None
    now = timezone.now()
    defaults = {"design_revision": design.revision, "spec": {}, "started_at": now, "finished_at": now,
                "heartbeat_at": now, "result": tiny_result() if status == "succeeded" and source != "entered" else None}
    if status in ("queued", "running"):
        defaults.update(finished_at=None)
    elif status == "succeeded":
        defaults.update(progress=100.0, phase="done")
    defaults.update(fields)
    return BenchmarkRun.objects.create(design=design, status=status, source=source, shape_key=shape_key,
                                       measurements=measurements, **defaults)
