"""A thin HTTP front for the serving core: Starlette on uvicorn (httptools, uvloop when present).

Request contract (shared with the LitServe peer in ``engine.bench.litserve_app`` so the two can
be compared like for like)::

    POST /predict   {"input_b64": base64 of the input's little-endian bytes}
                    float32 for an MLP (input_dim values), int64 token ids for a transformer
    200             {"output_b64": base64 of the float32 output}
    400 bad input · 429 rejected (queue full, predicted deadline miss) · 503 shutting down
    504 timed out (deadline passed before execution; header X-Timeout-Ms sets a deadline)
    GET /health     200 "ok" once the model is warm

The event loop that parses HTTP also runs the batching policy, so a request goes from socket to
queue without a thread hop; only the batch crosses to the worker thread (see ``core``).

Run: ``python -m engine.serving.http --port 8000 --max-batch-size 64 --max-queue-delay-ms 1``
(the ``bench`` extra provides uvicorn and starlette).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from contextlib import asynccontextmanager
from typing import Any

import numpy as np

from engine.serving.core import RequestRejected, RequestTimedOut, ServingCore, ServingError
from engine.serving.policy import SHUTTING_DOWN, BatcherConfig
from engine.serving.workloads import WorkloadSpec


def decode_input(body: bytes, spec: WorkloadSpec) -> np.ndarray:
    """Parse a request body into one input array; ValueError on anything malformed."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ValueError("body must be JSON with a base64 'input_b64' field") from exc
    return decode_document(doc, spec)


def decode_document(doc: Any, spec: WorkloadSpec) -> np.ndarray:
    try:
        raw = base64.b64decode(doc["input_b64"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError("body must be JSON with a base64 'input_b64' field") from exc
    dtype = np.int64 if spec.family == "transformer" else np.float32
    expected = int(np.prod(spec.input_shape)) * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise ValueError(f"input must be {expected} bytes ({spec.input_shape} {np.dtype(dtype).name})")
    arr = np.frombuffer(raw, dtype=dtype).reshape(spec.input_shape)
    if spec.family == "transformer" and (arr.min() < 0 or arr.max() >= spec.vocab_size):
        raise ValueError("token ids out of range")
    return arr


def output_document(output: Any) -> dict[str, str]:
    arr = output.numpy() if hasattr(output, "numpy") else np.asarray(output)
    return {"output_b64": base64.b64encode(arr.astype(np.float32).tobytes()).decode()}


def encode_output(output: Any) -> bytes:
    return json.dumps(output_document(output)).encode()


def encode_input(arr: np.ndarray) -> bytes:
    """The client side of the contract (used by the load generator and tests)."""
    return json.dumps({"input_b64": base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()}).encode()


def create_app(core: ServingCore, spec: WorkloadSpec, *, on_startup=None):
    """An ASGI app serving ``core``; the core starts and drains with the app's lifespan.

    Starlette does the routing, health, metrics and lifespan. ``POST /predict``, the hot path,
    is answered by a plain ASGI function in front of it: the same contract without building
    Request/Response objects, which is most of a small request's cost in Python.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    ready = {"ok": False}

    @asynccontextmanager
    async def lifespan(app):
        await core.start()
        if on_startup is not None:
            on_startup()
        ready["ok"] = True
        try:
            yield
        finally:
            ready["ok"] = False
            await core.stop(drain=True)

    async def handle(body: bytes, timeout_header: str | None) -> tuple[int, bytes, bytes]:
        try:
            x = decode_input(body, spec)
            timeout_ms = float(timeout_header) if timeout_header else None
            if timeout_ms is not None and not timeout_ms > 0:
                raise ValueError("X-Timeout-Ms must be > 0")
        except ValueError as exc:
            return 400, str(exc).encode(), b"text/plain"
        try:
            out = await core.infer(x, timeout_ms=timeout_ms)
        except RequestRejected as exc:
            return (503 if exc.reason == SHUTTING_DOWN else 429), exc.reason.encode(), b"text/plain"
        except RequestTimedOut as exc:
            return 504, exc.reason.encode(), b"text/plain"
        except ServingError as exc:
            return 500, exc.reason.encode(), b"text/plain"
        return 200, encode_output(out), b"application/json"

    async def predict(request: Request) -> Response:  # reached only through Starlette
        status, body, ctype = await handle(await request.body(), request.headers.get("x-timeout-ms"))
        return Response(body, status_code=status, media_type=ctype.decode())

    async def health(request: Request) -> Response:
        if not ready["ok"]:
            return PlainTextResponse("starting", status_code=503)
        return PlainTextResponse("ok")

    async def metrics(request: Request) -> Response:
        return Response(json.dumps(core.metrics()), media_type="application/json")

    routed = Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/predict" or scope["method"] != "POST":
            await routed(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        timeout_header = None
        for name, value in scope["headers"]:
            if name == b"x-timeout-ms":
                timeout_header = value.decode("latin-1")
        status, body, ctype = await handle(b"".join(chunks), timeout_header)
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.serving.http")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workload", default="reference-mlp", choices=("reference-mlp", "bert-base"))
    p.add_argument("--dtype", default="fp32")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--max-queue-delay-ms", type=float, default=1.0)
    p.add_argument("--max-queue-size", type=int, default=4096)
    args = p.parse_args(argv)

    from engine.serving.threads import pin_threads

    threads = pin_threads(args.threads)
    from engine.serving.runner import Runner
    from engine.serving.workloads import bert_base, reference_mlp

    spec = reference_mlp(args.dtype) if args.workload == "reference-mlp" else bert_base(args.dtype)
    runner = Runner(spec, device=args.device, threads=threads, max_batch_size=args.max_batch_size)
    runner.warmup((1, min(8, args.max_batch_size), args.max_batch_size))
    config = BatcherConfig(
        max_batch_size=args.max_batch_size, max_queue_delay_ms=args.max_queue_delay_ms,
        max_queue_size=args.max_queue_size,
    )
    core = ServingCore(runner.run, config, init_thread=runner.init_thread)
    app = create_app(core, spec)
    # Keep the collector off the start-up heap (model, modules): full collections would walk it
    # on every few thousand requests' worth of allocations.
    import gc

    gc.collect()
    gc.freeze()

    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
