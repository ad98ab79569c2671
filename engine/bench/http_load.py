"""Open-loop HTTP load over loopback, for comparing HTTP fronts (ours and LitServe).

A minimal HTTP/1.1 keep-alive client on asyncio (no extra dependency): a pool of persistent
connections, one request in flight per connection, new connections opened on demand up to
``max_connections``. Arrivals follow the same seeded Poisson schedule as the in-process
generator, and latency is counted from the scheduled arrival. Load stays on 127.0.0.1 and every
run is bounded in query count and wall time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.bench.loadgen import (
    DEFAULT_LATE_TOLERANCE_MS,
    FAILED,
    OK,
    PENDING,
    REJECTED,
    TIMED_OUT,
    poisson_offsets,
    summarise_run,
)
from engine.bench.search import max_qps_search
from engine.bench.stats import MIN_QUERIES_FOR_P99, noise_probe

HOST = "127.0.0.1"


def _request_bytes(path: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def http_open_loop(
    port: int,
    bodies: Sequence[bytes],
    offsets_s: np.ndarray,
    *,
    path: str = "/predict",
    warmup_queries: int = 0,
    max_connections: int = 256,
    initial_connections: int = 32,
    late_tolerance_ms: float = DEFAULT_LATE_TOLERANCE_MS,
    max_wall_s: float | None = None,
) -> dict[str, Any]:
    clock = time.perf_counter
    n = len(offsets_s)
    raws = [_request_bytes(path, port, b) for b in bodies]
    sent = np.full(n, np.nan)
    finished = np.full(n, np.nan)
    outcome = np.full(n, PENDING, dtype=np.int8)
    idle: asyncio.Queue = asyncio.Queue()
    opened = [0]

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        opened[0] += 1
        try:
            return await asyncio.open_connection(HOST, port)
        except OSError:
            opened[0] -= 1
            raise

    for _ in range(initial_connections):
        idle.put_nowait(await connect())

    async def one(k: int) -> None:
        try:
            if not idle.empty():
                conn = idle.get_nowait()
            elif opened[0] < max_connections:
                conn = await connect()
            else:
                conn = await idle.get()
            sent[k] = clock()
            status = await _exchange(conn[0], conn[1], raws[k % len(raws)])
            idle.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            finished[k] = clock()
            outcome[k] = FAILED
            opened[0] -= 1
            return
        finished[k] = clock()
        if status == 200:
            outcome[k] = OK
        elif status in (429, 503):
            outcome[k] = REJECTED
        elif status == 504:
            outcome[k] = TIMED_OUT
        else:
            outcome[k] = FAILED

    tasks = []
    t0 = clock() + 0.01
    targets = t0 + np.asarray(offsets_s, dtype=np.float64)
    for k in range(n):
        delay = targets[k] - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(k)))
    span = float(offsets_s[-1])
    limit = max_wall_s if max_wall_s is not None else span + 15.0
    done, pending = await asyncio.wait(tasks, timeout=max(0.1, limit - (clock() - t0)))
    for t in pending:
        t.cancel()
    while not idle.empty():
        _, writer = idle.get_nowait()
        writer.close()
    # Lateness is measured at the write, so a connection shortage shows up as late sends.
    return summarise_run(
        targets, sent, finished, outcome, warmup_queries=warmup_queries, deadline_s=None,
        late_tolerance_ms=late_tolerance_ms, run_timed_out=bool(pending),
    )


def _run_async(coro_fn: Callable[[], Any]) -> Any:
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro_fn())
    except ImportError:
        return asyncio.run(coro_fn())


def http_server_run(
    port: int,
    bodies: Sequence[bytes],
    rate_qps: float,
    *,
    queries: int,
    seed: int = 0,
    warmup_queries: int | None = None,
) -> dict[str, Any]:
    if warmup_queries is None:
        warmup_queries = max(30, queries // 10)
    offsets = poisson_offsets(rate_qps, warmup_queries + queries, seed)
    noise = noise_probe()
    result = _run_async(
        lambda: http_open_loop(port, bodies, offsets, warmup_queries=warmup_queries)
    )
    result["rate_qps"] = round(rate_qps, 2)
    result["noise"] = noise
    return result


def http_max_qps(
    port: int,
    bodies: Sequence[bytes],
    p99_budget_ms: float,
    *,
    start_qps: float,
    seconds_per_step: float = 2.0,
    min_queries: int = 300,
    max_queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    rel_tol: float = 0.05,
    max_steps: int = 12,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Max QPS at p99 <= budget over HTTP. Steps are bounded in time: each runs about
    ``seconds_per_step`` (between ``min_queries`` and ``max_queries``); runs under 2,010
    queries are marked short in their results."""

    def measure(rate: float) -> dict[str, Any]:
        q = int(min(max_queries, max(min_queries, rate * seconds_per_step)))
        return http_server_run(port, bodies, rate, queries=q, seed=seed)

    def on_step(step: dict[str, Any]) -> None:
        if progress is not None:
            progress({"stage": "http-max-qps", "port": port, **step})

    out = max_qps_search(
        measure, p99_budget_ms=p99_budget_ms, start_qps=start_qps, min_qps=start_qps / 8,
        rel_tol=rel_tol, max_steps=max_steps, on_step=on_step,
    )
    out["p99_budget_ms"] = p99_budget_ms
    return out


class ServerProcess:
    """Start an HTTP server in a child process, wait for /health, stop it on exit."""

    def __init__(self, args: list[str], port: int, *, env: dict[str, str] | None = None,
                 startup_timeout_s: float = 120.0):
        self.args = args
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        # stderr to a file, not a pipe: a chatty server must never block on a full pipe.
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, *self.args], env=self.env, stdout=subprocess.DEVNULL,
            stderr=self._log, start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"http://{HOST}:{self.port}/health"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"server exited during startup: {err}")
            try:
                with urllib.request.urlopen(url, timeout=1.0) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"server on port {self.port} not healthy after {self.startup_timeout_s}s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The server runs in its own session: signal its whole group (LitServe forks workers).
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]
