"""Workload shapes: what a batch job or a stream asks of the fleet, and what it costs per run.

A design is one of three shapes (`requirements.workload_timing`):

* online (and near real time): requests arrive at an average and a peak rate, as entered or derived
  from users (the traffic section); the fleet is sized for the peak within the P99 budget.
* batch: a job scores its records per run, runs per day times, and must finish within the
  processing window; results are due by the deadline (hours after the run starts; blank: the
  window). Traffic follows from the shape: the average rate is records x runs / 86,400 s and the
  rate the fleet must sustain during a run is records / window. A batch job runs flat out (no
  utilisation headroom: nobody waits on a single record) and its per-record throughput is the
  estimate at the largest batch (there is no per-record latency budget), or the benchmark's offline
  throughput once measured.
* streaming: events arrive at the events per second (at peak: the peak events per second, else the
  average) and each must be processed within the allowed lag, which is the stream's latency
  budget: network, pre- and post-processing are spent from it as from a P99 target.

Batch calculators, for the fleet the plan runs (`capacity.replicas`, capped at max replicas):

* job duration = records / (replicas x per-replica records/s) / 3,600 s;
* replicas for the window = ceil(records / (per-replica records/s x window x 3,600 s));
* run hours per day = job duration x runs per day; GPU-hours per run = replicas x GPUs per
  replica x job duration;
* cost per run = the plan's monthly cost / runs per month (runs per day x 365/12), so a fleet
  that stays up between runs (no autoscaling, or reserved capacity) carries its idle hours.

Spot suitability (batch), with these assumptions stated as fields: each spot replica is
interrupted at `spot_interruption_rate_pct` per replica-hour (default 5 %); an interrupted replica
needs `restart_minutes` to run again (default 10) and redoes the work since its last checkpoint
(half the checkpoint interval on average, all of it at worst; without checkpoints, everything
since the run started: half the job on average, the whole job at worst). First order, ignoring
interruptions of the redone work:

* expected duration on spot = job duration x (1 + rate x (restart + average lost work));
* worst single interruption = job duration + restart + the most work one interruption can lose;
* spot suits the job when the deadline absorbs the worst single interruption. Spot's cost uses
  the expected duration, so the rework is paid for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.planning.common import DAYS_PER_MONTH, SECONDS_PER_DAY, Note, ceil_div, fact, finite, notes_field

DEFAULT_SPOT_INTERRUPTION_RATE_PCT = 5.0
DEFAULT_RESTART_MINUTES = 10.0


@dataclass(frozen=True, slots=True)
class ShapeRates:
    """The request rates a shape implies (what traffic.* reads)."""

    average_qps: float | None
    peak_qps: float | None
    notes: tuple[Note, ...] = ()


def batch_rates(*, records_per_run: float | None, runs_per_day: float | None,
                processing_window_h: float | None) -> ShapeRates:
    """Average rate = records x runs / 86,400 s; the rate a run needs = records / (window x 3,600 s)."""
    records, runs, window = finite(records_per_run), finite(runs_per_day), finite(processing_window_h)
    notes: list[Note] = []
    average = records * runs / SECONDS_PER_DAY if records is not None and runs is not None else None
    peak = records / (window * 3600.0) if records is not None and window else None
    if records is None:
        notes.append(Note("traffic.peak_qps", "Records per run are not set: the batch job's rate is unknown.", "info"))
    elif not window:
        notes.append(Note("traffic.peak_qps", "The processing window is not set: the rate a run needs is unknown.",
                          "info"))
    if window is not None and runs is not None and window * runs > 24.0 + 1e-9:
        notes.append(Note("requirements.processing_window_h",
                          f"{runs:g} runs a day of up to {window:g} h each add up to {window * runs:g} h: runs "
                          "overlap, so two fleets run at once at times.", "warning"))
    return ShapeRates(average, peak, tuple(notes))


def stream_rates(*, events_per_second: float | None, peak_events_per_second: float | None) -> ShapeRates:
    """Average = events per second; peak = peak events per second, else the average (a steady stream)."""
    average, peak = finite(events_per_second), finite(peak_events_per_second)
    notes: list[Note] = []
    if peak is None and average is not None:
        peak = average
        notes.append(Note("requirements.peak_events_per_second",
                          "Peak events per second is not set; the plan assumes a steady stream at the average rate.",
                          "info"))
    if average is None:
        notes.append(Note("traffic.average_qps", "Events per second are not set: the stream's rate is unknown.",
                          "info"))
    return ShapeRates(average, peak, tuple(notes))


@dataclass(frozen=True, slots=True)
class SpotAssessment:
    interruption_rate_pct: float | None = fact("%/h", "Assumed chance a spot replica is reclaimed in an hour.",
                                               default=None)
    restart_minutes: float | None = fact("min", "Assumed time an interrupted replica needs to run again.",
                                         default=None)
    checkpoint_interval_minutes: float | None = fact("min", "How often the job saves progress (None: never).",
                                                     default=None)
    expected_interruptions_per_run: float | None = fact("interruptions", "Replicas x job duration x "
                                                                         "interruption rate.", default=None)
    expected_duration_h: float | None = fact("h", "Job duration on spot, interruptions included (first order).",
                                             default=None)
    worst_case_duration_h: float | None = fact("h", "Job duration + restart + the most work one interruption "
                                                    "loses.", default=None)
    hours_factor: float | None = fact("x", "Expected spot duration / job duration: the rework spot pays for.",
                                      default=None)
    suitable: bool | None = fact(None, "The deadline absorbs the worst single interruption.", default=None)


@dataclass(frozen=True, slots=True)
class BatchCosts:
    on_demand: float | None = fact(None, "on-demand.", default=None)
    spot: float | None = fact(None, "spot (interruptions included).", default=None)
    reserved_1y: float | None = fact(None, "1-year reserved.", default=None)
    reserved_3y: float | None = fact(None, "3-year reserved.", default=None)
    mixed: float | None = fact(None, "the mixed plan.", default=None)
    selected: float | None = fact(None, "the plan the design chose.", default=None)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    records_per_run: float | None = fact("records", "Records one run scores (entered).", default=None)
    runs_per_day: float | None = fact("runs/day", "Runs per day (entered, else 1).", default=None)
    runs_per_month: float | None = fact("runs/month", "Runs per day x 365/12.", default=None)
    processing_window_h: float | None = fact("h", "How long one run may take (entered).", default=None)
    deadline_h: float | None = fact("h", "Results due, hours after the run starts (entered, else the window).",
                                    default=None)
    per_replica_records_per_s: float | None = fact("records/s", "Records per second one replica scores "
                                                                "(capacity.per_replica_qps).", default=None)
    replicas_for_window: int | None = fact("replicas", "ceil(records / (per-replica records/s x window x "
                                                       "3,600 s)).", default=None)
    replicas: int | None = fact("replicas", "Replicas that run the job: the capacity plan's, capped at max "
                                            "replicas.", default=None)
    job_duration_h: float | None = fact("h", "Records / (replicas x per-replica records/s) / 3,600 s.", default=None)
    meets_window: bool | None = fact(None, "Job duration <= processing window.", default=None)
    meets_deadline: bool | None = fact(None, "Job duration <= deadline.", default=None)
    slack_h: float | None = fact("h", "Deadline - job duration: room for retries and interruptions.", default=None)
    run_hours_per_day: float | None = fact("h/day", "Job duration x runs per day.", default=None)
    gpu_hours_per_run: float | None = fact("GPU-h", "Replicas x GPUs per replica x job duration.", default=None)
    cost_per_run_usd: BatchCosts = fact("USD/run", "Cost per run (monthly cost / runs per month),",
                                        default=BatchCosts())
    spot: SpotAssessment = fact(None, "Spot:", default=SpotAssessment())
    notes: tuple[Note, ...] = notes_field()


def plan_batch(
    *,
    records_per_run: float | None,
    runs_per_day: float | None = 1.0,
    processing_window_h: float | None,
    deadline_h: float | None = None,
    per_replica_records_per_s: float | None,
    replicas: int | None,
    gpus_per_replica: int = 1,
    spot_interruption_rate_pct: float | None = DEFAULT_SPOT_INTERRUPTION_RATE_PCT,
    restart_minutes: float | None = DEFAULT_RESTART_MINUTES,
    checkpoint_interval_minutes: float | None = None,
) -> BatchPlan:
    """Job duration at the given fleet, the fleet the window needs, and spot suitability (module
    docstring). Costs per run are filled in by `with_costs` once the monthly costs are known."""
    records, window = finite(records_per_run), finite(processing_window_h)
    runs = finite(runs_per_day)
    deadline = finite(deadline_h)
    if deadline is None:
        deadline = window
    rate = finite(per_replica_records_per_s)
    if rate is not None and rate <= 0:
        rate = None
    g = max(int(gpus_per_replica or 1), 1)
    fleet = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None
    notes: list[Note] = []

    for_window = None
    if records is not None and rate is not None and window:
        for_window = ceil_div(records, rate * window * 3600.0) if records > 0 else 0
    duration = None
    if records is not None and rate is not None and fleet is not None:
        if fleet > 0:
            duration = records / (fleet * rate) / 3600.0
        elif records == 0:
            duration = 0.0
    meets_window = duration <= window + 1e-9 if duration is not None and window is not None else None
    meets_deadline = duration <= deadline + 1e-9 if duration is not None and deadline is not None else None
    if meets_window is False:
        notes.append(Note("batch.job_duration_h",
                          f"At {fleet} replicas the job takes {duration:.2f} h, longer than the {window:g} h window "
                          f"({for_window} replicas would finish in time).", "warning"))
    run_hours = duration * runs if duration is not None and runs is not None else None

    spot = spot_assessment(duration_h=duration, replicas=fleet, deadline_h=deadline,
                           interruption_rate_pct=spot_interruption_rate_pct, restart_minutes=restart_minutes,
                           checkpoint_interval_minutes=checkpoint_interval_minutes)
    return BatchPlan(
        records_per_run=records,
        runs_per_day=runs,
        runs_per_month=runs * DAYS_PER_MONTH if runs is not None else None,
        processing_window_h=window,
        deadline_h=deadline,
        per_replica_records_per_s=rate,
        replicas_for_window=for_window,
        replicas=fleet,
        job_duration_h=duration,
        meets_window=meets_window,
        meets_deadline=meets_deadline,
        slack_h=deadline - duration if deadline is not None and duration is not None else None,
        run_hours_per_day=run_hours,
        gpu_hours_per_run=fleet * g * duration if fleet is not None and duration is not None else None,
        spot=spot,
        notes=tuple(notes),
    )


def spot_assessment(
    *,
    duration_h: float | None,
    replicas: int | None,
    deadline_h: float | None,
    interruption_rate_pct: float | None = DEFAULT_SPOT_INTERRUPTION_RATE_PCT,
    restart_minutes: float | None = DEFAULT_RESTART_MINUTES,
    checkpoint_interval_minutes: float | None = None,
) -> SpotAssessment:
    """What spot interruptions do to a batch job of `duration_h` hours (module docstring)."""
    rate_pct = finite(interruption_rate_pct)
    rate_pct = DEFAULT_SPOT_INTERRUPTION_RATE_PCT if rate_pct is None else min(max(rate_pct, 0.0), 100.0)
    restart = finite(restart_minutes)
    restart = DEFAULT_RESTART_MINUTES if restart is None else max(restart, 0.0)
    checkpoint = finite(checkpoint_interval_minutes)
    checkpoint = checkpoint if checkpoint is not None and checkpoint > 0 else None
    duration = finite(duration_h)
    if duration is None:
        return SpotAssessment(rate_pct, restart, checkpoint)
    rate = rate_pct / 100.0  # interruptions per replica-hour
    duration_min = duration * 60.0
    average_lost_min = checkpoint / 2.0 if checkpoint is not None else duration_min / 2.0
    worst_lost_min = min(checkpoint, duration_min) if checkpoint is not None else duration_min
    expected = duration * (1.0 + rate * (restart + average_lost_min) / 60.0)
    worst = duration + (restart + worst_lost_min) / 60.0
    deadline = finite(deadline_h)
    return SpotAssessment(
        interruption_rate_pct=rate_pct,
        restart_minutes=restart,
        checkpoint_interval_minutes=checkpoint,
        expected_interruptions_per_run=replicas * duration * rate if isinstance(replicas, int) else None,
        expected_duration_h=expected,
        worst_case_duration_h=worst,
        hours_factor=expected / duration if duration > 0 else 1.0,
        suitable=worst <= deadline + 1e-9 if deadline is not None else None,
    )


def with_costs(plan: BatchPlan, monthly_usd: dict[str, float | None]) -> BatchPlan:
    """The batch plan with its cost per run: each plan's monthly cost / runs per month."""
    runs = plan.runs_per_month
    per_run = {k: (v / runs if v is not None and runs else None) for k, v in monthly_usd.items()}
    notes = list(plan.notes)
    if plan.spot.suitable is False:
        notes.append(Note("batch.spot.suitable",
                          f"One spot interruption at the worst moment makes the job take "
                          f"{plan.spot.worst_case_duration_h:.2f} h, past the {plan.deadline_h:g} h deadline: "
                          "checkpoint more often, or leave slack between the window and the deadline.", "info"))
    return dataclasses.replace(plan, cost_per_run_usd=BatchCosts(**per_run), notes=tuple(notes))


@dataclass(frozen=True, slots=True)
class StreamPlan:
    events_per_second: float | None = fact("events/s", "Average events per second (entered).", default=None)
    peak_events_per_second: float | None = fact("events/s", "Peak events per second (entered, else the average).",
                                                default=None)
    allowed_lag_s: float | None = fact("s", "Longest an event may wait for its result (entered): the stream's "
                                            "latency budget.", default=None)
    fleet_events_per_second: float | None = fact("events/s", "What the fleet can process flat out: replicas x "
                                                             "per-replica events/s.", default=None)
    headroom_events_per_second: float | None = fact("events/s", "Fleet rate - peak rate: what drains a backlog "
                                                                "at peak.", default=None)
    catch_up_s_per_stalled_minute: float | None = fact("s", "Seconds to drain the backlog of one minute's stall "
                                                            "at the average rate: 60 x average / (fleet - "
                                                            "average).", default=None)
    notes: tuple[Note, ...] = notes_field()


def plan_stream(*, events_per_second: float | None, peak_events_per_second: float | None,
                allowed_lag_s: float | None, per_replica_qps: float | None, replicas: int | None) -> StreamPlan:
    """The stream's rates and the fleet's room to catch up (module docstring)."""
    average, lag = finite(events_per_second), finite(allowed_lag_s)
    peak = finite(peak_events_per_second)
    if peak is None:
        peak = average
    rate = finite(per_replica_qps)
    fleet = replicas * rate if isinstance(replicas, int) and rate is not None else None
    headroom = fleet - peak if fleet is not None and peak is not None else None
    catch_up = None
    if fleet is not None and average is not None and fleet > average:
        catch_up = 60.0 * average / (fleet - average)
    return StreamPlan(average, peak, lag, fleet, headroom, catch_up)
