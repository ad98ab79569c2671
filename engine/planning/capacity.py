"""Capacity: replicas and GPUs for peak (and average) load, with headroom and redundancy."""

from __future__ import annotations

from dataclasses import dataclass

from engine.planning.common import Note, ceil_div, fact, finite, notes_field
from engine.planning.throughput import ThroughputEstimate


@dataclass(frozen=True, slots=True)
class CapacityPlan:
    per_replica_qps: float | None = fact("req/s", "Requests per second one replica serves within the P99 budget: "
                                                  "measured by a benchmark when one exists, else estimated.")
    per_replica_qps_source: str | None = fact(None, "'measured' or 'estimated' (None when unknown).")
    feasible: bool | None = fact(None, "False when the design cannot run as designed (the model does not fit, or "
                                       "no batch meets the budget): then no replicas, GPUs or cost are planned. "
                                       "None when unknown.")
    infeasible_reason: str | None = fact(None, "The one reason the design cannot run as designed (None when it "
                                               "can).")
    model_peak_qps: float | None = fact("req/s", "Peak QPS that reaches the main model: peak x (1 - cache hit "
                                                 "rate) x (1 - cheaper-tier share).")
    model_average_qps: float | None = fact("req/s", "Average QPS that reaches the main model.")
    target_utilisation_pct: float = fact("%", "Share of a replica's capacity planned to be used at peak.")
    replicas_for_load: int | None = fact("replicas", "ceil(model peak QPS / (per-replica QPS x utilisation "
                                                     "target)), before redundancy.")
    failure_domains: int = fact("domains", "Zones or regions the fleet survives losing one of (1 = none).")
    n_plus_one: bool = fact(None, "One spare replica added beyond peak needs.")
    replicas: int | None = fact("replicas", "Replicas at peak: redundancy and N+1 applied, at least min replicas.")
    replicas_average: int | None = fact("replicas", "Replicas needed at average load (same rules); a batch fleet: "
                                                    "the replicas that stay up between runs.")
    gpus_per_replica: int = fact("GPUs", "Accelerators per replica.")
    gpus: int | None = fact("GPUs", "Accelerators at peak: replicas x GPUs per replica.")
    gpus_average: int | None = fact("GPUs", "Accelerators at average load.")
    utilisation_at_peak_pct: float | None = fact("%", "Model peak QPS / (replicas x per-replica QPS): the load on "
                                                      "the whole fleet at peak.")
    utilisation_average_pct: float | None = fact("%", "Model average QPS / (replicas x per-replica QPS): how busy "
                                                      "the peak-sized fleet is on average over a day.")
    autoscaled: bool = fact(None, "True when an autoscaling signal is set; otherwise the fleet is fixed at its "
                                  "planned size.")
    min_replicas_effective: int | None = fact("replicas", "Fewest replicas running at any time: a fixed fleet's "
                                                          "planned size, else the autoscaler's min replicas "
                                                          "(None while it is blank).")
    cheap_tier_peak_qps: float | None = fact("req/s", "Peak QPS the cheaper tier answers: peak x (1 - cache hit "
                                                      "rate) x cheaper-tier share.")
    cheap_tier_per_replica_qps: float | None = fact("req/s", "Requests per second one cheaper-tier replica (one "
                                                             "GPU) serves: per-replica QPS / GPUs per replica / "
                                                             "cheaper-tier cost ratio.")
    cheap_tier_replicas: int | None = fact("replicas", "The cheaper tier's own fleet at peak (one GPU each), the "
                                                       "same redundancy rules, at least one replica per failure "
                                                       "domain.")
    cheap_tier_replicas_average: int | None = fact("replicas", "The cheaper tier's fleet at average load.")
    max_replicas: int | None = fact("replicas", "The autoscaler's ceiling (entered).")
    within_max_replicas: bool | None = fact(None, "Peak replicas <= max replicas (None when no max is set).")
    notes: tuple[Note, ...] = notes_field()


def plan_capacity(
    *,
    peak_qps: float | None,
    average_qps: float | None = None,
    per_replica_qps: float | None,
    per_replica_qps_source: str | None = "estimated",
    cache_hit_rate_pct: float | None = 0.0,
    cheap_tier_share_pct: float | None = 0.0,
    target_utilisation_pct: float = 70.0,
    gpus_per_replica: int = 1,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    failure_domains: int = 1,
    n_plus_one: bool = False,
    autoscaled: bool = False,
    batch: bool = False,
    infeasible_reason: str | None = None,
    cheap_tier_cost_ratio_pct: float | None = 10.0,
) -> CapacityPlan:
    """Size the fleet for peak load.

    load replicas = ceil(model QPS / (per-replica QPS x utilisation target)).
    With D >= 2 failure domains the fleet must carry peak with one domain lost:
    replicas = D x ceil(load replicas / (D - 1)). N+1 adds one replica. The result is at least
    `min_replicas`. The same rules give the replicas needed at average load (for autoscaled cost);
    a batch fleet keeps only its min replicas between runs.

    A cheaper tier (multi-model routing) is its own fleet: its requests cost
    `cheap_tier_cost_ratio_pct` of a main-model request, so one cheaper-tier replica of one GPU serves
    per-replica QPS / GPUs per replica / ratio; it is sized by the same rules (failure domains, the
    utilisation target, no N+1) and never below one replica per failure domain, however little
    traffic it gets.

    A design that cannot run as designed (`infeasible_reason`) gets no fleet at all: no replicas,
    GPUs or fewest running replicas, whatever min replicas says.

    Fleet semantics: without autoscaling the fleet is fixed at the planned peak size, so its
    fewest running replicas (`min_replicas_effective`) is that size, whatever min replicas says;
    with autoscaling it is the autoscaler's min replicas.
    """
    util = min(max(finite(target_utilisation_pct) or 70.0, 1.0), 100.0)
    domains = max(int(failure_domains or 1), 1)
    g = max(int(gpus_per_replica or 1), 1)
    spare = bool(n_plus_one)
    reduce = (1.0 - _pct(cache_hit_rate_pct)) * (1.0 - _pct(cheap_tier_share_pct))
    peak, avg = finite(peak_qps), finite(average_qps)
    model_peak = peak * reduce if peak is not None else None
    model_avg = avg * reduce if avg is not None else None
    per_replica = finite(per_replica_qps)
    if per_replica is not None and per_replica <= 0 or infeasible_reason:
        per_replica = None
    floor = max(int(min_replicas), 0) if isinstance(min_replicas, int) else 0
    ceiling = int(max_replicas) if isinstance(max_replicas, int) else None
    notes: list[Note] = []

    def size(qps: float | None) -> tuple[int | None, int | None]:
        if qps is None or per_replica is None:
            return None, None
        load = ceil_div(qps, per_replica * util / 100.0) if qps > 0 else 0
        total = load
        if domains >= 2 and load > 0:
            total = domains * ceil_div(load, domains - 1)
        if spare and load > 0:
            total += 1
        return load, max(total, floor)

    cheap_peak = cheap_avg = cheap_rate = cheap_replicas = cheap_replicas_avg = None
    ratio = _pct(cheap_tier_cost_ratio_pct)
    if _pct(cheap_tier_share_pct) > 0 and ratio > 0 and per_replica is not None:
        hit_miss = 1.0 - _pct(cache_hit_rate_pct)
        share = _pct(cheap_tier_share_pct)
        cheap_peak = peak * hit_miss * share if peak is not None else None
        cheap_avg = avg * hit_miss * share if avg is not None else None
        cheap_rate = per_replica / g / ratio

        def cheap_size(qps: float | None) -> int | None:
            if qps is None:
                return None
            load = max(ceil_div(qps, cheap_rate * util / 100.0), 1)
            return max(domains * ceil_div(load, domains - 1) if domains >= 2 else load, domains)

        cheap_replicas, cheap_replicas_avg = cheap_size(cheap_peak), cheap_size(cheap_avg)
        if batch and cheap_replicas is not None:
            cheap_replicas_avg = cheap_replicas

    load_peak, replicas = size(model_peak)
    _, replicas_avg = size(model_avg)
    if batch and replicas is not None:
        replicas_avg = min(floor, replicas) if autoscaled else replicas  # a fixed fleet stays up between runs
    if infeasible_reason:
        pass  # the estimate says why, once
    elif per_replica is None:
        notes.append(Note("capacity.replicas", "Replicas unknown: no measured or estimated per-replica "
                                               "throughput.", "info"))
    elif model_peak is None:
        notes.append(Note("capacity.replicas", "Replicas unknown: peak QPS is not known.", "info"))
    within = None
    if replicas is not None and ceiling is not None:
        within = replicas <= ceiling
        if not within:
            notes.append(Note("capacity.replicas",
                              f"Peak load needs {replicas} replicas but max replicas is {ceiling}: the autoscaler "
                              "will cap the fleet and latency will suffer at peak.", "warning"))
    utilisation = utilisation_average = None
    if replicas and per_replica is not None and model_peak is not None:
        utilisation = model_peak / (replicas * per_replica) * 100.0
    if replicas and per_replica is not None and model_avg is not None:
        utilisation_average = model_avg / (replicas * per_replica) * 100.0
    if infeasible_reason:
        effective_min = None
    elif autoscaled:
        effective_min = floor if isinstance(min_replicas, int) else None
    else:
        effective_min = replicas
    return CapacityPlan(
        per_replica_qps=per_replica,
        per_replica_qps_source=per_replica_qps_source if per_replica is not None else None,
        feasible=False if infeasible_reason else (True if per_replica is not None else None),
        infeasible_reason=infeasible_reason or None,
        model_peak_qps=model_peak,
        model_average_qps=model_avg,
        target_utilisation_pct=util,
        replicas_for_load=load_peak,
        failure_domains=domains,
        n_plus_one=spare,
        replicas=replicas,
        replicas_average=replicas_avg,
        gpus_per_replica=g,
        gpus=replicas * g if replicas is not None else None,
        gpus_average=replicas_avg * g if replicas_avg is not None else None,
        utilisation_at_peak_pct=utilisation,
        utilisation_average_pct=utilisation_average,
        autoscaled=bool(autoscaled),
        min_replicas_effective=effective_min,
        cheap_tier_peak_qps=cheap_peak,
        cheap_tier_per_replica_qps=cheap_rate,
        cheap_tier_replicas=cheap_replicas,
        cheap_tier_replicas_average=cheap_replicas_avg,
        max_replicas=ceiling,
        within_max_replicas=within,
        notes=tuple(notes),
    )


def _pct(value: float | None) -> float:
    number = finite(value)
    return 0.0 if number is None else min(max(number, 0.0), 100.0) / 100.0


__all__ = ["CapacityPlan", "ThroughputEstimate", "plan_capacity"]
