"""Where the core loses capacity at a tight budget: the timeline of server runs, stage by stage.

    python benchmarks/serving_timeline.py [--rate-fraction 0.9] [--runs 3]

Measures s(b) offline at every batch size up to 40 (and beyond in steps), finds the ideal
batcher's capacity at L = 10 x s(1), then runs the real core at a fraction of it and records,
for every request and batch:

- send lateness: when the generator really submitted it vs. its scheduled arrival;
- queueing: admission to dispatch (waiting for the running batch, then forming);
- dispatch gap: the device idle between one batch's end and the next one's start while
  requests were queued (the worker's poll, the lock, the hand-off to the notifier);
- execution: each batch's time in the server vs. the same batch sizes replayed right after on
  the bare runner (GIL, threads and cache sharing the two cores), and the replay vs. the ideal
  batcher's s(b) table (what interpolating between measured sizes gets wrong);
- delivery: batch end to the client's callback (the notifier hop).

It prints a table (medians and p99s) and the same run replayed in the ideal-batcher simulation,
with the offline s(b), with s(b) scaled by the server's median batch-time ratios, and with the
server's own sequence of batch-time ratios (the k-th simulated batch as much slower or faster
than s(b) as the server's k-th batch was), so the share of the gap each cause explains can be
read off. Diagnostic only: nothing is committed from it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.serving.threads import pin_threads  # noqa: E402  (before torch is imported)

SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 36, 40, 48, 56, 64,
         80, 96, 112, 128)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate-fraction", type=float, default=0.9, help="of the ideal capacity")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--queries", type=int, default=2010)
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument("--no-padding", action="store_true", help="run every batch as it is")
    p.add_argument("--switch-interval-ms", type=float, help="sys.setswitchinterval for the runs")
    args = p.parse_args(argv)
    if args.switch_interval_ms is not None:
        sys.setswitchinterval(args.switch_interval_ms / 1000.0)

    threads = pin_threads(None)
    import asyncio

    import numpy as np

    from engine.bench import scenarios as sc
    from engine.bench.loadgen import open_loop_run, poisson_offsets
    from engine.bench.replay import BatchRecorder
    from engine.bench.simulate import simulate_latencies, simulate_policy
    from engine.bench.stats import noise_probe
    from engine.serving.policy import BatcherConfig
    from engine.serving.workloads import reference_mlp

    bench = sc.make_bench(reference_mlp(), device="cpu", threads=threads, max_batch_size=128,
                          warmup_batch_sizes=(1, 8, 32, 128))
    off = sc.offline(bench, SIZES, min_time_s=0.1)
    if not args.no_padding:  # as benchmarks/serving.py runs P2
        off = sc.pad_batches(bench, off)
        print(f"padded: {off['padding']}")
    rows = off["batch_sizes"]
    table = sc.offline_table(off, 128)
    s1 = rows[0]["batch_time_ms"]
    L = round(10 * s1, 3)
    config = BatcherConfig(max_batch_size=128, max_queue_delay_ms=0.0, max_queue_size=8192)
    ideal = sc.ideal_max_qps(off, config, L, start_qps=2000, queries=args.queries)
    rate = args.rate_fraction * ideal["max_qps"]
    print(f"s(1) {s1} ms, L {L} ms, ideal capacity {ideal['max_qps']} QPS; running at {rate:.0f} QPS")

    runner = bench.runner
    clock = time.perf_counter
    out_runs = []
    for k in range(args.runs):
        reqs: list = []
        delivered: dict[int, float] = {}
        real_run = runner.run
        recorder = BatchRecorder(real_run, clock=clock)

        n = sc.queries_for(rate, args.queries, L)
        warm = sc.default_warmup_queries(n)
        offsets = poisson_offsets(rate, warm + n, k)

        async def go():
            core = bench.core(config, execute=recorder)
            await core.start()
            real_submit = core.submit_threadsafe

            def submit(payload, *, callback, priority=None, deadline_s=None):
                box = []

                def answered(output, error):
                    delivered[box[0].id] = clock()
                    callback(output, error)

                req = real_submit(payload, callback=answered, priority=priority, deadline_s=deadline_s)
                box.append(req)
                reqs.append(req)
                return req

            core.submit_threadsafe = submit
            try:
                return await open_loop_run(core, bench.payloads, offsets, warmup_queries=warm)
            finally:
                await core.stop(drain=False)

        noise = noise_probe()
        result = asyncio.run(go())
        a = np.array([(start, start + seconds, len(inputs)) for inputs, start, seconds in recorder.batches])
        dur, size = a[:, 1] - a[:, 0], a[:, 2].astype(int)
        replay = []
        for b in size:
            t = clock()
            real_run(bench.payloads[:b])
            replay.append(clock() - t)
        replay = np.array(replay)
        admit = np.array([r.arrival_s for r in reqs])
        dispatch = np.array([r.dispatch_s if r.dispatch_s is not None else np.nan for r in reqs])
        deliver = np.array([delivered.get(r.id, np.nan) for r in reqs])
        # Scheduled arrivals relative to the first send (taken as on time).
        scheduled = admit[0] + (offsets[: len(reqs)] - offsets[0])
        lateness = admit - scheduled
        queue = dispatch - admit
        gaps = a[1:, 0] - a[:-1, 1]  # device idle between batches (work was always waiting here)
        # The batch a request ran in: the first one to start at or after its dispatch.
        idx = np.clip(np.searchsorted(a[:, 0], dispatch), 0, len(a) - 1)
        delivery = deliver - a[idx, 1]
        m = slice(warm, len(reqs))
        lat = result["latency_ms"]
        sim_offline = simulate_latencies(offsets, table, max_batch_size=128)[warm:]
        server_table = table * float(np.median(dur / replay)) * float(np.median(replay / table[size]))
        sim_server = simulate_latencies(offsets, server_table, max_batch_size=128)[warm:]
        # The ideal batcher with the machine's jitter as the server met it: its k-th batch takes
        # s(b) x (the server's k-th batch time / s(that batch's size)), in order.
        ratios = iter(np.resize(dur / table[size], 10 * len(dur)))
        sim_jitter = simulate_policy(offsets, config, lambda b: table[b] * next(ratios))["latency_s"][warm:]
        run = {
            "rate_qps": round(rate, 1),
            "p99_ms": result["p99_all_ms"],
            "p50_ms": lat["p50_ms"],
            "ideal_p99_ms_offline_s": round(float(np.percentile(sim_offline, 99, method="higher")) * 1e3, 3),
            "ideal_p99_ms_server_s": round(float(np.percentile(sim_server, 99, method="higher")) * 1e3, 3),
            "ideal_p99_ms_server_sequence": round(float(np.percentile(sim_jitter, 99, method="higher")) * 1e3, 3),
            "mean_batch": round(float(size.mean()), 1),
            "send_lateness_ms_p50_p99": _pq(lateness[m]),
            "queue_ms_p50_p99": _pq(queue[m]),
            "dispatch_gap_ms_p50_p99": _pq(gaps),
            "busy_fraction": round(float(dur.sum() / (a[-1, 1] - a[0, 0])), 4),
            "exec_server_over_replay_median": round(float(np.median(dur / replay)), 4),
            "exec_server_over_replay_total": round(float(dur.sum() / replay.sum()), 4),
            "exec_server_over_replay_p90": round(float(np.percentile(dur / replay, 90)), 4),
            "replay_over_table_median": round(float(np.median(replay / table[size])), 4),
            "delivery_ms_p50_p99": _pq(delivery[m]),
            "noise": noise,
        }
        out_runs.append(run)
        print(json.dumps(run))
    if args.json:
        summary = {"L_ms": L, "ideal_max_qps": ideal["max_qps"], "runs": out_runs}
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


def _pq(values) -> list[float]:
    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not v.size:
        return [None, None]
    return [round(float(np.percentile(v, 50)) * 1e3, 4), round(float(np.percentile(v, 99)) * 1e3, 4)]


if __name__ == "__main__":
    sys.exit(main())
