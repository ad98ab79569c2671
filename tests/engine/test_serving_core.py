"""The asyncio serving core with real worker threads and stand-in models (fast, no sleeps
that a loaded machine could break: waits are on events, timing bounds are generous)."""

import asyncio
import threading

import pytest
import torch

from engine.serving.core import RequestFailed, RequestRejected, RequestTimedOut, ServingCore
from engine.serving.policy import BatcherConfig
from engine.serving.runner import Runner, make_inputs
from engine.serving.workloads import WorkloadSpec


class Recorder:
    """A model that doubles its inputs and records every batch it is given."""

    def __init__(self, gate: threading.Event | None = None):
        self.batches: list[list] = []
        self.gate = gate
        self.started = threading.Event()
        self.thread_inits = 0

    def __call__(self, xs):
        self.batches.append(list(xs))
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        return [x * 2 for x in xs]

    def init_thread(self):
        self.thread_inits += 1


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def config(**kwargs):
    kwargs.setdefault("max_queue_delay_ms", 0.0)
    return BatcherConfig(**kwargs)


async def start_with_a_busy_slot(model: Recorder, **kwargs) -> tuple[ServingCore, asyncio.Future]:
    """A started one-slot core running the batch ["running"] until the model's gate opens."""
    core = ServingCore(model, config(max_batch_size=1, **kwargs))
    await core.start()
    running = asyncio.ensure_future(core.infer("running"))
    await asyncio.to_thread(model.started.wait, 10)
    return core, running


def test_each_request_gets_its_own_result():
    model = Recorder()

    async def go():
        core = ServingCore(model, config(max_batch_size=4), init_thread=model.init_thread)
        await core.start()
        results = await asyncio.gather(*(core.infer(i) for i in range(10)))
        await core.stop()
        return results

    assert run(go()) == [2 * i for i in range(10)]
    assert all(1 <= len(b) <= 4 for b in model.batches)
    assert model.thread_inits == 1


def test_start_returns_only_once_every_worker_has_initialised():
    # The runner warms the model up in init_thread; a request admitted before that would be
    # predicted and queued as if the slot were ready.
    model = Recorder()
    gate = threading.Event()
    inits = []

    def init():
        assert gate.wait(10)
        inits.append(threading.current_thread().name)

    async def go():
        core = ServingCore(model, config(num_slots=2), init_thread=init)
        start = asyncio.ensure_future(core.start())
        for _ in range(20):
            await asyncio.sleep(0)
        waiting = not start.done()
        gate.set()
        await start
        ready = sorted(inits)
        result = await core.infer(3)
        await core.stop()
        return waiting, ready, result

    waiting, ready, result = run(go())
    assert waiting
    assert ready == ["serving-slot-0", "serving-slot-1"]
    assert result == 6


def test_a_worker_that_fails_to_initialise_fails_start():
    workers = []

    def init():
        workers.append(threading.current_thread())
        raise RuntimeError("no device")

    async def go():
        core = ServingCore(Recorder(), config(num_slots=2), init_thread=init)
        with pytest.raises(RuntimeError, match="no device"):
            await core.start()
        return core

    core = run(go())
    assert core.policy.closed
    assert len(workers) == 2 and not any(t.is_alive() for t in workers)


def test_requests_arriving_during_execution_form_the_next_batch():
    gate = threading.Event()
    model = Recorder(gate)

    async def go():
        core = ServingCore(model, config(max_batch_size=16))
        await core.start()
        first = asyncio.ensure_future(core.infer(0))
        await asyncio.to_thread(model.started.wait, 10)  # batch [0] is executing now
        rest = [asyncio.ensure_future(core.infer(i)) for i in range(1, 6)]
        await asyncio.sleep(0)
        gate.set()
        out = await asyncio.gather(first, *rest)
        await core.stop()
        return out

    assert run(go()) == [0, 2, 4, 6, 8, 10]
    assert model.batches == [[0], [1, 2, 3, 4, 5]]


def test_a_full_queue_rejects_at_once():
    gate = threading.Event()
    model = Recorder(gate)

    async def go():
        core, running = await start_with_a_busy_slot(model, max_queue_size=2)
        queued = [core.submit(i)[1] for i in range(2)]
        with pytest.raises(RequestRejected, match="queue_full"):
            await core.infer("one too many")
        gate.set()
        await asyncio.gather(running, *queued)
        await core.stop()

    run(go())


def test_a_request_past_its_deadline_times_out_and_is_never_executed():
    gate = threading.Event()
    model = Recorder(gate)

    async def go():
        core, running = await start_with_a_busy_slot(model)
        with pytest.raises(RequestTimedOut):
            await core.infer("late", timeout_ms=20)  # the slot stays busy past 20 ms
        gate.set()
        await running
        await core.stop()
        return core.metrics()

    metrics = run(go())
    assert ["late"] not in model.batches
    assert metrics["timed_out"] == 1 and metrics["executed_after_deadline"] == 0


def test_cancelling_the_waiting_task_withdraws_a_queued_request():
    gate = threading.Event()
    model = Recorder(gate)

    async def go():
        core, running = await start_with_a_busy_slot(model)
        doomed = asyncio.ensure_future(core.infer("doomed"))
        await asyncio.sleep(0)
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        gate.set()
        await running
        await core.stop()
        return core.metrics()

    assert run(go())["cancelled"] == 1
    assert ["doomed"] not in model.batches


def test_a_failing_batch_fails_its_requests_and_the_core_carries_on():
    def flaky(xs):
        if "bad" in xs:
            raise RuntimeError("boom")
        return xs

    async def go():
        core = ServingCore(flaky, config(max_batch_size=1))
        await core.start()
        with pytest.raises(RequestFailed, match="boom"):
            await core.infer("bad")
        ok = await core.infer("good")
        await core.stop()
        return ok

    assert run(go()) == "good"


def test_stop_drains_queued_work_then_rejects_new_requests():
    gate = threading.Event()
    model = Recorder(gate)

    async def go():
        core = ServingCore(model, config(max_batch_size=2, max_queue_delay_ms=10_000.0))
        await core.start()
        futures = [core.submit(i)[1] for i in range(3)]  # 2 go at once, 1 waits for the delay
        await asyncio.to_thread(model.started.wait, 10)
        stopping = asyncio.ensure_future(core.stop(drain=True))
        await asyncio.sleep(0.01)
        gate.set()
        await stopping
        _, late = core.submit("late")
        with pytest.raises(RequestRejected, match="shutting_down"):
            await late
        return [await f for f in futures]

    assert run(go()) == [0, 2, 4]


def test_end_to_end_with_the_torch_runner():
    spec = WorkloadSpec(family="mlp", input_dim=16, hidden_dims=(32,), output_dim=4)
    runner = Runner(spec, device="cpu", threads=1)
    inputs = make_inputs(spec, 20)

    async def go():
        core = ServingCore(runner.run, config(max_batch_size=8), init_thread=runner.init_thread)
        await core.start()
        outs = await asyncio.gather(*(core.infer(x) for x in inputs))
        await core.stop()
        return outs

    outs = run(go())
    expected = runner.run(inputs)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(outs, expected))


def test_threads_can_submit_with_callbacks():
    model = Recorder()
    results = {}
    done = threading.Event()

    def on_done(i, output, error):
        results[i] = (output, error)
        if len(results) == 20:
            done.set()

    async def go():
        core = ServingCore(model, config(max_batch_size=4, max_queue_size=10))
        await core.start()

        def client():
            for i in range(20):
                core.submit_threadsafe(i, callback=lambda out, err, i=i: on_done(i, out, err))

        await asyncio.to_thread(client)
        await asyncio.to_thread(done.wait, 10)
        await core.stop()

    run(go())
    assert done.is_set()  # all 20 callbacks ran, none was lost
    answered = {i: out for i, (out, err) in results.items() if err is None}
    rejected = [err for out, err in results.values() if isinstance(err, RequestRejected)]
    assert len(answered) + len(rejected) == 20  # every request answered exactly once
    # The queue holds 10: the first 10 submitted always fit, so at least 10 are served, each with
    # its own result; a core that rejected everything from a thread would fail here.
    assert len(answered) >= 10
    assert all(out == 2 * i for i, out in answered.items())
    assert sorted(x for batch in model.batches for x in batch) == sorted(answered)
