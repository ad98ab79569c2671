"""The design schema: every requirements and architecture field, defined once.

Public API (all plain data in, plain data out):

    FIELDS                      every Field, in form order (requirements first)
    field(key)                  one Field by dotted key, e.g. "requirements.latency_p99_ms"
    sections(group)             the Sections of "requirements" or "architecture", in form order
    validate(inputs, *, gpu_catalog=None) -> ValidationResult
                                flat form data or a nested document -> typed document + errors
    visible_fields(values)      keys of the fields shown for these (raw or typed) values
    schema()                    the whole schema as a JSON-ready dict (for forms, APIs, docs)
    example_design()            a complete demo design (nested document)
    empty_design()              a document with every field blank

See `engine.design.schema` for the field kinds and the `shown_when` condition format.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.design.fields import FIELDS, SECTION_INFO, build_sections
from engine.design.schema import CHOICE_KINDS, GROUPS, KINDS, LIST_KINDS, Choice, Field, Section
from engine.design.validate import ValidationResult, validate_document, visibility

__all__ = [
    "CHOICE_KINDS", "FIELDS", "GROUPS", "KINDS", "LIST_KINDS", "Choice", "Field", "Section",
    "ValidationResult", "empty_design", "example_design", "field", "schema", "sections", "validate",
    "visible_fields",
]

_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
_SECTIONS = build_sections()


def field(key: str) -> Field:
    """The field with this dotted key; KeyError if there is none."""
    return _BY_KEY[key]


def sections(group: str) -> tuple[Section, ...]:
    """The sections of a group ("requirements" or "architecture"), each with its fields, in order."""
    if group not in _SECTIONS:
        raise KeyError(f"unknown group {group!r}; expected one of {', '.join(GROUPS)}")
    return _SECTIONS[group]


def validate(inputs: Any, *, gpu_catalog: Mapping[str, Any] | None = None) -> ValidationResult:
    """Validate and normalise a design; never raises on bad input.

    `inputs` may be flat (`{"requirements.latency_p99_ms": "120"}`, as a form posts it; scalar
    fields also accept a one-item list, list fields a list or a comma/newline-separated string),
    nested (`{"requirements": {...}, "architecture": {...}}`), or a mix. Blank values are allowed
    (a half-filled design is valid); fields hidden by their `shown_when` are cleared and not checked.
    `gpu_catalog` (the staff-edited catalog) decides which `architecture.gpu_type` values exist;
    default: the shipped catalog.
    """
    gpu_keys = list(gpu_catalog["gpus"]) if _catalog_has_gpus(gpu_catalog) else None
    return validate_document(inputs, FIELDS, gpu_keys=gpu_keys)


def _catalog_has_gpus(catalog: Any) -> bool:
    return isinstance(catalog, Mapping) and isinstance(catalog.get("gpus"), Mapping) and bool(catalog["gpus"])


def visible_fields(inputs: Any) -> list[str]:
    """Keys of the fields shown for these inputs (same shapes as `validate`), in form order."""
    result = validate(inputs)
    hidden = set(result.hidden)
    return [f.key for f in FIELDS if f.key not in hidden]


def schema() -> dict[str, Any]:
    """The whole schema as JSON-ready data: groups -> sections -> fields."""
    return {
        "kinds": list(KINDS),
        "groups": {
            group: [
                {**section.to_dict(), "fields": [f.to_dict() for f in section.fields]}
                for section in sections(group)
            ]
            for group in GROUPS
        },
    }


def empty_design() -> dict[str, dict[str, Any]]:
    """A nested document with every field blank (lists empty)."""
    return validate({}).document


def example_design() -> dict[str, dict[str, Any]]:
    """A complete, realistic demo design: an online RAG support assistant on an 8B LLM.

    Every field that is shown for these choices is filled (max batch delay is hidden because
    the server uses continuous batching; the batch and stream shapes, because it is online; the
    negotiated prices, because it pays the catalog's). Returns a fresh nested document each call.
    """
    requirements = {
        "use_case": "Answer customer support questions in chat from our product documentation "
                    "(retrieval-augmented generation), with links to the sources.",
        "workload_timing": "online",
        "workload_type": "generative",
        # an online workload: the batch and stream shapes are hidden
        "records_per_run": None,
        "runs_per_day": None,
        "processing_window_h": None,
        "deadline_h": None,
        "record_size_kb": None,
        "events_per_second": None,
        "peak_events_per_second": None,
        "allowed_lag_s": None,
        "latency_p50_ms": 3000.0,
        "latency_p95_ms": 6000.0,
        "latency_p99_ms": 8000.0,
        "time_to_first_token_ms": 600.0,
        "time_per_output_token_ms": 25.0,
        "network_latency_ms": 50.0,
        "preprocessing_ms": 150.0,
        "postprocessing_ms": 50.0,
        "average_qps": 23.0,
        "peak_qps": 70.0,
        "daily_active_users": 200_000,
        "requests_per_user_per_day": 10.0,
        "peak_factor": 3.0,
        "peak_hours_per_day": 4.0,
        "request_size_kb": 8.0,
        "response_size_kb": 2.0,
        "input_tokens_per_request": 1500,
        "output_tokens_per_request": 250,
        "training_data_gb": 500.0,
        "new_data_per_day_gb": 2.0,
        "log_payloads": True,
        "retention_days": 90,
        "feature_freshness_s": 3600.0,
        "availability_target_pct": 99.9,
        "rto_minutes": 30.0,
        "rpo_minutes": 15.0,
        "regions": ["us-east-1", "eu-west-1"],
        "model_name": "Llama-3.1-8B-Instruct",
        "model_family": "decoder_llm",
        "model_params_billions": 8.0,
        "model_dtype": "bf16",
        "sequence_length_tokens": 8192,
        "model_layers": 32,
        "model_kv_heads": 8,
        "model_head_dim": 128,
        "monthly_gpu_budget_usd": 15_000.0,
    }
    architecture = {
        "pipeline_pattern": "kappa",
        "feature_store": "online_offline",
        "storage_pattern": "lakehouse",
        "data_versioning": "delta_lake",
        "inference_mode": "sync",
        "serving_framework": "vllm",
        "gpu_type": "h100-80gb",
        "gpus_per_replica": 1,
        "batching_mode": "continuous",
        "max_batch_size": 64,
        "max_batch_delay_ms": None,
        "rollout_strategy": "canary",
        "canary_traffic_pct": 5.0,
        "model_routing": "rules",
        "autoscaling_signal": "queue_depth",
        "min_replicas": 2,
        "max_replicas": 12,
        "scaling_direction": "horizontal",
        "parallelism": ["data"],
        "target_utilisation_pct": 70.0,
        "caches": ["prompt", "embedding", "result"],
        "prompt_cache_hit_rate_pct": 30.0,
        "embedding_cache_hit_rate_pct": 40.0,
        "result_cache_hit_rate_pct": 15.0,
        "cache_hit_rate_basis": "replayed_logs",
        "fallback_chain": ["smaller_model", "cache", "static_default"],
        "circuit_breaker": True,
        "circuit_breaker_error_rate_pct": 50.0,
        "circuit_breaker_open_s": 30.0,
        "request_timeout_ms": 15000.0,
        "max_retries": 1,
        "retry_budget_pct": 10.0,
        "health_checks": ["liveness", "readiness", "startup"],
        "slos": ["availability", "latency", "error_rate", "output_quality"],
        "redundancy": "multi_zone",
        "failure_domains": 2,
        "n_plus_one": True,
        "pricing_model": "mixed",
        "reserved_term": "1y",
        "reserved_share_pct": 40.0,
        "spot_share_pct": 20.0,
        "spot_interruption_rate_pct": None,  # batch only
        "checkpoint_interval_minutes": None,
        "restart_minutes": None,
        "negotiated_prices": False,
        "negotiated_on_demand_usd_per_hour": None,
        "negotiated_spot_usd_per_hour": None,
        "negotiated_reserved_1y_usd_per_hour": None,
        "negotiated_reserved_3y_usd_per_hour": None,
        "quantization": "fp8",
        "distillation": False,
        "cheap_tier_share_pct": 30.0,
        "cheap_tier_cost_ratio_pct": 10.0,
        "api_price_per_1m_input_tokens_usd": 0.2,
        "api_price_per_1m_output_tokens_usd": 0.6,
        "dashboards": ["latency", "throughput", "errors", "gpu_utilisation", "drift", "cost", "quality"],
        "alerting": True,
        "feedback_loop": True,
    }
    return {"requirements": requirements, "architecture": architecture}


SECTION_LABELS = {key: label for key, (label, _help) in SECTION_INFO.items()}
