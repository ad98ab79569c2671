"""The ideal batcher's s(b), measured beside the run it is compared with.

The ideal batcher (``simulate_latencies``) is the limit a core is held to: the same dispatch
rules with zero overhead, each batch taking s(b). Measured once before a capacity search, s(b)
describes the machine as it was then, for batches of one size run back to back. On a shared
machine that is not the machine the search runs on: on the 2-core VM of issue 16 the same
batches, replayed alone right after each server run, took 0.86-1.22 x the s(b) measured a few
seconds before the search (30 searches, docs/benchmarks.md). An ideal fed the earlier s(b)
charges the machine's drift to the core.

So a run can record its batches (``BatchRecorder``) and replay them alone right after, on the
bare runner, in a worker thread as the core runs them (``replay_alone``): the same inputs, the
same sizes in the same order, nothing else running. ``replay_factor`` pools the replays of the
runs near a search's answer into one factor on the offline s(b); the ideal batcher then runs
with s(b) x that factor. The server's own batch times are not used: what a batch loses in the
server (threads, the lock, the load generator sharing the cores) stays the core's cost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# Batches of a run's first tenth (its warm-up) are not replayed: the core was cold then.
WARMUP_FRACTION = 0.1
# Runs whose rate is within this band around a search's answer feed its replay factor: the
# batch sizes of a run far above or below the knee are not those the answer runs.
NEAR_ANSWER = (0.8, 1.25)


class BatchRecorder:
    """Wraps a core's ``execute``: records each batch's inputs, start and time in the server."""

    def __init__(self, execute: Callable[[list[Any]], Sequence[Any]], clock=time.perf_counter):
        self._execute = execute
        self._clock = clock
        self.batches: list[tuple[list[Any], float, float]] = []  # (inputs, started, seconds)

    def __call__(self, inputs: list[Any]) -> Sequence[Any]:
        t = self._clock()
        out = self._execute(inputs)
        self.batches.append((inputs, t, self._clock() - t))
        return out


def replay_alone(runner: Any, recorder: BatchRecorder, clock=time.perf_counter) -> dict[str, list]:
    """Run the recorded batches again on the bare runner, one after another, in a fresh thread
    (torch's thread pools are per thread, as in the core). Returns per batch (warm-up batches
    left out): ``batch_sizes``, ``replay_s`` and ``server_s``."""
    batches = recorder.batches[int(len(recorder.batches) * WARMUP_FRACTION):]
    times: list[float] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            runner.init_thread()
            for inputs, _, _ in batches:
                t = clock()
                runner.run(inputs)
                runner.synchronize()
                times.append(clock() - t)
        except BaseException as exc:  # surfaced in the calling thread
            errors.append(exc)

    thread = threading.Thread(target=work, name="bench-replay", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return {
        "batch_sizes": [len(inputs) for inputs, _, _ in batches],
        "replay_s": times,
        "server_s": [seconds for _, _, seconds in batches],
    }


def replay_factor(
    table_s: np.ndarray,
    replays: Sequence[dict[str, Any]],
    around_qps: float,
    band: tuple[float, float] = NEAR_ANSWER,
) -> dict[str, Any]:
    """One factor on the s(b) table from the replays of a search's runs: the replayed time of
    the batches of the runs near ``around_qps`` over the table's time for the same sizes (runs
    elsewhere are used only when none is near). Also reports the server's time for the same
    batches over the replay's, the core's own loss, for the reader."""
    near = [r for r in replays if band[0] * around_qps <= r["rate_qps"] <= band[1] * around_qps]
    used = [r for r in (near or replays) if r["batch_sizes"]]
    if not used:
        return {"factor": None, "server_over_replay": None, "runs": 0, "batches": 0, "near_answer": bool(near)}
    sizes = np.concatenate([np.asarray(r["batch_sizes"], dtype=int) for r in used])
    if sizes.max() >= len(table_s):
        raise ValueError("a replayed batch is larger than the s(b) table")
    replay = float(sum(np.sum(r["replay_s"]) for r in used))
    server = float(sum(np.sum(r["server_s"]) for r in used))
    return {
        "factor": round(replay / float(np.sum(table_s[sizes])), 4),
        "server_over_replay": round(server / replay, 4) if replay > 0 else None,
        "runs": len(used),
        "batches": int(sizes.size),
        "near_answer": bool(near),
    }
