"""Every field of a design, defined once, in form order.

Sections follow the seed course: requirements are lesson 2 (requirements analysis); architecture
sections are lessons 3 (data), 4 (serving), 5 (scaling), 6 (reliability), 7 (cost) and the
monitoring part of lesson 8.
"""

from __future__ import annotations

from engine import vocabulary
from engine.design.schema import Choice, Field, Section
from engine.planning.gpu_catalog import gpu_choices

GENERATIVE = {"field": "requirements.workload_type", "in": ["generative"]}
# Every task whose model reads tokens (a scoring / regression model reads features).
TOKENISED = {"field": "requirements.workload_type", "in": ["generative", "embed", "classify", "rank"]}
BATCHING = {"field": "architecture.batching_mode", "in": [m for m in vocabulary.BATCHING_MODES if m != "none"]}
TIERED = {"field": "architecture.model_routing", "in": ["rules", "learned_router"]}
MIXED = {"field": "architecture.pricing_model", "in": ["mixed"]}
# Workload shapes: online (and near-real-time) requests, scheduled batch jobs, or a stream of events.
# A blank timing is treated as online, as before shapes existed.
BATCH = {"field": "requirements.workload_timing", "in": ["batch"]}
STREAMING = {"field": "requirements.workload_timing", "in": ["streaming"]}
INTERACTIVE = {"field": "requirements.workload_timing", "not_in": ["batch", "streaming"]}
NOT_BATCH = {"field": "requirements.workload_timing", "not_in": ["batch"]}
# A fixed fleet (no autoscaling) is sized by the capacity plan; min and max replicas belong to an autoscaler.
AUTOSCALER = {"field": "architecture.autoscaling_signal", "not_in": ["none"]}
CACHED = {"any": [{"field": "architecture.caches", "contains": c} for c in ("prompt", "embedding", "result")]}
NEGOTIATED = {"field": "architecture.negotiated_prices", "in": [True]}
MAX_QPS = 10_000_000.0
MAX_MS = 3_600_000.0


def _c(*pairs: tuple[str, str] | tuple[str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(*pair) for pair in pairs)


SECTION_INFO: dict[str, tuple[str, str]] = {
    # requirements (lesson 2)
    "workload": ("Workload", "What the system does and how it is called."),
    "batch": ("Batch job", "Records per run, runs per day, the processing window and the deadline (batch workloads)."),
    "stream": ("Stream", "Event rate and the lag allowed between an event and its result (streaming workloads)."),
    "latency": ("Latency budget", "Percentile targets end to end, and how the p99 budget is shared out."),
    "traffic": ("Traffic", "Request rates (or users x requests x peak factor) and payload sizes."),
    "data_volume": ("Data volume", "Training data, new data, logs and how long they are kept."),
    "availability": ("Availability", "Uptime target, recovery objectives and regions."),
    "model": ("Model", "The model's shape: family, size, precision, context length."),
    "budget": ("Budget", "What the GPU fleet may cost."),
    # architecture (lessons 3-8)
    "data": ("Data architecture", "Pipelines, feature store, storage and data versioning (lesson 3)."),
    "serving": ("Model serving", "Inference mode, server, hardware, batching, rollout and autoscaling (lesson 4)."),
    "scaling": ("Scaling", "Scaling direction, parallelism, utilisation and caches (lesson 5)."),
    "reliability": ("Reliability", "Fallbacks, circuit breakers, timeouts, health checks, SLOs, redundancy (lesson 6)."),
    "cost": ("Cost", "Pricing plan, quantization, tiered serving and build vs. buy (lesson 7)."),
    "monitoring": ("Monitoring", "Dashboards, alerting and feedback (lesson 8)."),
}

REQUIREMENT_FIELDS: tuple[Field, ...] = (
    # --- workload
    Field("requirements.use_case", "Use case", "text", "workload",
          help="What the system does and for whom, in a sentence or two.", max_length=2000,
          placeholder="Answer support questions from our product docs"),
    Field("requirements.workload_timing", "Workload timing", "choice", "workload",
          help="How results are consumed: a user waiting online, within seconds, in scheduled batches, or on a stream.",
          choices=_c(("online", "Online (user waits)"), ("near_real_time", "Near real time (seconds)"),
                     ("batch", "Batch (scheduled)"), ("streaming", "Streaming (event by event)"))),
    Field("requirements.workload_type", "Model task", "choice", "workload",
          help="Generative workloads produce tokens one by one; the others answer in one forward pass.",
          choices=_c(("generative", "Generative (LLM, text generation)"), ("classify", "Classification"),
                     ("embed", "Embedding / retrieval"), ("rank", "Ranking / recommendation"),
                     ("score", "Scoring / regression"))),
    # --- batch (the shape of a scheduled job: traffic follows from it)
    Field("requirements.records_per_run", "Records per run", "int", "batch", unit="records", min=0,
          max=10_000_000_000_000, shown_when=BATCH,
          help="Items one run scores: rows, documents, images or prompts."),
    Field("requirements.runs_per_day", "Runs per day", "float", "batch", unit="runs/day", min=0.001, max=1440.0,
          default=1.0, shown_when=BATCH, help="1 for a nightly job, 24 for an hourly one, 0.14 for a weekly one."),
    Field("requirements.processing_window_h", "Processing window", "float", "batch", unit="h", min=0.01,
          max=720.0, shown_when=BATCH, help="How long one run may take: the fleet is sized to finish within it."),
    Field("requirements.deadline_h", "Deadline", "float", "batch", unit="h", min=0.01, max=720.0,
          shown_when=BATCH,
          help="When results are due, in hours after the run starts; the time beyond the window is the slack "
               "for retries and spot interruptions. Blank: the window is the deadline."),
    Field("requirements.record_size_kb", "Record size", "float", "batch", unit="KB", min=0.0, max=1_000_000.0,
          shown_when=BATCH, help="Average input record the job reads."),
    # --- stream
    Field("requirements.events_per_second", "Events per second", "float", "stream", unit="events/s", min=0.0,
          max=MAX_QPS, shown_when=STREAMING, help="Average rate of events arriving on the stream."),
    Field("requirements.peak_events_per_second", "Peak events per second", "float", "stream", unit="events/s",
          min=0.0, max=MAX_QPS, shown_when=STREAMING,
          help="Highest sustained event rate the consumers must keep up with. Blank: the average (a steady stream)."),
    Field("requirements.allowed_lag_s", "Allowed lag", "float", "stream", unit="s", min=0.001, max=1e6,
          shown_when=STREAMING,
          help="Longest an event may wait between arriving and its result: the stream's latency budget."),
    # --- latency
    Field("requirements.latency_p50_ms", "P50 latency", "float", "latency", unit="ms", min=0.01, max=MAX_MS,
          shown_when=INTERACTIVE, help="Median end-to-end latency target, as the caller measures it."),
    Field("requirements.latency_p95_ms", "P95 latency", "float", "latency", unit="ms", min=0.01, max=MAX_MS,
          shown_when=INTERACTIVE, help="95th-percentile end-to-end latency target."),
    Field("requirements.latency_p99_ms", "P99 latency", "float", "latency", unit="ms", min=0.01, max=MAX_MS,
          shown_when=INTERACTIVE,
          help="99th-percentile end-to-end latency target: the budget the plan is sized against."),
    Field("requirements.time_to_first_token_ms", "Time to first token", "float", "latency", unit="ms",
          min=0.01, max=MAX_MS, shown_when={"all": [GENERATIVE, INTERACTIVE]},
          help="Target p99 delay until the first generated token reaches the user (streamed responses)."),
    Field("requirements.time_per_output_token_ms", "Time per output token", "float", "latency", unit="ms",
          min=0.01, max=60_000.0, shown_when={"all": [GENERATIVE, INTERACTIVE]},
          help="Target p99 gap between generated tokens (inter-token latency)."),
    Field("requirements.network_latency_ms", "Network share of the budget", "float", "latency", unit="ms",
          min=0.0, max=MAX_MS, default=10.0, shown_when=NOT_BATCH,
          help="Round trip between caller and service, including load balancers and TLS."),
    Field("requirements.preprocessing_ms", "Pre-processing share of the budget", "float", "latency", unit="ms",
          min=0.0, max=MAX_MS, default=0.0, shown_when=NOT_BATCH,
          help="Work before the model runs: tokenisation, feature lookups, retrieval for RAG."),
    Field("requirements.postprocessing_ms", "Post-processing share of the budget", "float", "latency", unit="ms",
          min=0.0, max=MAX_MS, default=0.0, shown_when=NOT_BATCH,
          help="Work after the model: decoding, filtering, guardrails, formatting."),
    # --- traffic
    Field("requirements.average_qps", "Average QPS", "float", "traffic", unit="req/s", min=0.0, max=MAX_QPS,
          shown_when=INTERACTIVE,
          help="Average requests per second over a day. Leave blank to derive it from users."),
    Field("requirements.peak_qps", "Peak QPS", "float", "traffic", unit="req/s", min=0.0, max=MAX_QPS,
          shown_when=INTERACTIVE,
          help="Highest sustained requests per second the system must serve within the latency budget."),
    Field("requirements.daily_active_users", "Daily active users", "int", "traffic", unit="users",
          min=0, max=10_000_000_000, shown_when=INTERACTIVE, help="Used to derive QPS when average QPS is blank."),
    Field("requirements.requests_per_user_per_day", "Requests per user per day", "float", "traffic",
          unit="req/user/day", min=0.0, max=1_000_000.0, shown_when=INTERACTIVE),
    Field("requirements.peak_factor", "Peak factor", "float", "traffic", unit="x", min=1.0, max=1000.0,
          default=3.0, shown_when=INTERACTIVE, help="Peak QPS / average QPS, used when peak QPS is blank."),
    Field("requirements.peak_hours_per_day", "Peak hours per day", "float", "traffic", unit="h", min=0.0,
          max=24.0, default=4.0, shown_when=NOT_BATCH,
          help="Hours a day the fleet runs at peak size; an autoscaled fleet runs at average size otherwise."),
    Field("requirements.request_size_kb", "Request size", "float", "traffic", unit="KB", min=0.0,
          max=1_000_000.0, shown_when=NOT_BATCH, help="Average request (or event) payload."),
    Field("requirements.response_size_kb", "Response size", "float", "traffic", unit="KB", min=0.0,
          max=1_000_000.0, help="Average response payload."),
    Field("requirements.input_tokens_per_request", "Input tokens per request", "int", "traffic", unit="tokens",
          min=0, max=10_000_000, shown_when=TOKENISED,
          help="Average prompt length including retrieved context and system prompt."),
    Field("requirements.output_tokens_per_request", "Output tokens per request", "int", "traffic",
          unit="tokens", min=0, max=1_000_000, shown_when=GENERATIVE, help="Average generated tokens."),
    # --- data volume
    Field("requirements.training_data_gb", "Training data", "float", "data_volume", unit="GB", min=0.0,
          max=1e9, help="Size of the current training / fine-tuning / index corpus."),
    Field("requirements.new_data_per_day_gb", "New data per day", "float", "data_volume", unit="GB/day",
          min=0.0, max=1e8, help="New labelled data, documents or events landing each day (besides request logs)."),
    Field("requirements.log_payloads", "Log requests and responses", "bool", "data_volume", default=True,
          help="Keep request and response payloads (for debugging, evaluation and retraining)."),
    Field("requirements.retention_days", "Retention", "int", "data_volume", unit="days", min=0, max=36_500,
          help="How long new data and logs are kept. Blank means forever."),
    Field("requirements.feature_freshness_s", "Feature freshness", "float", "data_volume", unit="s", min=0.0,
          max=1e8, help="How stale a feature may be when the model reads it (0 = real time)."),
    # --- availability
    Field("requirements.availability_target_pct", "Availability target", "float", "availability", unit="%",
          min=0.0, max=100.0, help="Share of time the service meets its SLO, e.g. 99.9."),
    Field("requirements.rto_minutes", "Recovery time objective (RTO)", "float", "availability", unit="min",
          min=0.0, max=1e6, help="Longest acceptable outage after a failure."),
    Field("requirements.rpo_minutes", "Recovery point objective (RPO)", "float", "availability", unit="min",
          min=0.0, max=1e6, help="Most data (in minutes) that may be lost in a failure."),
    Field("requirements.regions", "Regions", "text_list", "availability", max_items=50, max_length=100,
          help="Cloud regions served or deployed to.", placeholder="us-east-1, eu-west-1"),
    # --- model
    Field("requirements.model_name", "Model name", "text", "model", max_length=200,
          placeholder="Llama-3.1-8B-Instruct"),
    Field("requirements.model_family", "Model family", "choice", "model",
          choices=_c(("decoder_llm", "Decoder-only LLM (GPT / Llama style)"),
                     ("encoder", "Encoder transformer (BERT style)"),
                     ("encoder_decoder", "Encoder-decoder (T5 style)"),
                     ("vision", "Vision (CNN / ViT)"), ("mlp", "MLP / tabular network"),
                     ("tree", "Tree ensemble (GBDT)"), ("other", "Other"))),
    Field("requirements.model_params_billions", "Parameter count", "float", "model", unit="B params",
          min=0.0, max=100_000.0, help="Parameters in billions (an 8B model is 8; a 110M BERT is 0.11)."),
    Field("requirements.model_dtype", "Model precision", "choice", "model", default="bf16",
          help="Precision of the released weights; quantization (cost section) may serve it smaller.",
          choices=_c(("fp32", "fp32"), ("bf16", "bf16"), ("fp16", "fp16"), ("fp8", "fp8"), ("int8", "int8"),
                     ("int4", "int4"))),
    Field("requirements.sequence_length_tokens", "Max sequence length", "int", "model", unit="tokens", min=1,
          max=10_000_000,
          help="Longest input (+ output) the model accepts (an LLM's context length: it caps the KV cache of a "
               "sequence); for non-text models, items per request."),
    Field("requirements.model_layers", "Layers", "int", "model", unit="layers", min=1, max=1000,
          shown_when=GENERATIVE,
          help="Transformer layers (Llama 3.1 8B: 32, 70B: 80); sizes the KV cache. Blank: assumed from the "
               "parameter count."),
    Field("requirements.model_kv_heads", "KV heads", "int", "model", unit="heads", min=1, max=1024,
          shown_when=GENERATIVE,
          help="Key-value heads per layer (8 with grouped-query attention as in Llama 3; as many as the "
               "attention heads without it). Blank: 8 assumed."),
    Field("requirements.model_head_dim", "Head dimension", "int", "model", min=1, max=4096,
          shown_when=GENERATIVE,
          help="Dimension of one attention head (128 for most LLMs). Blank: assumed from the parameter count."),
    # --- budget
    Field("requirements.monthly_gpu_budget_usd", "Monthly GPU budget", "float", "budget", unit="USD/month",
          min=0.0, max=1e10, help="What the serving fleet may cost per month."),
)

ARCHITECTURE_FIELDS: tuple[Field, ...] = (
    # --- data (lesson 3)
    Field("architecture.pipeline_pattern", "Pipeline pattern", "choice", "data",
          choices=_c(("lambda", "Lambda (batch + speed layer)"), ("kappa", "Kappa (one streaming pipeline)"),
                     ("batch_only", "Batch only"))),
    Field("architecture.feature_store", "Feature store", "choice", "data",
          choices=_c(("online_offline", "Online and offline"), ("online", "Online only"),
                     ("offline", "Offline only"), ("none", "None"))),
    Field("architecture.storage_pattern", "Analytical storage", "choice", "data",
          choices=_c(("data_lake", "Data lake"), ("warehouse", "Data warehouse"), ("lakehouse", "Lakehouse"))),
    Field("architecture.data_versioning", "Data versioning", "choice", "data",
          choices=_c(("dvc", "DVC"), ("delta_lake", "Delta Lake"), ("lakefs", "lakeFS"), ("none", "None"))),
    # --- serving (lesson 4)
    Field("architecture.inference_mode", "Inference mode", "choice", "serving",
          choices=_c(("sync", "Synchronous (request / response)"), ("async", "Asynchronous (queue + callback)"),
                     ("batch", "Batch inference"))),
    Field("architecture.serving_framework", "Serving framework", "choice", "serving",
          choices=_c(("torchserve", "TorchServe"), ("triton", "NVIDIA Triton"), ("vllm", "vLLM"),
                     ("tgi", "Text Generation Inference"), ("custom", "Custom server"),
                     ("managed_api", "Managed API (bought)"))),
    Field("architecture.gpu_type", "Accelerator", "choice", "serving",
          choices=tuple(Choice(key, label) for key, label in gpu_choices()),
          help="Hardware one replica runs on; prices and figures come from the GPU catalog."),
    Field("architecture.gpus_per_replica", "GPUs per replica", "int", "serving", unit="GPU", min=1, max=64,
          default=1, help="More than one when the model is split with tensor or pipeline parallelism."),
    Field("architecture.batching_mode", "Batching", "choice", "serving",
          choices=_c(*vocabulary.pairs(vocabulary.BATCHING_MODES))),
    Field("architecture.max_batch_size", "Max batch size", "int", "serving", unit="requests", min=1, max=4096,
          default=16, shown_when=BATCHING),
    Field("architecture.max_batch_delay_ms", "Max batch delay", "float", "serving", unit="ms", min=0.0,
          max=60_000.0, default=5.0, shown_when={"field": "architecture.batching_mode", "in": ["dynamic"]},
          help="Longest a request waits for its batch to fill; it is spent from the latency budget."),
    Field("architecture.rollout_strategy", "Rollout", "choice", "serving",
          choices=_c(("canary", "Canary"), ("blue_green", "Blue-green"), ("rolling", "Rolling"),
                     ("shadow", "Shadow (mirror traffic)"))),
    Field("architecture.canary_traffic_pct", "Canary traffic share", "float", "serving", unit="%", min=0.0,
          max=100.0, default=5.0, shown_when={"field": "architecture.rollout_strategy", "in": ["canary"]}),
    Field("architecture.model_routing", "Multi-model routing", "choice", "serving",
          choices=_c(("none", "None (one model)"), ("rules", "Rule-based tiers"),
                     ("learned_router", "Learned router"), ("ab_test", "A/B split"))),
    Field("architecture.autoscaling_signal", "Autoscaling signal", "choice", "serving",
          help="What the autoscaler follows. None is a fixed fleet: it runs its planned size (replicas at peak) all "
               "day, so min and max replicas, an autoscaler's floor and ceiling, are not asked. Blank is planned as "
               "a fixed fleet too.",
          choices=_c(("none", "None (fixed fleet)"), ("gpu_utilisation", "GPU utilisation"),
                     ("queue_depth", "Queue depth"), ("qps", "Requests per second"),
                     ("latency", "Latency"), ("schedule", "Schedule"))),
    Field("architecture.min_replicas", "Min replicas", "int", "serving", unit="replicas", min=0, max=100_000,
          shown_when=AUTOSCALER, help="The autoscaler's floor. A fixed fleet (no autoscaling) runs its planned size."),
    Field("architecture.max_replicas", "Max replicas", "int", "serving", unit="replicas", min=0, max=100_000,
          shown_when=AUTOSCALER, help="The autoscaler's ceiling."),
    # --- scaling (lesson 5)
    Field("architecture.scaling_direction", "Scaling direction", "choice", "scaling",
          choices=_c(("horizontal", "Horizontal (more replicas)"), ("vertical", "Vertical (bigger GPUs)"),
                     ("both", "Both"))),
    Field("architecture.parallelism", "Parallelism", "multichoice", "scaling",
          choices=_c(("data", "Data (replicas)"), ("tensor", "Tensor"), ("pipeline", "Pipeline"))),
    Field("architecture.target_utilisation_pct", "Target utilisation", "float", "scaling", unit="%", min=1.0,
          max=100.0, default=70.0, shown_when=NOT_BATCH,
          help="Share of a replica's capacity used at peak; the rest is headroom (a batch job runs flat out)."),
    Field("architecture.caches", "Caches", "multichoice", "scaling",
          choices=_c(("prompt", "Prompt / prefix (KV) cache"), ("embedding", "Embedding cache"),
                     ("result", "Result cache"))),
    Field("architecture.prompt_cache_hit_rate_pct", "Prompt cache hit rate", "float", "scaling", unit="%",
          min=0.0, max=100.0, shown_when={"field": "architecture.caches", "contains": "prompt"},
          help="Share of prompt tokens whose prefill is served from the prefix cache."),
    Field("architecture.embedding_cache_hit_rate_pct", "Embedding cache hit rate", "float", "scaling", unit="%",
          min=0.0, max=100.0, shown_when={"field": "architecture.caches", "contains": "embedding"},
          help="Share of embedding computations served from cache (reduces model traffic for embedding workloads)."),
    Field("architecture.result_cache_hit_rate_pct", "Result cache hit rate", "float", "scaling", unit="%",
          min=0.0, max=100.0, shown_when={"field": "architecture.caches", "contains": "result"},
          help="Share of requests answered from the result cache without running the model."),
    Field("architecture.cache_hit_rate_basis", "Hit rates based on", "choice", "scaling", shown_when=CACHED,
          choices=_c(("assumed", "An assumption"), ("replayed_logs", "Request logs replayed through the cache"),
                     ("measured", "Measured in production")),
          help="Where the hit rates come from: they shrink the fleet, so a guess deserves a replay of real logs."),
    # --- reliability (lesson 6)
    Field("architecture.fallback_chain", "Fallback chain", "ordered", "reliability",
          choices=_c(("smaller_model", "Smaller model"), ("rules", "Rules / heuristics"),
                     ("cache", "Cached answer"), ("static_default", "Static default")),
          help="What answers, in order, when the main model fails or is too slow."),
    Field("architecture.circuit_breaker", "Circuit breaker", "bool", "reliability"),
    Field("architecture.circuit_breaker_error_rate_pct", "Circuit breaker error threshold", "float",
          "reliability", unit="%", min=0.0, max=100.0, default=50.0,
          shown_when={"field": "architecture.circuit_breaker", "in": [True]},
          help="Error rate over the window at which the breaker opens."),
    Field("architecture.circuit_breaker_open_s", "Circuit breaker open time", "float", "reliability", unit="s",
          min=0.0, max=86_400.0, default=30.0, shown_when={"field": "architecture.circuit_breaker", "in": [True]},
          help="How long the breaker stays open before a trial request."),
    Field("architecture.request_timeout_ms", "Request timeout", "float", "reliability", unit="ms", min=0.0,
          max=MAX_MS),
    Field("architecture.max_retries", "Max retries", "int", "reliability", unit="retries", min=0, max=20),
    Field("architecture.retry_budget_pct", "Retry budget", "float", "reliability", unit="%", min=0.0, max=100.0,
          help="Most retries a client sends, as a share of its requests (e.g. 10 %): past it, failures are returned, "
               "not retried, so a struggling model is not sent (retries + 1) x its load."),
    Field("architecture.health_checks", "Health checks", "multichoice", "reliability",
          choices=_c(("liveness", "Liveness"), ("readiness", "Readiness"), ("startup", "Startup"))),
    Field("architecture.slos", "SLOs defined", "multichoice", "reliability",
          choices=_c(("availability", "Availability"), ("latency", "Latency"), ("error_rate", "Error rate"),
                     ("output_quality", "Output quality"), ("completion", "Completion by the deadline (batch)"))),
    Field("architecture.redundancy", "Redundancy", "choice", "reliability",
          choices=_c(("single_zone", "Single zone"), ("multi_zone", "Multi-zone"),
                     ("multi_region", "Multi-region"))),
    Field("architecture.failure_domains", "Zones / regions", "int", "reliability", unit="domains", min=2, max=20,
          default=2, shown_when={"field": "architecture.redundancy", "in": ["multi_zone", "multi_region"]},
          help="Zones (or regions) the fleet is spread over; the plan survives losing one of them."),
    Field("architecture.n_plus_one", "N+1 spare replica", "bool", "reliability",
          help="Keep one replica beyond what peak load needs, for failures and rolling deploys."),
    # --- cost (lesson 7)
    Field("architecture.pricing_model", "Pricing plan", "choice", "cost", default="on_demand",
          choices=_c(*vocabulary.pairs(vocabulary.PRICING_PLANS)),
          help="The plan the budget is compared against; all plans are shown for comparison."),
    Field("architecture.reserved_term", "Reserved term (mixed plan)", "choice", "cost", default="1y",
          choices=_c(("1y", "1 year"), ("3y", "3 years")), shown_when=MIXED),
    Field("architecture.reserved_share_pct", "Reserved share (mixed plan)", "float", "cost", unit="%", min=0.0,
          max=100.0, default=50.0, shown_when=MIXED,
          help="Share of GPU-hours on reserved capacity; keep it within the always-on baseline."),
    Field("architecture.spot_share_pct", "Spot share (mixed plan)", "float", "cost", unit="%", min=0.0,
          max=100.0, default=20.0, shown_when=MIXED,
          help="Share of GPU-hours on spot capacity; on-demand covers the rest."),
    Field("architecture.spot_interruption_rate_pct", "Spot interruptions per replica-hour", "float", "cost",
          unit="%/h", min=0.0, max=100.0, default=5.0, shown_when=BATCH,
          help="Chance that a spot replica is reclaimed in a given hour (providers publish it per instance type)."),
    Field("architecture.checkpoint_interval_minutes", "Checkpoint interval", "float", "cost", unit="min", min=0.1,
          max=100_000.0, shown_when=BATCH,
          help="How often the job saves its progress; an interrupted replica redoes the work since its last "
               "checkpoint. Blank: no checkpoints (it redoes its whole share)."),
    Field("architecture.restart_minutes", "Restart time", "float", "cost", unit="min", min=0.0, max=10_000.0,
          default=10.0, shown_when=BATCH,
          help="Minutes an interrupted replica needs to run again: a new instance, the image and the model loaded."),
    Field("architecture.negotiated_prices", "Negotiated prices", "bool", "cost", default=False,
          help="Yes when your provider contract sets this design's price per accelerator-hour; the catalog's "
               "prices apply otherwise."),
    *(Field(f"architecture.negotiated_{plan}_usd_per_hour", f"Negotiated {label} price", "float", "cost",
            unit="USD/GPU-hour", min=0.0, max=10_000.0, shown_when=NEGOTIATED,
            help=f"{label.capitalize()} price per accelerator-hour for this design; blank keeps the catalog's.")
      for plan, label in (("on_demand", "on-demand"), ("spot", "spot"), ("reserved_1y", "1-year reserved"),
                          ("reserved_3y", "3-year reserved"))),
    Field("architecture.quantization", "Quantization", "choice", "cost", default="none",
          choices=_c(("none", "None"), ("int8", "int8"), ("fp8", "fp8"), ("int4", "int4 (weight-only)"))),
    Field("architecture.distillation", "Distilled model", "bool", "cost",
          help="The served model is distilled from a larger one."),
    Field("architecture.cheap_tier_share_pct", "Traffic routed to a cheaper tier", "float", "cost", unit="%",
          min=0.0, max=100.0, default=0.0, shown_when=TIERED,
          help="Share of requests (after caches) that a cheaper model answers."),
    Field("architecture.cheap_tier_cost_ratio_pct", "Cheaper tier cost per request", "float", "cost", unit="%",
          min=0.0, max=100.0, default=10.0, shown_when=TIERED,
          help="Cost of a cheap-tier request as a share of a main-model request."),
    Field("architecture.api_price_per_1m_input_tokens_usd", "API price per 1M input tokens", "float", "cost",
          unit="USD/1M tokens", min=0.0, max=100_000.0, shown_when=TOKENISED,
          help="A managed API's list price, for the build vs. buy comparison."),
    Field("architecture.api_price_per_1m_output_tokens_usd", "API price per 1M output tokens", "float", "cost",
          unit="USD/1M tokens", min=0.0, max=100_000.0, shown_when=GENERATIVE),
    # --- monitoring (lesson 8)
    Field("architecture.dashboards", "Dashboards", "multichoice", "monitoring",
          choices=_c(("latency", "Latency"), ("throughput", "Throughput"), ("errors", "Errors"),
                     ("gpu_utilisation", "GPU utilisation"), ("drift", "Data / prediction drift"),
                     ("cost", "Cost"), ("quality", "Output quality"))),
    Field("architecture.alerting", "Alerting", "bool", "monitoring",
          help="Alerts page someone when an SLO or budget is at risk."),
    Field("architecture.feedback_loop", "Feedback loop", "bool", "monitoring",
          help="User feedback and outcomes are captured for evaluation and retraining."),
)

FIELDS: tuple[Field, ...] = REQUIREMENT_FIELDS + ARCHITECTURE_FIELDS


def build_sections() -> dict[str, tuple[Section, ...]]:
    by_group: dict[str, list[Section]] = {"requirements": [], "architecture": []}
    seen: list[tuple[str, str]] = []
    for f in FIELDS:
        if (f.group, f.section) not in seen:
            seen.append((f.group, f.section))
    for group, key in seen:
        label, help_text = SECTION_INFO[key]
        members = tuple(f for f in FIELDS if f.group == group and f.section == key)
        by_group[group].append(Section(key, label, help_text, group, members))
    return {group: tuple(items) for group, items in by_group.items()}
