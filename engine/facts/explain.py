"""Explained numbers: each number's formula over other facts, and why a blank number is blank.

`FORMULAS` maps a fact path to the formulas that may compute it (the first whose `when` holds for
the design applies). A formula is text with `{fact.path}` placeholders: shown with the paths it
reads it is the definition; shown with the design's values in their place it is the arithmetic.
The calculators stay the single implementation (`engine.planning`); these formulas restate them
for people, and tests check that the arithmetic they show agrees with the numbers.

    explain(facts, path) -> Explanation     definition, formula, operands, provenance, blockers
    blockers(facts, path) -> [Blocker]      the blank or invalid inputs a blank number waits for
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from engine.design import field as design_field
from engine.facts.tree import Facts

_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")
PLANS = ("on_demand", "spot", "reserved_1y", "reserved_3y", "mixed")


@dataclass(frozen=True, slots=True)
class Formula:
    text: str = ""  # with {fact.path} placeholders; empty when the number is not computed for this design
    when: Callable[["_Reader"], bool] | None = None
    needs: tuple[str, ...] = ()  # inputs it needs that the text does not show (for blockers)
    zero_if_blank: tuple[str, ...] = ()  # operands that count as 0 while blank (a hit rate, a share)
    note: str = ""  # one sentence a reader needs besides the formula

    @property
    def operands(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.text)))


@dataclass(frozen=True, slots=True)
class Blocker:
    """An input a blank number waits for: blank, or invalid (left out while invalid)."""

    path: str
    label: str
    reason: str  # 'blank' | 'invalid'
    message: str = ""  # the validation error, when invalid


@dataclass(frozen=True, slots=True)
class Explanation:
    path: str
    value: Any
    unit: str | None
    description: str
    provenance: str
    formula: Formula | None
    blockers: tuple[Blocker, ...]

    @property
    def operands(self) -> tuple[str, ...]:
        return self.formula.operands if self.formula else ()


class _Reader:
    def __init__(self, facts: Facts):
        self.facts = facts

    def get(self, path: str) -> Any:
        return self.facts.get(path)

    @property
    def shape(self) -> str:
        timing = self.get("requirements.workload_timing")
        return timing if timing in ("batch", "streaming") else "online"


def _shape(*shapes: str) -> Callable[[_Reader], bool]:
    return lambda r: r.shape in shapes


def _set(path: str) -> Callable[[_Reader], bool]:
    return lambda r: r.get(path) is not None


def _is(path: str, *values: Any) -> Callable[[_Reader], bool]:
    return lambda r: r.get(path) in values


def _all(*tests: Callable[[_Reader], bool]) -> Callable[[_Reader], bool]:
    return lambda r: all(test(r) for test in tests)


BATCH, STREAM, ONLINE = _shape("batch"), _shape("streaming"), _shape("online")
GENERATIVE = _is("requirements.workload_type", "generative")
MEASURED = _is("capacity.per_replica_qps_source", "measured")
HITS = ("architecture.result_cache_hit_rate_pct", "architecture.embedding_cache_hit_rate_pct",
        "architecture.cheap_tier_share_pct")

FORMULAS: dict[str, tuple[Formula, ...]] = {
    # --- traffic
    "traffic.average_qps": (
        Formula("{requirements.records_per_run} × {batch.runs_per_day} ÷ 86,400 s", BATCH),
        Formula("{requirements.events_per_second}", STREAM),
        Formula("{requirements.average_qps}", _set("requirements.average_qps"), note="Entered."),
        Formula("{requirements.daily_active_users} × {requirements.requests_per_user_per_day} ÷ 86,400 s",
                _set("requirements.daily_active_users")),
        Formula("{requirements.peak_qps} ÷ {requirements.peak_factor}",
                _all(_set("requirements.peak_qps"), _set("requirements.peak_factor"))),
        Formula("{requirements.average_qps}",
                note="Enter the average QPS, or daily active users and requests per user."),
    ),
    "traffic.peak_qps": (
        Formula("{requirements.records_per_run} ÷ ({requirements.processing_window_h} × 3,600 s)", BATCH,
                note="The rate a run must sustain to finish within its window."),
        Formula("{streaming.peak_events_per_second}", STREAM),
        Formula("{requirements.peak_qps}", _set("requirements.peak_qps"), note="Entered."),
        Formula("{traffic.average_qps} × {traffic.peak_factor}",
                note="The peak factor is entered, or the default the plan assumes."),
    ),
    "traffic.peak_factor": (Formula("{traffic.peak_qps} ÷ {traffic.average_qps}"),),
    "traffic.requests_per_day": (Formula("{traffic.average_qps} × 86,400 s"),),
    "traffic.requests_per_month": (Formula("{traffic.average_qps} × 2,628,000 s"),),
    "traffic.concurrency_peak": (
        Formula(when=BATCH, note="A batch job has no per-request latency, so no requests in flight to count."),
        Formula("{traffic.peak_qps} × {requirements.latency_p50_ms} ÷ 1,000", note="Little's law."),
    ),
    "traffic.tokens_per_month": (
        Formula("{traffic.requests_per_month} × ({requirements.input_tokens_per_request} + "
                "{requirements.output_tokens_per_request})",
                zero_if_blank=("requirements.input_tokens_per_request", "requirements.output_tokens_per_request")),
    ),
    # --- latency budget
    "latency_budget.p99_budget_ms": (
        Formula(when=BATCH, note="A batch job has no per-record latency budget: its fleet is sized by the "
                                 "processing window."),
        Formula("{streaming.allowed_lag_s} × 1,000", STREAM, note="A stream's budget is its allowed lag."),
        Formula("{requirements.latency_p99_ms}"),
    ),
    "latency_budget.overhead_ms": (
        Formula("{latency_budget.network_ms} + {latency_budget.preprocessing_ms} + {latency_budget.queueing_ms} + "
                "{latency_budget.postprocessing_ms}",
                note="Queueing is the max batch delay with dynamic batching, else 0."),
    ),
    "latency_budget.inference_budget_ms": (
        Formula(when=BATCH, note="A batch job has no per-record latency budget."),
        Formula("{latency_budget.p99_budget_ms} − {latency_budget.overhead_ms}"),
    ),
    "latency_budget.inference_share_pct": (
        Formula(when=BATCH, note="A batch job has no per-record latency budget."),
        Formula("{latency_budget.inference_budget_ms} ÷ {latency_budget.p99_budget_ms} × 100"),
    ),
    "latency_budget.generation_ms": (
        Formula("{requirements.time_to_first_token_ms} + ({requirements.output_tokens_per_request} − 1) × "
                "{requirements.time_per_output_token_ms}",
                note="Generative workloads: the response time the token targets imply."),
    ),
    # --- data volume
    "data_volume.request_log_gb_per_day": (
        Formula("0", _is("requirements.log_payloads", False), note="Payloads are not logged."),
        Formula("{traffic.requests_per_day} × ({requirements.record_size_kb} + {requirements.response_size_kb}) "
                "÷ 1,000,000", BATCH, zero_if_blank=("requirements.response_size_kb",)),
        Formula("{traffic.requests_per_day} × ({requirements.request_size_kb} + {requirements.response_size_kb}) "
                "÷ 1,000,000", zero_if_blank=("requirements.response_size_kb",)),
    ),
    "data_volume.ingest_gb_per_day": (
        Formula("{data_volume.request_log_gb_per_day} + {data_volume.new_data_gb_per_day}",
                zero_if_blank=("data_volume.new_data_gb_per_day",)),
    ),
    "data_volume.ingest_gb_per_month": (Formula("{data_volume.ingest_gb_per_day} × 30.42 days"),),
    "data_volume.stored_gb_after_1y": (
        Formula("{requirements.training_data_gb} + {data_volume.ingest_gb_per_day} × 365 days",
                _is("data_volume.retention_days", None), zero_if_blank=("requirements.training_data_gb",),
                note="No retention is set: a year's ingest is kept."),
        Formula("{requirements.training_data_gb} + {data_volume.ingest_gb_per_day} × min("
                "{data_volume.retention_days}, 365) days", zero_if_blank=("requirements.training_data_gb",)),
    ),
    "data_volume.egress_mbps_peak": (
        Formula("{traffic.peak_qps} × {requirements.response_size_kb} × 8 ÷ 1,000"),
    ),
    # --- capacity
    "capacity.per_replica_qps": (
        Formula("{benchmark.offline_throughput_per_s}",
                _all(MEASURED, BATCH, _set("benchmark.offline_throughput_per_s")),
                note="Measured: the benchmark's offline throughput (every record available at once)."),
        Formula("{benchmark.goodput_rps}", _all(MEASURED, GENERATIVE, _set("benchmark.goodput_rps")),
                note="Measured: the highest rate whose TTFT and TPOT p99 held their targets (goodput)."),
        Formula("{benchmark.output_tokens_per_s} ÷ {requirements.output_tokens_per_request}",
                _all(MEASURED, GENERATIVE, _set("benchmark.output_tokens_per_s")),
                note="Measured: output tokens per second at the SLO, per request."),
        Formula("{benchmark.max_qps_at_p99}", MEASURED,
                note="Measured: the highest rate whose P99 stayed within the budget."),
        Formula("{capacity.estimate.per_replica_qps}", note="Estimated (roofline) until a benchmark measures it; "
                                                           "see How these numbers are computed."),
    ),
    "capacity.estimate.per_replica_qps": (
        Formula("{capacity.estimate.batch_size} ÷ {capacity.estimate.latency_ms} × 1,000",
                needs=("architecture.gpu_type", "requirements.model_params_billions"),
                note="A batch of B requests served in the estimated model time."),
    ),
    "capacity.feasible": (
        Formula(when=_is("capacity.feasible", False), note="Cannot run as designed: see "
                "capacity.infeasible_reason; with no per-replica throughput there are no replicas, cost or "
                "manifests."),
        Formula("{capacity.estimate.feasible}", note="The model fits one replica and batch 1 meets the budget."),
    ),
    "capacity.estimate.batch_size": (
        Formula("the largest B ≤ min({architecture.max_batch_size}, {memory.max_concurrent_sequences}) whose latency "
                "stays within {latency_budget.inference_budget_ms} ms and whose TTFT and TPOT stay within "
                "{requirements.time_to_first_token_ms} and {requirements.time_per_output_token_ms} ms", GENERATIVE,
                zero_if_blank=("requirements.time_to_first_token_ms", "requirements.time_per_output_token_ms",
                               "latency_budget.inference_budget_ms"),
                note="The KV cache caps the batch at the sequences it holds; a target even B = 1 misses holds "
                     "the batch at 1."),
        Formula("the largest B ≤ {architecture.max_batch_size} whose latency stays within "
                "{latency_budget.inference_budget_ms} ms", zero_if_blank=("latency_budget.inference_budget_ms",)),
    ),
    "capacity.estimate.time_per_output_token_ms": (
        Formula("max(({memory.weights_gb} + {capacity.estimate.batch_size} × {memory.kv_bytes_per_token} × "
                "({requirements.input_tokens_per_request} + {requirements.output_tokens_per_request} ÷ 2) ÷ "
                "1,000,000,000) ÷ {capacity.estimate.read_gb_per_s} × 1,000, 2 × "
                "{requirements.model_params_billions} × {capacity.estimate.batch_size} × (1 + input after the "
                "prompt cache ÷ {requirements.output_tokens_per_request}) ÷ {capacity.estimate.compute_tflops})",
                needs=("architecture.gpu_type",),
                note="One decode step reads the weights and the batch's KV cache, and computes B tokens plus "
                     "the prefill chunks that ride along (chunked prefill)."),
    ),
    "capacity.estimate.time_to_first_token_ms": (
        Formula("{capacity.estimate.prefill_ms} + {capacity.estimate.time_per_output_token_ms}",
                note="The prompt's prefill, then the decode step of the batch it joins."),
    ),
    "capacity.estimate.latency_ms": (
        Formula("{capacity.estimate.time_to_first_token_ms} + ({requirements.output_tokens_per_request} − 1) × "
                "{capacity.estimate.time_per_output_token_ms}", GENERATIVE,
                note="The same TTFT and TPOT the token targets are judged against."),
        Formula("max(weights read, B × 2 × params × tokens ÷ compute rate) + 1 ms",
                note="One batched forward pass (see How these numbers are computed)."),
    ),
    "capacity.estimate.output_tokens_per_s": (
        Formula("{capacity.estimate.per_replica_qps} × {requirements.output_tokens_per_request}"),
    ),
    # --- memory
    "memory.usable_gb": (Formula("{capacity.estimate.replica_memory_gb} × 0.90",
                                 note="10 % is left to the CUDA context, the allocator and the runtime."),),
    "memory.weights_gb": (Formula("{requirements.model_params_billions} × {memory.bytes_per_param}",
                                  needs=("architecture.gpu_type",)),),
    "memory.overhead_gb": (Formula("0.5 × {capacity.gpus_per_replica}",
                                   note="Assumed: 0.5 GB per GPU for activations and workspaces."),),
    "memory.kv_bytes_per_token": (
        Formula("2 × {memory.layers} × {memory.kv_heads} × {memory.head_dim} × {memory.kv_bytes_per_element}",
                needs=("requirements.model_params_billions", "architecture.gpu_type"),
                note="Keys and values, for every layer and KV head."),
    ),
    "memory.tokens_per_sequence": (
        Formula("min({requirements.input_tokens_per_request} + {requirements.output_tokens_per_request}, "
                "{requirements.sequence_length_tokens})",
                _all(_set("requirements.sequence_length_tokens"), _set("requirements.input_tokens_per_request")),
                zero_if_blank=("requirements.output_tokens_per_request",)),
        Formula("{requirements.input_tokens_per_request} + {requirements.output_tokens_per_request}",
                _set("requirements.input_tokens_per_request"),
                zero_if_blank=("requirements.output_tokens_per_request",)),
        Formula("{requirements.sequence_length_tokens}", note="Token counts are blank: a sequence is assumed to "
                                                              "fill the context."),
    ),
    "memory.kv_gb_per_sequence": (
        Formula("{memory.kv_bytes_per_token} × {memory.tokens_per_sequence} ÷ 1,000,000,000"),
    ),
    "memory.kv_room_gb": (Formula("{memory.usable_gb} − {memory.weights_gb} − {memory.overhead_gb}"),),
    "memory.kv_cache_gb": (Formula("{memory.concurrency_asked} × {memory.kv_gb_per_sequence}"),),
    "memory.required_gb": (
        Formula("{memory.weights_gb} + {memory.kv_cache_gb} + {memory.overhead_gb}",
                zero_if_blank=("memory.kv_cache_gb",)),
    ),
    "memory.max_concurrent_sequences": (
        Formula("floor({memory.kv_room_gb} ÷ {memory.kv_gb_per_sequence})",
                note="The batch a replica can hold; the estimate caps its batch here."),
    ),
    "memory.fits": (Formula("{memory.required_gb} ≤ {memory.usable_gb}"),),
    "capacity.model_peak_qps": (
        Formula("{traffic.peak_qps} × (1 − {architecture.result_cache_hit_rate_pct} %) × (1 − "
                "{architecture.embedding_cache_hit_rate_pct} %) × (1 − {architecture.cheap_tier_share_pct} %)",
                _is("requirements.workload_type", "embed"), zero_if_blank=HITS),
        Formula("{traffic.peak_qps} × (1 − {architecture.result_cache_hit_rate_pct} %) × (1 − "
                "{architecture.cheap_tier_share_pct} %)", zero_if_blank=HITS,
                note="Cache hits and the cheaper tier's share never reach the main model."),
    ),
    "capacity.cheap_tier_peak_qps": (
        Formula("{traffic.peak_qps} × (1 − {architecture.result_cache_hit_rate_pct} %) × (1 − "
                "{architecture.embedding_cache_hit_rate_pct} %) × {architecture.cheap_tier_share_pct} %",
                _is("requirements.workload_type", "embed"), zero_if_blank=HITS[:2]),
        Formula("{traffic.peak_qps} × (1 − {architecture.result_cache_hit_rate_pct} %) × "
                "{architecture.cheap_tier_share_pct} %", zero_if_blank=HITS[:1]),
    ),
    "capacity.cheap_tier_per_replica_qps": (
        Formula("{capacity.per_replica_qps} ÷ {capacity.gpus_per_replica} ÷ ({architecture.cheap_tier_cost_ratio_pct} "
                "%)", note="A cheaper-tier request costs that share of a main-model request, on one GPU."),
    ),
    "capacity.cheap_tier_replicas": (
        Formula("max(ceil({capacity.cheap_tier_peak_qps} ÷ ({capacity.cheap_tier_per_replica_qps} × "
                "{capacity.target_utilisation_pct} %)), 1) spread over {capacity.failure_domains} failure domains "
                "as the main fleet is, at least one replica in each",
                note="The cheaper tier's own fleet: it has a minimum however little traffic it gets."),
    ),
    "cost.cheap_tier_monthly_usd": (
        Formula("the chosen plan's price per GPU-hour × the cheaper tier's GPU-hours ({capacity.cheap_tier_replicas} "
                "replicas at peak, {capacity.cheap_tier_replicas_average} at average)",
                note="Billed like the main fleet: reserved plans pay its peak fleet around the clock."),
    ),
    "capacity.model_average_qps": (
        Formula("{traffic.average_qps} × (1 − {architecture.result_cache_hit_rate_pct} %) × (1 − "
                "{architecture.cheap_tier_share_pct} %)", zero_if_blank=HITS),
    ),
    "capacity.replicas_for_load": (
        Formula("ceil({capacity.model_peak_qps} ÷ ({capacity.per_replica_qps} × "
                "{capacity.target_utilisation_pct} %))"),
    ),
    "capacity.replicas": (
        Formula("{capacity.failure_domains} × ceil({capacity.replicas_for_load} ÷ ({capacity.failure_domains} − 1)), "
                "+ 1 if N+1 ({capacity.n_plus_one}), at least min replicas ({architecture.min_replicas})",
                lambda r: (r.get("capacity.failure_domains") or 1) >= 2, zero_if_blank=("architecture.min_replicas",),
                note="Sized to carry the peak with one zone lost."),
        Formula("{capacity.replicas_for_load}, + 1 if N+1 ({capacity.n_plus_one}), at least min replicas "
                "({architecture.min_replicas})", zero_if_blank=("architecture.min_replicas",)),
    ),
    "capacity.replicas_average": (
        Formula("{capacity.min_replicas_effective}", _all(BATCH, _is("capacity.autoscaled", True)),
                note="An autoscaled batch fleet keeps only its min replicas between runs."),
        Formula("{capacity.replicas}", BATCH, note="A fixed batch fleet stays up between runs."),
        Formula("the rules of replicas at peak, for {capacity.model_average_qps}"),
    ),
    "capacity.gpus": (Formula("{capacity.replicas} × {capacity.gpus_per_replica}"),),
    "capacity.min_replicas_effective": (
        Formula("{capacity.replicas}", _is("capacity.autoscaled", False),
                note="No autoscaling: a fixed fleet always runs its planned size."),
        Formula("0", _all(BATCH, _is("architecture.min_replicas", None)),
                note="Min replicas is blank: a batch fleet is assumed to scale to zero between runs."),
        Formula("{architecture.min_replicas}", note="The autoscaler's floor."),
    ),
    "capacity.utilisation_at_peak_pct": (
        Formula("{capacity.model_peak_qps} ÷ ({capacity.replicas} × {capacity.per_replica_qps}) × 100"),
    ),
    "capacity.utilisation_average_pct": (
        Formula("{capacity.model_average_qps} ÷ ({capacity.replicas} × {capacity.per_replica_qps}) × 100"),
    ),
    # --- cost
    "cost.gpu_hours_per_month": (
        Formula("{capacity.gpus_per_replica} × 30.42 days × ({cost.replicas_off_peak} × (24 h − "
                "{cost.full_size_hours_per_day}) + {cost.replicas_full_size} × {cost.full_size_hours_per_day})",
                needs=("architecture.gpu_type",),
                note="A fixed fleet runs at full size 24 h a day; an autoscaled one for its peak (or run) hours."),
    ),
    "cost.replicas_full_size": (
        Formula("{batch.replicas}", BATCH, note="The fleet that runs the job."),
        Formula("{capacity.replicas}"),
    ),
    "cost.replicas_off_peak": (
        Formula("{cost.replicas_full_size}", _is("capacity.autoscaled", False),
                note="A fixed fleet stays at full size."),
        Formula("{capacity.replicas_average}"),
    ),
    "cost.full_size_hours_per_day": (
        Formula("24 h", _is("capacity.autoscaled", False), note="A fixed fleet runs at full size all day."),
        Formula("{batch.run_hours_per_day}", BATCH, note="An autoscaled batch fleet runs at full size while the "
                                                         "job runs."),
        Formula("{requirements.peak_hours_per_day}", zero_if_blank=("requirements.peak_hours_per_day",),
                note="The peak hours entered, or the default the plan assumes."),
    ),
    "cost.gpu_hours_always_on": (
        Formula("{cost.replicas_full_size} × {capacity.gpus_per_replica} × 730 h"),
    ),
    "cost.hourly_usd.mixed": tuple(
        Formula(f"{{cost.mix.reserved_pct}} % × {{cost.hourly_usd.reserved_{term}}} + {{cost.mix.spot_pct}} % × "
                f"{{cost.hourly_usd.spot}}{rework} + {{cost.mix.on_demand_pct}} % × {{cost.hourly_usd.on_demand}}",
                _all(_is("cost.mix.reserved_term", term), BATCH if rework else (lambda r: True)),
                note="A batch job's spot hours include the rework after interruptions." if rework else "")
        for term in ("1y", "3y") for rework in (" × {batch.spot.hours_factor}", "")),
    "cost.budget_usd": (Formula("{requirements.monthly_gpu_budget_usd}"),),
    "cost.budget_gap_pct": (
        Formula("({cost.monthly_usd.selected} − {cost.budget_usd}) ÷ {cost.budget_usd} × 100"),
    ),
    "cost.build_vs_buy.self_hosted_monthly_usd": (Formula("{cost.monthly_usd.selected}"),),
    "cost.build_vs_buy.api_monthly_usd": (
        Formula("{traffic.requests_per_month} × (1 − {architecture.result_cache_hit_rate_pct} %) × "
                "({requirements.input_tokens_per_request} × {architecture.api_price_per_1m_input_tokens_usd} + "
                "{requirements.output_tokens_per_request} × {architecture.api_price_per_1m_output_tokens_usd}) "
                "÷ 1,000,000", zero_if_blank=("architecture.result_cache_hit_rate_pct",
                                              "requirements.output_tokens_per_request",
                                              "architecture.api_price_per_1m_output_tokens_usd"),
                needs=("architecture.api_price_per_1m_input_tokens_usd",)),
    ),
    "cost.build_vs_buy.difference_usd": (
        Formula("{cost.build_vs_buy.api_monthly_usd} − {cost.build_vs_buy.self_hosted_monthly_usd}"),
    ),
    # --- batch
    "batch.runs_per_month": (Formula("{batch.runs_per_day} × 30.42 days"),),
    "batch.replicas_for_window": (
        Formula("ceil({requirements.records_per_run} ÷ ({batch.per_replica_records_per_s} × "
                "{requirements.processing_window_h} × 3,600 s))"),
    ),
    "batch.replicas": (
        Formula("min({capacity.replicas}, {architecture.max_replicas})",
                _all(_is("capacity.autoscaled", True), _set("architecture.max_replicas")),
                note="The autoscaler's ceiling caps the fleet; the job then takes longer."),
        Formula("{capacity.replicas}"),
    ),
    "batch.per_replica_records_per_s": (Formula("{capacity.per_replica_qps}"),),
    "batch.job_duration_h": (
        Formula("{requirements.records_per_run} ÷ ({batch.replicas} × {batch.per_replica_records_per_s}) "
                "÷ 3,600 s"),
    ),
    "batch.meets_window": (Formula("{batch.job_duration_h} ≤ {batch.processing_window_h}"),),
    "batch.slack_h": (Formula("{batch.deadline_h} − {batch.job_duration_h}"),),
    "batch.run_hours_per_day": (Formula("{batch.job_duration_h} × {batch.runs_per_day}"),),
    "batch.gpu_hours_per_run": (
        Formula("{batch.replicas} × {capacity.gpus_per_replica} × {batch.job_duration_h}"),
    ),
    "batch.spot.expected_duration_h": (
        Formula("{batch.job_duration_h} × (1 + {batch.spot.interruption_rate_pct} % × "
                "({batch.spot.restart_minutes} + {batch.spot.checkpoint_interval_minutes} ÷ 2) ÷ 60)",
                _set("batch.spot.checkpoint_interval_minutes"),
                note="First order: each interruption costs a restart and half a checkpoint interval of work."),
        Formula("{batch.job_duration_h} × (1 + {batch.spot.interruption_rate_pct} % × "
                "({batch.spot.restart_minutes} + {batch.job_duration_h} × 60 ÷ 2) ÷ 60)",
                note="No checkpoints: an interruption loses half the job's work on average."),
    ),
    "batch.spot.worst_case_duration_h": (
        Formula("{batch.job_duration_h} + ({batch.spot.restart_minutes} + "
                "{batch.spot.checkpoint_interval_minutes}) ÷ 60", _set("batch.spot.checkpoint_interval_minutes")),
        Formula("{batch.job_duration_h} + {batch.spot.restart_minutes} ÷ 60 + {batch.job_duration_h}",
                note="No checkpoints: one interruption at the end loses the whole job."),
    ),
    "batch.spot.suitable": (Formula("{batch.spot.worst_case_duration_h} ≤ {batch.deadline_h}"),),
    # --- streaming
    "streaming.fleet_events_per_second": (Formula("{capacity.replicas} × {capacity.per_replica_qps}"),),
    "streaming.headroom_events_per_second": (
        Formula("{streaming.fleet_events_per_second} − {streaming.peak_events_per_second}"),
    ),
    "streaming.catch_up_s_per_stalled_minute": (
        Formula("60 s × {streaming.events_per_second} ÷ ({streaming.fleet_events_per_second} − "
                "{streaming.events_per_second})"),
    ),
}

for _plan in PLANS:
    _hours = "{cost.gpu_hours_always_on}" if _plan.startswith("reserved") else "{cost.gpu_hours_per_month}"
    _tier = _is("cost.pricing_model", _plan)
    FORMULAS[f"cost.monthly_usd.{_plan}"] = (
        Formula(f"{{cost.hourly_usd.{_plan}}} × {_hours} + {{cost.cheap_tier_monthly_usd}}",
                _all(_tier, lambda r: bool(r.get("cost.cheap_tier_monthly_usd"))),
                note="Plus the cheaper tier's requests at this plan's price."),
        Formula(f"{{cost.hourly_usd.{_plan}}} × {_hours} + the cheaper tier's requests at this price",
                _all(lambda r: bool(r.get("cost.cheap_tier_monthly_usd")),
                     lambda r: (r.get("architecture.cheap_tier_share_pct") or 0) > 0)),
        Formula(f"{{cost.hourly_usd.{_plan}}} × {_hours} × {{batch.spot.hours_factor}}",
                _all(BATCH, lambda r, p=_plan: p == "spot"),
                note="Spot pays the expected hours with interruptions (the rework) included."),
        Formula(f"{{cost.hourly_usd.{_plan}}} × {_hours}", needs=("architecture.gpu_type",),
                note="Reserved capacity is paid around the clock." if _plan.startswith("reserved") else ""),
    )
    FORMULAS[f"cost.per_1k_requests_usd.{_plan}"] = (
        Formula(f"{{cost.monthly_usd.{_plan}}} ÷ {{traffic.requests_per_month}} × 1,000"),
    )
    FORMULAS[f"cost.per_1m_tokens_usd.{_plan}"] = (
        Formula(f"{{cost.monthly_usd.{_plan}}} ÷ {{traffic.tokens_per_month}} × 1,000,000"),
    )
    FORMULAS[f"batch.cost_per_run_usd.{_plan}"] = (
        Formula(f"{{cost.monthly_usd.{_plan}}} ÷ {{batch.runs_per_month}}"),
    )
for _plan in ("on_demand", "spot", "reserved_1y", "reserved_3y"):
    FORMULAS[f"cost.hourly_usd.{_plan}"] = (
        Formula(f"{{architecture.negotiated_{_plan}_usd_per_hour}}",
                _set(f"architecture.negotiated_{_plan}_usd_per_hour"),
                note="Negotiated: the price entered for this design replaces the catalog's."),
        Formula("", note="The GPU catalog's price for the chosen accelerator.", needs=("architecture.gpu_type",)),
    )
for _selected in ("monthly_usd", "per_1k_requests_usd", "per_1m_tokens_usd", "cost_per_run_usd"):
    _prefix = "batch" if _selected == "cost_per_run_usd" else "cost"
    FORMULAS[f"{_prefix}.{_selected}.selected"] = tuple(
        Formula(f"{{{_prefix}.{_selected}.{plan}}}", _is("cost.pricing_model", plan),
                note="The plan the design chose.") for plan in PLANS)


def formula_for(facts: Facts, path: str) -> Formula | None:
    """The formula that applies to this number for this design (None when none is defined)."""
    reader = _Reader(facts)
    for formula in FORMULAS.get(path, ()):
        if formula.when is None or formula.when(reader):
            return formula
    return None


def explain(facts: Facts, path: str) -> Explanation:
    """One number: value, definition, the formula that applies, provenance, and its blockers."""
    meta = facts.meta.get(path, {})
    return Explanation(path=path, value=facts.get(path), unit=meta.get("unit"),
                       description=meta.get("description", ""), provenance=meta.get("provenance", "derived"),
                       formula=formula_for(facts, path), blockers=tuple(blockers(facts, path)))


def is_input(path: str) -> bool:
    return path.startswith(("requirements.", "architecture."))


def blockers(facts: Facts, path: str) -> list[Blocker]:
    """The inputs a blank number is waiting for, each blank or invalid (empty when it has a value,
    or when it does not apply to the design's shape)."""
    out: dict[str, Blocker] = {}
    hidden = set(facts.validation.hidden)
    errors = facts.validation.errors

    def walk(current: str, seen: frozenset[str]) -> None:
        if current in seen or current in out:
            return
        value = facts.get(current)
        if is_input(current):
            if current in hidden:
                return
            if current in errors:
                out[current] = Blocker(current, design_field(current).label, "invalid", errors[current][0])
            elif value is None:
                out[current] = Blocker(current, design_field(current).label, "blank")
            return
        if value is not None:
            return
        formula = formula_for(facts, current)
        if formula is None:
            return
        for operand in (*formula.operands, *formula.needs):
            if operand not in formula.zero_if_blank:
                walk(operand, seen | {current})

    walk(path, frozenset())
    return list(out.values())
