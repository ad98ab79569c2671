"""Turn `engine.bench.run` progress events into a percentage and a phase a person can read.

The engine reports stage markers with a `fraction` (setup 0, offline 0.05, max-qps 0.2,
server 0.8, done 1) and, between them, one event per offline batch size or search probe without
one. Each of those moves the bar a third of the way to the next marker, so it keeps advancing
without knowing in advance how many steps a stage takes, and never goes backwards.

A generative run (engine.bench.generate) gives every event a fraction, and within a run one
event per finished request whose message is the phase shown: "offline: 112 of 256 requests
done, about 1.3 s left" (also as requests_done, requests_total, eta_s).
"""

from __future__ import annotations

from typing import Any

# Where the bar stands when the next stage starts (the engine's own fractions, in percent).
_NEXT_MARKER = {"setup": 5.0, "offline": 20.0, "max-qps": 80.0, "server": 100.0, "overload": 100.0,
                "sweep": 100.0}
_STEP = 1 / 3


class ProgressTracker:
    """Feed it events (`update`); read `percent` (0-100, never decreasing) and `phase`."""

    def __init__(self) -> None:
        self.percent = 0.0
        self.phase = "starting"

    def update(self, event: dict[str, Any]) -> None:
        stage = str(event.get("stage") or "")
        fraction = event.get("fraction")
        if isinstance(fraction, (int, float)) and not isinstance(fraction, bool):
            self.percent = max(self.percent, min(100.0, 100.0 * float(fraction)))
            message = event.get("message")
            self.phase = str(message)[:200] if message else stage
            return
        target = _NEXT_MARKER.get(stage)
        if target is not None and target > self.percent:
            self.percent += (target - self.percent) * _STEP
        self.phase = _describe(stage, event)[:200]


def _describe(stage: str, event: dict[str, Any]) -> str:
    if stage == "offline" and "batch_size" in event:
        return f"offline: batch size {event['batch_size']} ({event.get('throughput_qps', '?')} items/s)"
    if "rate_qps" in event:
        verdict = "passed" if event.get("pass") else "failed"
        return f"{stage}: probed {event['rate_qps']:g} QPS, p99 {event.get('p99_ms')} ms ({verdict})"
    return stage or "running"
