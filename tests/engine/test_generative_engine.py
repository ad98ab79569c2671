"""The engine loop with a fake runner and a fake clock (no torch), and the package's imports."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.serving.generative import GenerativeEngine, Scheduler, SchedulerConfig

ROOT = Path(__file__).resolve().parents[2]


class FakeRunner:
    """Each step costs 10 ms on the fake clock; the next token is the context length."""

    block_size = 4
    num_blocks = 64

    def __init__(self, clock):
        self.clock = clock
        self.synchronized = 0

    def execute(self, plan):
        self.clock.now += 0.010
        return {c.seq.request_id: c.seq.num_tokens for c in plan if c.emits_token}

    def synchronize(self):
        self.synchronized += 1


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def make():
    clock = Clock()
    runner = FakeRunner(clock)
    eng = GenerativeEngine(Scheduler(SchedulerConfig(block_size=4, num_blocks=64)), runner, clock=clock)
    return eng, runner, clock


def test_steps_are_timed_by_the_clock_after_the_device_is_synchronised():
    eng, runner, clock = make()
    assert eng.add_request("a", [1, 2, 3], 3)
    clock.now = 1.0
    assert eng.add_request("b", [4, 5], 2, arrival_s=0.5)
    out = eng.step()
    assert (out.step_start_s, out.step_end_s) == (1.0, pytest.approx(1.01))
    assert runner.synchronized == 1
    assert [(e.request_id, e.index, e.token_id, e.time_s) for e in out.events] == [("a", 0, 3, out.step_end_s), ("b", 0, 2, out.step_end_s)]
    while eng.has_unfinished():
        eng.step()
    a, b = eng.sequences["a"], eng.sequences["b"]
    assert a.output_token_ids == [3, 4, 5] and b.output_token_ids == [2, 3]
    assert a.arrival_s == 0.0 and b.arrival_s == 0.5  # latencies count from arrival
    assert b.finish_s == pytest.approx(1.02) and a.finish_s == pytest.approx(1.03)


def test_generate_runs_every_prompt_to_drain_and_reports_deadline_aborts():
    eng, _, clock = make()
    assert eng.generate([[1], [1, 2, 3, 4, 5]], [2, 3]) == [[1, 2], [5, 6, 7]]
    assert eng.add_request("late", [1, 2], 50, deadline_s=clock.now + 0.025)
    aborted = []
    while eng.has_unfinished():
        aborted += eng.step().aborted
    assert aborted == ["late"] and eng.sequences["late"].finish_reason == "deadline"


def test_importing_the_generative_package_leaves_torch_out():
    code = (
        "import sys, engine.serving.generative, engine.serving.generative.engine; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
