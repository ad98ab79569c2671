"""The ideal batcher's s(b) replayed beside the runs it is compared with (engine.bench.replay)."""

import numpy as np
import pytest

from engine.bench import scenarios as sc
from engine.bench.replay import BatchRecorder, replay_alone, replay_factor
from engine.bench.simulate import batch_time_table
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import WorkloadSpec

# s(b) = 1 ms + 0.1 ms x b, on a clock the fake runner advances.
TABLE = batch_time_table(16, intercept_ms=1.0, per_item_ms=0.1)


class SlowedRunner:
    """A runner whose batches take ``speed`` x TABLE[b] on a fake clock."""

    def __init__(self, clock: list[float], speed: float):
        self.clock, self.speed, self.threads_initialised = clock, speed, 0

    def run(self, inputs):
        self.clock[0] += self.speed * float(TABLE[len(inputs)])
        return list(inputs)

    def init_thread(self):
        self.threads_initialised += 1

    def synchronize(self):
        pass


def _recorded(sizes, speed=1.0):
    now = [0.0]
    runner = SlowedRunner(now, speed)
    recorder = BatchRecorder(runner.run, clock=lambda: now[0])
    for b in sizes:
        recorder(list(range(b)))
    return now, recorder


def test_the_replay_runs_the_recorded_batches_again_alone_and_skips_the_warm_up():
    sizes = [1] * 8 + [4, 8, 16, 2] * 18  # the first tenth (8 batches of 1) is the warm-up
    now, recorder = _recorded(sizes)
    runner = SlowedRunner(now, speed=1.25)  # the machine is slower when replaying
    out = replay_alone(runner, recorder, clock=lambda: now[0])
    assert out["batch_sizes"] == [4, 8, 16, 2] * 18
    assert runner.threads_initialised == 1  # in its own thread, pools set up as in the core
    assert out["replay_s"] == pytest.approx([1.25 * TABLE[b] for b in out["batch_sizes"]])
    assert out["server_s"] == pytest.approx([TABLE[b] for b in out["batch_sizes"]])


def test_a_failing_replay_raises_in_the_caller():
    now, recorder = _recorded([4] * 20)

    class Broken(SlowedRunner):
        def run(self, inputs):
            raise RuntimeError("device lost")

    with pytest.raises(RuntimeError, match="device lost"):
        replay_alone(Broken(now, 1.0), recorder, clock=lambda: now[0])


def _replay(rate, sizes, speed, server_speed=1.0):
    return {"rate_qps": rate, "batch_sizes": sizes, "replay_s": [speed * TABLE[b] for b in sizes],
            "server_s": [server_speed * TABLE[b] for b in sizes]}


def test_the_factor_is_the_replayed_time_over_the_tables_for_the_runs_near_the_answer():
    replays = [
        _replay(500.0, [16] * 5, speed=3.0),  # far below the answer: other sizes, other moment
        _replay(1000.0, [4, 8, 8], speed=1.2, server_speed=1.32),
        _replay(1100.0, [8, 12], speed=1.2, server_speed=1.32),
        _replay(2000.0, [16] * 5, speed=0.5),  # far above
    ]
    out = replay_factor(TABLE, replays, around_qps=1000.0)
    assert out["factor"] == pytest.approx(1.2)
    assert out["server_over_replay"] == pytest.approx(1.1)
    assert (out["runs"], out["batches"], out["near_answer"]) == (2, 5, True)
    # No run near the answer: all of them are pooled, and the result says so.
    far = replay_factor(TABLE, replays, around_qps=10_000.0)
    assert far["runs"] == 4 and far["near_answer"] is False
    assert replay_factor(TABLE, [], around_qps=1000.0)["factor"] is None
    with pytest.raises(ValueError, match="larger"):
        replay_factor(TABLE, [{"rate_qps": 1000.0, "batch_sizes": [17], "replay_s": [0.01], "server_s": [0.01]}],
                      around_qps=1000.0)


OFFLINE = {
    "batch_sizes": [{"batch_size": b, "batch_time_ms": 1.0 + 0.1 * b} for b in (1, 2, 4, 8, 16)],
    "fit_coefficients": {"intercept_ms": 1.0, "per_item_ms": 0.1},
}
CONFIG = BatcherConfig(max_batch_size=16, max_queue_delay_ms=0.0)


def test_the_paired_ideal_runs_on_the_replayed_machine():
    base = sc.ideal_max_qps(OFFLINE, CONFIG, 20.0, start_qps=1000.0, queries=600)
    slower = sc.ideal_max_qps(OFFLINE, CONFIG, 20.0, start_qps=1000.0, queries=600, batch_time_scale=1.3)
    assert slower["max_qps"] < 0.85 * base["max_qps"]
    search = {"max_qps": 4000.0, "replays": [_replay(4000.0, [8, 16, 16], speed=1.3)]}
    paired = sc.paired_ideal_max_qps(OFFLINE, CONFIG, 20.0, search, start_qps=1000.0, queries=600)
    assert paired["replay"]["factor"] == pytest.approx(1.3)
    assert paired["max_qps"] == slower["max_qps"]
    with pytest.raises(ValueError, match="replay=True"):
        sc.paired_ideal_max_qps(OFFLINE, CONFIG, 20.0, {"max_qps": 1.0}, start_qps=1000.0)
    with pytest.raises(ValueError, match="batch_time_scale"):
        sc.ideal_max_qps(OFFLINE, CONFIG, 20.0, start_qps=1000.0, batch_time_scale=0.0)


def test_a_server_run_with_replay_replays_every_measured_batch_through_the_real_core():
    bench = sc.make_bench(WorkloadSpec(family="noop"))
    config = BatcherConfig(max_batch_size=8, max_queue_delay_ms=0.0, max_queue_size=10_000)
    plain = sc.server(bench, config, 2000.0, queries=300, seed=1)
    assert "replay" not in plain
    r = sc.server(bench, config, 2000.0, queries=300, seed=1, replay=True)
    rep = r["replay"]
    n = len(rep["batch_sizes"])
    assert n > 0 and len(rep["replay_s"]) == len(rep["server_s"]) == n
    assert all(1 <= b <= 8 for b in rep["batch_sizes"])
    # Everything but the warm-up tenth of the batches: at least the measured queries' share.
    assert sum(rep["batch_sizes"]) <= 330 and sum(rep["batch_sizes"]) >= 0.8 * 300
    assert all(t >= 0 for t in rep["replay_s"])


def test_a_search_with_replay_returns_every_runs_replay_and_keeps_the_results_small(monkeypatch):
    from engine.bench import server as server_module

    def fake_server(bench, config, rate, *, queries, seed, should_cancel, replay):
        assert replay is True
        return {"p99_all_ms": 10.0 if rate <= 1500 else 50.0, "valid": True,
                "replay": _replay(rate, [4, 8], speed=1.1)}

    monkeypatch.setattr(server_module, "server", fake_server)
    search = sc.max_qps(None, CONFIG, 20.0, start_qps=1000.0, queries=300, replay=True)
    assert 1400 <= search["max_qps"] <= 1500
    assert [round(r["rate_qps"], 2) for r in search["replays"]] == [s["rate_qps"] for s in search["steps"]]
    assert "replay" not in search["result"]
