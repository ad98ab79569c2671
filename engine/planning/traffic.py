"""Traffic: request rates from entered QPS or from users, and concurrency by Little's law."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.planning.common import SECONDS_PER_DAY, SECONDS_PER_MONTH, Note, fact, finite, notes_field


@dataclass(frozen=True, slots=True)
class TrafficPlan:
    average_qps: float | None = fact("req/s", "Average requests per second: entered, or daily active users x "
                                              "requests per user / 86,400.")
    peak_qps: float | None = fact("req/s", "Peak requests per second: entered, or average QPS x peak factor.")
    peak_factor: float | None = fact("x", "Peak QPS / average QPS as planned.")
    requests_per_day: float | None = fact("req/day", "Average QPS x 86,400.")
    requests_per_month: float | None = fact("req/month", "Average QPS x 2,628,000 s (730 h).")
    concurrency_average: float | None = fact("requests", "Requests in flight on average (Little's law: "
                                                         "average QPS x P50 latency).")
    concurrency_peak: float | None = fact("requests", "Requests in flight at peak (peak QPS x P50 latency).")
    concurrency_peak_p99: float | None = fact("requests", "Upper bound on requests in flight at peak "
                                                          "(peak QPS x P99 latency).")
    input_tokens_per_second_peak: float | None = fact("tokens/s", "Prompt tokens per second at peak.")
    output_tokens_per_second_peak: float | None = fact("tokens/s", "Generated tokens per second at peak.")
    tokens_per_month: float | None = fact("tokens/month", "Input + output tokens per month at average QPS.")
    notes: tuple[Note, ...] = notes_field()
    sources: dict[str, str] = dataclasses.field(default_factory=dict, metadata={"tree": False})


def plan_traffic(
    *,
    average_qps: float | None = None,
    peak_qps: float | None = None,
    daily_active_users: float | None = None,
    requests_per_user_per_day: float | None = None,
    peak_factor: float | None = None,
    latency_p50_ms: float | None = None,
    latency_p99_ms: float | None = None,
    input_tokens_per_request: float | None = None,
    output_tokens_per_request: float | None = None,
    rates_from_shape: bool = False,
) -> TrafficPlan:
    """Plan request rates. Entered QPS wins; otherwise QPS is derived from users.

    `rates_from_shape`: the average and peak rates come from a batch or stream shape
    (`engine.planning.workload`), so they are derived, and the shape says what is missing.

    average = DAU x requests per user per day / 86,400 s; peak = average x peak factor.
    Concurrency (requests in flight) = rate x time in system (Little's law), with the P50 latency
    standing in for the mean. Any blank input leaves the numbers that need it as None.
    """
    avg, peak = finite(average_qps), finite(peak_qps)
    dau, per_user, factor = finite(daily_active_users), finite(requests_per_user_per_day), finite(peak_factor)
    notes: list[Note] = []
    sources: dict[str, str] = {}

    from_users = dau * per_user / SECONDS_PER_DAY if dau is not None and per_user is not None else None
    if avg is not None:
        sources["average_qps"] = "entered"
        if from_users is not None and from_users > 0 and abs(avg - from_users) / from_users > 0.5:
            notes.append(Note("traffic.average_qps",
                              f"Average QPS {avg:g} differs from users x requests per user "
                              f"({from_users:.3g} req/s); check which is right.", "info"))
    elif from_users is not None:
        avg = from_users
        sources["average_qps"] = "derived"
    elif peak is not None and factor is not None:
        avg = peak / factor
        sources["average_qps"] = "derived"

    if peak is not None:
        sources["peak_qps"] = "entered"
    elif avg is not None and factor is not None:
        peak = avg * factor
        sources["peak_qps"] = "derived"

    if rates_from_shape:
        sources = {key: "derived" for key in sources}
        notes = []
    elif avg is None:
        notes.append(Note("traffic.average_qps",
                          "Average QPS is unknown: enter it, or daily active users and requests per user.", "info"))
    if peak is None and not rates_from_shape:
        notes.append(Note("traffic.peak_qps", "Peak QPS is unknown: enter it, or a peak factor.", "info"))
    if avg is not None and peak is not None and peak < avg and not rates_from_shape:
        notes.append(Note("traffic.peak_qps", f"Peak QPS ({peak:g}) is below average QPS ({avg:g}).", "error"))

    planned_factor = peak / avg if avg and peak is not None else factor
    p50, p99 = finite(latency_p50_ms), finite(latency_p99_ms)
    tokens_in, tokens_out = finite(input_tokens_per_request), finite(output_tokens_per_request)
    per_month = avg * SECONDS_PER_MONTH if avg is not None else None
    tokens_month = None
    if per_month is not None and (tokens_in is not None or tokens_out is not None):
        tokens_month = per_month * ((tokens_in or 0.0) + (tokens_out or 0.0))
    return TrafficPlan(
        average_qps=avg,
        peak_qps=peak,
        peak_factor=planned_factor,
        requests_per_day=avg * SECONDS_PER_DAY if avg is not None else None,
        requests_per_month=per_month,
        concurrency_average=_mul(avg, p50, 1e-3),
        concurrency_peak=_mul(peak, p50, 1e-3),
        concurrency_peak_p99=_mul(peak, p99, 1e-3),
        input_tokens_per_second_peak=_mul(peak, tokens_in),
        output_tokens_per_second_peak=_mul(peak, tokens_out),
        tokens_per_month=tokens_month,
        notes=tuple(notes),
        sources=sources,
    )


def _mul(a: float | None, b: float | None, scale: float = 1.0) -> float | None:
    return a * b * scale if a is not None and b is not None else None
