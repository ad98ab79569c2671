"""Padded batch sizes in the bench: s(b) is measured unpadded, and everything fed from the
padded offline result (the ideal batcher, the shedding model) sees what the core runs."""

import pytest

from engine.bench import scenarios as sc
from engine.serving.workloads import WorkloadSpec

TINY = WorkloadSpec(family="mlp", input_dim=8, hidden_dims=(16,), output_dim=4)
STEPPED = {1: 1.0, 2: 2.0, 4: 4.0, 8: 8.0, 12: 9.0, 16: 6.0, 32: 12.0}


def offline_result(times_ms):
    rows = [{"batch_size": b, "batch_time_ms": ms, "throughput_qps": b * 1000.0 / ms} for b, ms in times_ms.items()]
    fit = sc.fit_batch_time(list(times_ms), list(times_ms.values()))
    return {"batch_sizes": rows, "fit": fit,
            "fit_coefficients": {"intercept_ms": fit["intercept_ms"], "per_item_ms": fit["per_item_ms"]}}


@pytest.fixture
def bench():
    return sc.make_bench(TINY, device="cpu", threads=1, max_batch_size=32, warmup_batch_sizes=(1,))


def record_batch_sizes(runner):
    seen = []
    plain = runner.run_stacked
    runner.run_stacked = lambda batch: seen.append(batch.shape[0]) or plain(batch)
    return seen


def test_pad_batches_makes_the_runner_pad_and_returns_s_b_as_the_padded_runner_runs_it(bench):
    padded = sc.pad_batches(bench, offline_result(STEPPED))
    assert bench.runner.pad_to == {b: 16 for b in range(7, 16)}
    assert padded["padding"] == {str(b): 16 for b in range(7, 16)}
    rows = {r["batch_size"]: r for r in padded["batch_sizes"]}
    assert rows[12]["batch_time_ms"] == 6.0 and rows[12]["padded_to"] == 16
    assert rows[4]["batch_time_ms"] == 4.0 and "padded_to" not in rows[4]
    # The ideal batcher and the shedding model read the padded times.
    table = sc.offline_table(padded, 32)
    assert table[12] == pytest.approx(0.006) and table[9] == pytest.approx(0.006)
    assert dict(sc.measured_points(padded))[13] == 6.0
    seen = record_batch_sizes(bench.runner)
    bench.runner.run(bench.payloads[:12])
    assert seen == [16]


def test_offline_measures_every_size_unpadded_and_leaves_the_padding_in_place(bench):
    bench.runner.set_padding({3: 4})
    seen = record_batch_sizes(bench.runner)
    result = sc.offline(bench, [1, 3, 4], min_time_s=0.001)
    assert [r["batch_size"] for r in result["batch_sizes"]] == [1, 3, 4]
    assert 3 in seen and set(seen) == {1, 3, 4}
    assert bench.runner.pad_to == {3: 4}
