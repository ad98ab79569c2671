"""The thin HTTP front: uvicorn + Starlette on loopback around a real core, and the HTTP load
generator against it."""

import json
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import uvicorn  # a dev dependency: the HTTP front is always tested

from engine.bench.http_load import free_port, http_server_run  # noqa: E402
from engine.serving.core import ServingCore  # noqa: E402
from engine.serving.http import create_app, decode_input, encode_input  # noqa: E402
from engine.serving.policy import BatcherConfig  # noqa: E402
from engine.serving.runner import Runner  # noqa: E402
from engine.serving.workloads import WorkloadSpec  # noqa: E402

SPEC = WorkloadSpec(family="mlp", input_dim=16, hidden_dims=(32,), output_dim=8)


@pytest.fixture(scope="module")
def server():
    runner = Runner(SPEC, device="cpu", threads=1)
    core = ServingCore(runner.run, BatcherConfig(max_batch_size=8, max_queue_delay_ms=1.0),
                       init_thread=runner.init_thread)
    port = free_port()
    config = uvicorn.Config(create_app(core, SPEC), host="127.0.0.1", port=port, log_level="error",
                            access_log=False, lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield port, runner
    srv.should_exit = True
    thread.join(10)


def post(port, body, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_it_answers_a_prediction_with_the_models_output(server):
    port, runner = server
    x = np.arange(16, dtype=np.float32) / 16
    status, body = post(port, encode_input(x))
    assert status == 200
    import base64

    out = np.frombuffer(base64.b64decode(json.loads(body)["output_b64"]), dtype=np.float32)
    expected = runner.run([x])[0].numpy()
    assert np.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("body", [b"not json", b'{"input_b64": "!!"}', encode_input(np.zeros(3, np.float32))])
def test_bad_input_is_a_400_not_a_server_error(server, body):
    port, _ = server
    status, _ = post(port, body)
    assert status == 400


def test_a_bad_timeout_header_is_a_400(server):
    port, _ = server
    status, _ = post(port, encode_input(np.zeros(16, np.float32)), {"X-Timeout-Ms": "-1"})
    assert status == 400


def test_health_and_wrong_method(server):
    port, _ = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
        assert resp.status == 200
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/predict", timeout=5)
    assert err.value.code == 405


def test_the_http_load_generator_measures_an_open_loop_run(server):
    port, _ = server
    bodies = [encode_input(np.full(16, i, np.float32)) for i in range(4)]
    r = http_server_run(port, bodies, 200.0, queries=120, warmup_queries=20)
    assert r["completed"] == 120 and r["failed"] == 0
    assert r["short_run"] is True
    assert 0 < r["latency_ms"]["p50_ms"] < 5_000


def test_decode_rejects_out_of_range_token_ids():
    spec = WorkloadSpec(family="transformer", layers=1, d_model=8, heads=2, ffn_dim=16, seq_len=4, vocab_size=10)
    with pytest.raises(ValueError, match="range"):
        decode_input(encode_input(np.array([1, 2, 3, 99], dtype=np.int64)), spec)
