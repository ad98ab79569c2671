"""Building the facts tree: validate a design's inputs, run the planning calculators, add provenance."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

from engine import vocabulary
from engine.deploy.manifests import rollout_split
from engine.design import ValidationResult, field, validate
from engine.facts.benchmark import BenchmarkFacts, benchmark_facts, measured_per_replica_qps
from engine.facts.reference import fact_reference
from engine.planning.capacity import CapacityPlan, plan_capacity
from engine.planning.common import Note, finite, to_tree
from engine.planning.cost import BASE_PLANS, PLANS, CostLevers, CostPlan, api_monthly_cost, plan_cost
from engine.planning.data_volume import plan_data_volume
from engine.planning.gpu_catalog import catalog_errors, shipped_catalog
from engine.planning.latency import plan_latency_budget
from engine.planning.throughput import CANNOT_RUN, ThroughputEstimate, estimate_throughput, serving_dtype
from engine.planning.traffic import TrafficPlan, plan_traffic
from engine.planning.workload import (
    BatchPlan, StreamPlan, batch_rates, plan_batch, plan_stream, stream_rates, with_costs,
)

PROVENANCES = ("entered", "estimated", "measured", "derived")
BATCHING_MODES = tuple(m for m in vocabulary.BATCHING_MODES if m != "none")  # the modes that batch


@dataclass(frozen=True, slots=True)
class Facts:
    """`tree`: nested plain dict; `meta`: path -> {unit, description, type, provenance};
    `warnings`: [{path, message, severity}] with severity info | warning | error (field errors of
    the inputs come first, as errors on the field's path)."""

    tree: dict[str, Any]
    meta: dict[str, dict[str, Any]]
    warnings: list[dict[str, str]]
    validation: ValidationResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"tree", "meta", "warnings", "errors"}."""
        return {"tree": self.tree, "meta": self.meta, "warnings": self.warnings,
                "errors": self.validation.errors}

    def get(self, path: str, default: Any = None) -> Any:
        """The value at a dotted path, e.g. facts.get("cost.monthly_usd.spot")."""
        node: Any = self.tree
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


def build_facts(
    inputs: Any,
    *,
    measurements: Mapping[str, Any] | None = None,
    gpu_catalog: Mapping[str, Any] | None = None,
    validated: ValidationResult | None = None,
) -> Facts:
    """Validate `inputs` (any shape `engine.design.validate` takes) and derive every number.

    Never raises on bad input: invalid fields become None plus an error warning; missing inputs
    leave the numbers that need them as None. `measurements` is a benchmark result (keys of
    `BenchmarkFacts`); its `max_qps_at_p99` (a generative design: `goodput_rps`, else
    `output_tokens_per_s` / output tokens) replaces the per-replica estimate. `gpu_catalog`
    defaults to the shipped catalog. `validated` is `validate(inputs, gpu_catalog=gpu_catalog)`
    when the caller has it already (a form that just validated the same values).
    """
    notes: list[Note] = []
    catalog = gpu_catalog if gpu_catalog is not None else shipped_catalog()
    problems = catalog_errors(catalog)
    if problems:
        notes.append(Note("cost.gpu_type", "The GPU catalog is invalid, the shipped one is used: "
                                           + "; ".join(problems[:3]), "warning"))
        catalog = shipped_catalog()
        validated = None  # it was checked against the invalid catalog
    result = validated if validated is not None else validate(inputs, gpu_catalog=catalog)
    for key, messages in result.errors.items():
        notes.extend(Note(key, message, "error") for message in messages)
    values = result.flat()
    hidden = set(result.hidden)

    def entered(key: str) -> Any:
        return values.get(key)

    def assume(key: str) -> Any:
        """The entered value, else the field's default (noted when the field is shown). An invalid
        value is left out like a blank one, and the note says so."""
        value = values.get(key)
        if value is not None:
            return value
        default = field(key).default
        if default is not None and key not in hidden:
            f = field(key)
            shown = f.choice_label(default) if f.choices else _show(default)
            unit = f" {f.unit}" if f.unit else ""
            if key in result.errors:
                notes.append(Note(key, f"{f.label} is invalid, so it is left out; the plan assumes {shown}{unit} "
                                       "until it is fixed.", "info"))
            else:
                notes.append(Note(key, f"{f.label} is not set; the plan assumes {shown}{unit}.", "info"))
        return default

    bench, bench_notes = benchmark_facts(measurements, entered("requirements.latency_p99_ms"))
    notes.extend(bench_notes)

    timing = entered("requirements.workload_timing")
    batch, streaming = timing == "batch", timing == "streaming"
    generative = entered("requirements.workload_type") == "generative"
    common_traffic = {
        "latency_p50_ms": entered("requirements.latency_p50_ms"),
        "latency_p99_ms": entered("requirements.latency_p99_ms"),
        "input_tokens_per_request": entered("requirements.input_tokens_per_request"),
        "output_tokens_per_request": entered("requirements.output_tokens_per_request"),
    }
    if batch or streaming:
        rates = batch_rates(records_per_run=entered("requirements.records_per_run"),
                            runs_per_day=assume("requirements.runs_per_day"),
                            processing_window_h=entered("requirements.processing_window_h")) if batch else \
            stream_rates(events_per_second=entered("requirements.events_per_second"),
                         peak_events_per_second=entered("requirements.peak_events_per_second"))
        notes.extend(rates.notes)
        traffic = plan_traffic(average_qps=rates.average_qps, peak_qps=rates.peak_qps, rates_from_shape=True,
                               **common_traffic)
    else:
        traffic = plan_traffic(
            average_qps=entered("requirements.average_qps"),
            peak_qps=entered("requirements.peak_qps"),
            daily_active_users=entered("requirements.daily_active_users"),
            requests_per_user_per_day=entered("requirements.requests_per_user_per_day"),
            peak_factor=assume("requirements.peak_factor") if entered("requirements.peak_qps") is None and (
                entered("requirements.average_qps") is not None
                or entered("requirements.daily_active_users") is not None
            ) else entered("requirements.peak_factor"),
            **common_traffic,
        )
    batching = entered("architecture.batching_mode")
    queueing = assume("architecture.max_batch_delay_ms") if batching == "dynamic" else 0.0
    lag_s = entered("requirements.allowed_lag_s")
    # The budget an event or a request must meet end to end: the P99 target online, the allowed
    # lag on a stream; a batch job has none (it is sized by its window).
    budget_ms = lag_s * 1000.0 if streaming and lag_s is not None else entered("requirements.latency_p99_ms")
    latency = plan_latency_budget(
        latency_p50_ms=entered("requirements.latency_p50_ms"),
        latency_p99_ms=budget_ms,
        network_ms=assume("requirements.network_latency_ms") if not batch else 0.0,
        preprocessing_ms=assume("requirements.preprocessing_ms") if not batch else 0.0,
        queueing_ms=queueing if not batch else 0.0,
        postprocessing_ms=assume("requirements.postprocessing_ms") if not batch else 0.0,
        time_to_first_token_ms=entered("requirements.time_to_first_token_ms"),
        time_per_output_token_ms=entered("requirements.time_per_output_token_ms"),
        output_tokens_per_request=entered("requirements.output_tokens_per_request"),
        request_timeout_ms=entered("architecture.request_timeout_ms"),
    )
    log_payloads = entered("requirements.log_payloads")
    data_volume = plan_data_volume(
        requests_per_day=traffic.requests_per_day,
        peak_qps=traffic.peak_qps,
        request_size_kb=entered("requirements.record_size_kb" if batch else "requirements.request_size_kb"),
        response_size_kb=entered("requirements.response_size_kb"),
        log_payloads=True if log_payloads is None else log_payloads,
        new_data_per_day_gb=entered("requirements.new_data_per_day_gb"),
        retention_days=entered("requirements.retention_days"),
        training_data_gb=entered("requirements.training_data_gb"),
    )

    gpu_key = entered("architecture.gpu_type")
    gpu = catalog["gpus"].get(gpu_key) if gpu_key else None
    redundancy = entered("architecture.redundancy")
    autoscaled = entered("architecture.autoscaling_signal") not in (None, "none")
    min_replicas = entered("architecture.min_replicas")
    if batch and autoscaled and min_replicas is None:
        min_replicas = 0
        notes.append(Note("architecture.min_replicas", "Min replicas is not set; the plan assumes the batch fleet "
                                                       "scales to zero between runs.", "info"))
    # A batch job is what the offline scenario measures (every record available at once); a
    # generative design's capacity is its goodput at the TTFT / TPOT SLO.
    measured_qps = measured_per_replica_qps(bench, batch=batch, generative=generative,
                                            output_tokens=entered("requirements.output_tokens_per_request"))
    plan_inputs = {
        "gpu": gpu,
        "gpu_key": gpu_key,
        "as_of": catalog.get("as_of"),
        "generative": generative,
        "params": entered("requirements.model_params_billions"),
        "model_dtype": assume("requirements.model_dtype"),
        "quantization": assume("architecture.quantization"),
        "gpus_per_replica": assume("architecture.gpus_per_replica"),
        "input_tokens": entered("requirements.input_tokens_per_request"),
        "output_tokens": entered("requirements.output_tokens_per_request"),
        "sequence_length": entered("requirements.sequence_length_tokens"),
        "layers": entered("requirements.model_layers"),
        "kv_heads": entered("requirements.model_kv_heads"),
        "head_dim": entered("requirements.model_head_dim"),
        "ttft_target": entered("requirements.time_to_first_token_ms") if not batch else None,
        "tpot_target": entered("requirements.time_per_output_token_ms") if not batch else None,
        "max_batch": assume("architecture.max_batch_size") if batching in BATCHING_MODES else 1,
        "inference_budget_ms": latency.inference_budget_ms,
        "prompt_hit": entered("architecture.prompt_cache_hit_rate_pct") or 0.0,
        "request_hit": _combined_hit(entered("architecture.result_cache_hit_rate_pct"),
                                     entered("architecture.embedding_cache_hit_rate_pct")
                                     if entered("requirements.workload_type") == "embed" else None),
        "tier_share": (assume("architecture.cheap_tier_share_pct") or 0.0) if "architecture.cheap_tier_share_pct"
        not in hidden else 0.0,
        "tier_ratio": assume("architecture.cheap_tier_cost_ratio_pct") if "architecture.cheap_tier_cost_ratio_pct"
        not in hidden else 0.0,
        "utilisation": assume("architecture.target_utilisation_pct") if not batch else 100.0,
        "min_replicas": min_replicas,
        "max_replicas": entered("architecture.max_replicas"),
        "batch": batch,
        "records_per_run": entered("requirements.records_per_run"),
        "runs_per_day": assume("requirements.runs_per_day") if batch else None,
        "window_h": entered("requirements.processing_window_h"),
        "deadline_h": entered("requirements.deadline_h"),
        "spot_rate": assume("architecture.spot_interruption_rate_pct") if batch else None,
        "restart_minutes": assume("architecture.restart_minutes") if batch else None,
        "checkpoint_minutes": entered("architecture.checkpoint_interval_minutes"),
        "negotiated": {plan: entered(f"architecture.negotiated_{plan}_usd_per_hour") for plan in BASE_PLANS},
        "failure_domains": assume("architecture.failure_domains") if redundancy in ("multi_zone", "multi_region")
        else 1,
        "n_plus_one": bool(entered("architecture.n_plus_one")),
        "autoscaled": autoscaled,
        "peak_hours": assume("requirements.peak_hours_per_day") if autoscaled and not batch
        else field("requirements.peak_hours_per_day").default,
        "pricing_model": assume("architecture.pricing_model"),
        "reserved_term": _or_default("architecture.reserved_term", hidden, assume),
        "reserved_share": _or_default("architecture.reserved_share_pct", hidden, assume),
        "spot_share": _or_default("architecture.spot_share_pct", hidden, assume),
        "budget": entered("requirements.monthly_gpu_budget_usd"),
        "online": entered("requirements.workload_timing") == "online",
        "api_in": entered("architecture.api_price_per_1m_input_tokens_usd"),
        "api_out": entered("architecture.api_price_per_1m_output_tokens_usd"),
        "bought": entered("architecture.serving_framework") == "managed_api",
        "measured_qps": measured_qps,
    }
    estimate, capacity, cost, batch_plan = _fleet(plan_inputs, traffic)
    levers = _levers(plan_inputs, traffic, estimate, cost)
    stream_plan = StreamPlan()
    if streaming:
        stream_plan = plan_stream(events_per_second=entered("requirements.events_per_second"),
                                  peak_events_per_second=entered("requirements.peak_events_per_second"),
                                  allowed_lag_s=lag_s, per_replica_qps=capacity.per_replica_qps,
                                  replicas=capacity.replicas)
    # A batch job has no per-record latency budget, so the budget's notes do not concern it.
    notes.extend(traffic.notes + (() if batch else latency.notes) + data_volume.notes + estimate.notes
                 + capacity.notes + cost.notes + batch_plan.notes)
    notes.extend(_cross_checks(values, estimate, bench, plan_inputs))

    capacity_tree = to_tree(capacity)
    capacity_tree["estimate"] = to_tree(estimate)
    capacity_tree["rollout"] = to_tree(rollout_split({
        "requirements": result.document["requirements"], "architecture": result.document["architecture"],
        "capacity": capacity_tree}))
    cost_tree = to_tree(cost)
    cost_tree["levers"] = to_tree(levers)
    tree: dict[str, Any] = {
        "requirements": dict(result.document["requirements"]),
        "architecture": dict(result.document["architecture"]),
        "traffic": to_tree(traffic),
        "latency_budget": to_tree(latency),
        "data_volume": to_tree(data_volume),
        "memory": to_tree(estimate.memory),
        "capacity": capacity_tree,
        "cost": cost_tree,
        "batch": to_tree(batch_plan),
        "streaming": to_tree(stream_plan),
        "benchmark": to_tree(bench),
    }
    meta = _meta(traffic, capacity, timing if batch or streaming else None)
    return Facts(tree=tree, meta=meta, warnings=_dedupe(notes), validation=result)


def cannot_run(tree: Mapping[str, Any]) -> str:
    """'Cannot run as designed: <the one reason>' for a facts tree whose plan found the design cannot
    run (the model does not fit, or no batch meets the budget), else ''. Pages, reports and the
    manifests say it in these words."""
    capacity = tree.get("capacity") if isinstance(tree, Mapping) else None
    if not isinstance(capacity, Mapping) or capacity.get("feasible") is not False:
        return ""
    reason = capacity.get("infeasible_reason")
    return f"{CANNOT_RUN}: {reason if isinstance(reason, str) and reason else 'no feasible batch.'}"


def _or_default(key: str, hidden: set[str], assume: Any) -> Any:
    # Hidden pricing fields still price the other rows of the comparison, silently at defaults.
    return field(key).default if key in hidden else assume(key)


def _combined_hit(*rates_pct: float | None) -> float:
    """Share of requests that never reach the model, % (independent caches in a row)."""
    miss = 1.0
    for rate in rates_pct:
        number = finite(rate)
        if number is not None:
            miss *= 1.0 - min(max(number, 0.0), 100.0) / 100.0
    return (1.0 - miss) * 100.0


def _fleet(p: Mapping[str, Any], traffic: TrafficPlan, *, caches: bool = True, tiers: bool = True,
           quantized: bool = True) -> tuple[ThroughputEstimate, CapacityPlan, CostPlan, BatchPlan]:
    """Estimate, capacity, cost and the batch job (empty unless batch) for the plan inputs; the flags
    switch levers off (for savings)."""
    prompt_hit = p["prompt_hit"] if caches else 0.0
    request_hit = p["request_hit"] if caches else 0.0
    tier_share = p["tier_share"] if tiers else 0.0
    estimate = estimate_throughput(
        gpu=p["gpu"],
        params_billions=p["params"],
        dtype=serving_dtype(p["model_dtype"], p["quantization"] if quantized else "none"),
        gpus_per_replica=p["gpus_per_replica"],
        generative=p["generative"],
        input_tokens=p["input_tokens"],
        output_tokens=p["output_tokens"],
        sequence_length=p["sequence_length"],
        max_batch_size=p["max_batch"],
        inference_budget_ms=p["inference_budget_ms"],
        prompt_cache_hit_rate_pct=prompt_hit if p["generative"] else 0.0,
        layers=p["layers"],
        kv_heads=p["kv_heads"],
        head_dim=p["head_dim"],
        ttft_target_ms=p["ttft_target"],
        tpot_target_ms=p["tpot_target"],
    )
    measured = p["measured_qps"]
    capacity = plan_capacity(
        peak_qps=traffic.peak_qps,
        average_qps=traffic.average_qps,
        per_replica_qps=measured if measured is not None else estimate.per_replica_qps,
        per_replica_qps_source="measured" if measured is not None else "estimated",
        cache_hit_rate_pct=request_hit,
        cheap_tier_share_pct=tier_share,
        target_utilisation_pct=p["utilisation"],
        gpus_per_replica=p["gpus_per_replica"],
        min_replicas=p["min_replicas"],
        max_replicas=p["max_replicas"],
        failure_domains=p["failure_domains"],
        n_plus_one=p["n_plus_one"],
        autoscaled=p["autoscaled"],
        batch=p["batch"],
        infeasible_reason=estimate.infeasible_reason if measured is None else None,
        cheap_tier_cost_ratio_pct=p["tier_ratio"],
    )
    batch = BatchPlan()
    peak_hours, spot_factor = p["peak_hours"], 1.0
    if p["batch"]:
        fleet = capacity.replicas
        if fleet is not None and p["autoscaled"] and isinstance(p["max_replicas"], int):
            fleet = min(fleet, p["max_replicas"])  # the autoscaler caps the fleet; the job takes longer
        batch = plan_batch(records_per_run=p["records_per_run"], runs_per_day=p["runs_per_day"],
                           processing_window_h=p["window_h"], deadline_h=p["deadline_h"],
                           per_replica_records_per_s=capacity.per_replica_qps, replicas=fleet,
                           gpus_per_replica=p["gpus_per_replica"], spot_interruption_rate_pct=p["spot_rate"],
                           restart_minutes=p["restart_minutes"], checkpoint_interval_minutes=p["checkpoint_minutes"])
        peak_hours = min(batch.run_hours_per_day, 24.0) if batch.run_hours_per_day is not None else 24.0
        spot_factor = batch.spot.hours_factor or 1.0
    requests = traffic.requests_per_month
    miss = 1.0 - request_hit / 100.0
    api_in = api_out = None
    if requests is not None:
        if p["input_tokens"] is not None:
            api_in = requests * miss * p["input_tokens"]
        if p["output_tokens"] is not None:
            api_out = requests * miss * p["output_tokens"]
    cost = plan_cost(
        gpu=p["gpu"],
        gpu_type=p["gpu_key"],
        price_as_of=p["as_of"],
        negotiated_usd_per_hour=p["negotiated"],
        spot_hours_factor=spot_factor,
        replicas=batch.replicas if p["batch"] and batch.replicas is not None else capacity.replicas,
        replicas_average=capacity.replicas_average,
        gpus_per_replica=p["gpus_per_replica"],
        autoscaled=p["autoscaled"],
        peak_hours_per_day=peak_hours,
        pricing_model=p["pricing_model"],
        reserved_term=p["reserved_term"],
        reserved_share_pct=p["reserved_share"],
        spot_share_pct=p["spot_share"],
        cheap_tier_replicas=capacity.cheap_tier_replicas,
        cheap_tier_replicas_average=capacity.cheap_tier_replicas_average,
        requests_per_month=requests,
        tokens_per_month=traffic.tokens_per_month,
        api_monthly_usd=api_monthly_cost(input_tokens_per_month=api_in, output_tokens_per_month=api_out,
                                         price_per_1m_input_usd=p["api_in"],
                                         price_per_1m_output_usd=p["api_out"]),
        monthly_budget_usd=p["budget"],
        online=p["online"],
        bought=p["bought"],
    )
    if p["batch"]:
        batch = with_costs(batch, {plan: getattr(cost.monthly_usd, plan) for plan in (*PLANS, "selected")})
    return estimate, capacity, cost, batch


def _levers(p: Mapping[str, Any], traffic: TrafficPlan, estimate: ThroughputEstimate,
            cost: CostPlan) -> CostLevers:
    selected = cost.monthly_usd.selected

    def saving(**switches: bool) -> float | None:
        other = _fleet(p, traffic, **switches)[2].monthly_usd.selected
        return other - selected if other is not None and selected is not None else None

    if p["measured_qps"] is not None:
        quant_saving = speedup = None  # the measurement already includes whatever quantization does
    elif p["quantization"] in (None, "none"):
        quant_saving, speedup = 0.0, 1.0
    else:
        plain = _fleet(p, traffic, quantized=False)[0]
        speedup = (estimate.per_replica_qps / plain.per_replica_qps
                   if plain.per_replica_qps and estimate.per_replica_qps else None)
        quant_saving = saving(quantized=False)
    return CostLevers(
        caching_savings_usd=saving(caches=False),
        tier_routing_savings_usd=saving(tiers=False),
        quantization_savings_usd=quant_saving,
        quantization_speedup=speedup,
    )


def _cross_checks(values: Mapping[str, Any], estimate: ThroughputEstimate, bench: BenchmarkFacts,
                  p: Mapping[str, Any]) -> list[Note]:
    notes: list[Note] = []
    if p["measured_qps"] is None and estimate.available:
        target_ttft = finite(values.get("requirements.time_to_first_token_ms"))
        if target_ttft is not None and estimate.time_to_first_token_ms is not None \
                and estimate.time_to_first_token_ms > target_ttft:
            notes.append(Note("requirements.time_to_first_token_ms",
                              f"Estimated time to first token ({estimate.time_to_first_token_ms:.0f} ms) is above "
                              f"the target ({target_ttft:g} ms).", "warning"))
        target_tpot = finite(values.get("requirements.time_per_output_token_ms"))
        if target_tpot is not None and estimate.time_per_output_token_ms is not None \
                and estimate.time_per_output_token_ms > target_tpot:
            notes.append(Note("requirements.time_per_output_token_ms",
                              f"Estimated time per output token at batch {estimate.batch_size} "
                              f"({estimate.time_per_output_token_ms:.1f} ms) is above the target "
                              f"({target_tpot:g} ms).", "warning"))
    if bench.meets_p99_target is False:
        notes.append(Note("benchmark.p99_ms_at_peak",
                          f"The benchmark's P99 at peak ({bench.p99_ms_at_peak:g} ms) is above the P99 target.",
                          "warning"))
    return notes


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}"
    return str(value)


def _dedupe(notes: list[Note]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, str]] = []
    for note in notes:
        if (note.path, note.message) not in seen:
            seen.add((note.path, note.message))
            out.append(note.to_dict())
    return out



_ENTERED_DERIVED = {"cost.gpu_type", "cost.gpu_label", "cost.gpu_kind", "cost.price_as_of", "cost.negotiated_plans",
                    "cost.budget_usd",
                    "capacity.max_replicas", "data_volume.new_data_gb_per_day", "data_volume.retention_days",
                    "batch.records_per_run", "batch.runs_per_day", "batch.processing_window_h", "batch.deadline_h",
                    "batch.spot.interruption_rate_pct", "batch.spot.restart_minutes",
                    "batch.spot.checkpoint_interval_minutes", "streaming.events_per_second",
                    "streaming.peak_events_per_second", "streaming.allowed_lag_s"}


# Numbers computed from the inputs alone (a default applied, a choice read), not from the estimate.
_FROM_INPUTS = {"capacity.target_utilisation_pct", "capacity.failure_domains", "capacity.n_plus_one",
                "capacity.gpus_per_replica", "capacity.autoscaled", "cost.autoscaled", "cost.pricing_model",
                "cost.mix.reserved_pct", "cost.mix.spot_pct", "cost.mix.on_demand_pct", "cost.mix.reserved_term"}


@functools.cache
def _reference() -> tuple[dict[str, Any], ...]:
    # The reference is generated from constant definitions; building it cost ~6 ms a call.
    return tuple(fact_reference())


# What a batch job's or a stream's derived rates count: records or events, not requests.
_SHAPE_UNITS = {shape: {"req/s": f"{noun}/s", "req/day": f"{noun}/day", "req/month": f"{noun}/month",
                        "requests": noun, "USD/1k requests": f"USD/1k {noun}"}
                for shape, noun in (("batch", "records"), ("streaming", "events"))}


def _meta(traffic: TrafficPlan, capacity: CapacityPlan, shape: str | None) -> dict[str, dict[str, Any]]:
    # The same inputs give the same table; callers only read it (it cost ~0.3 ms a call).
    return _meta_for(tuple(sorted(traffic.sources.items())), capacity.per_replica_qps_source, shape)


@functools.lru_cache(maxsize=64)
def _meta_for(traffic_sources: tuple[tuple[str, str], ...], per_replica_qps_source: str,
              shape: str | None = None) -> dict[str, dict[str, Any]]:
    """Metadata by path; `shape` ('batch', 'streaming' or None for online) names what the derived
    rates count, so a stream's throughput reads events/s, not req/s."""
    units = _SHAPE_UNITS.get(shape, {})
    sources = dict(traffic_sources)
    based_on = "derived" if per_replica_qps_source == "measured" else "estimated"
    meta: dict[str, dict[str, Any]] = {}
    for row in _reference():
        path = row["path"]
        top = path.split(".")[0]
        if top in ("requirements", "architecture") or path in _ENTERED_DERIVED or (
                path.startswith("cost.hourly_usd.") and path != "cost.hourly_usd.mixed"):
            provenance = "entered"
        elif top == "traffic":
            provenance = sources.get(path.split(".", 1)[1], "derived")
        elif path.startswith("capacity.estimate."):
            provenance = "estimated"
        elif path in _FROM_INPUTS:
            provenance = "derived"
        elif path == "capacity.per_replica_qps":
            provenance = "measured" if per_replica_qps_source == "measured" else "estimated"
        elif top in ("capacity", "cost", "batch", "streaming") and not path.startswith("cost.build_vs_buy.api"):
            provenance = based_on
        elif top == "benchmark":
            provenance = "measured"
        else:
            provenance = "derived"
        unit = row["unit"]
        if top in ("traffic", "capacity", "cost"):
            unit = units.get(unit, unit)
        meta[path] = {"unit": unit, "description": row["description"], "type": row["type"],
                      "provenance": provenance}
    return meta
