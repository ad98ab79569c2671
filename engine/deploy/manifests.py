"""Kubernetes manifests for a design's serving tier, every value commented with its source.

Core APIs only (apps/v1, v1, autoscaling/v2, policy/v1): a Deployment per track (stable, and
canary / green / shadow for those rollouts), a Service, a HorizontalPodAutoscaler when the design
autoscales on a signal an HPA can follow, and a PodDisruptionBudget. The numbers come from the
capacity facts, so the manifests agree with the plan the review signed off:

- Replicas. A fixed fleet (autoscaling signal 'none', or 'schedule', which an HPA cannot follow)
  runs `capacity.replicas` (peak, redundancy and N+1 applied). An autoscaled fleet starts at the
  HPA's minReplicas.
- HPA. minReplicas = max(1, `capacity.min_replicas_effective`) (an HPA cannot scale to zero);
  maxReplicas = max(`architecture.max_replicas`, `capacity.replicas`, minReplicas): the ceiling
  never stops the fleet below what peak needs (the raise is said in a comment).
- Multi-region: these manifests are applied once per region, so every replica count above is
  divided by `capacity.failure_domains` regions, rounded up.
- PDB. maxUnavailable = 1 when the plan holds a spare at peak (`capacity.replicas` >
  `capacity.replicas_for_load`, from N+1, zones or the min-replicas floor), else 0: a voluntary
  disruption never takes the fleet below what peak load needs.
- Canary. canary replicas = round(stable x p / (100 - p)) for a traffic share p (at least 1 when
  p > 0; as many as stable at p = 100), behind the same Service, so the canary's share of the
  endpoints is the nearest a whole replica allows.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from engine.deploy.emit import Sourced as S
from engine.planning.common import fact

# Assumptions, documented in docs/kubernetes.md; the tests pin them.
CPU_PER_ACCELERATOR = 4  # vCPUs per GPU for tokenisation, the HTTP server and the data loader
HOST_MEMORY_OVERHEAD_GIB = 4  # the server process beside the weights
HOST_MEMORY_WEIGHTS_FACTOR = 1.25  # the weights pass through host memory once while loading
MIN_HOST_MEMORY_GIB = 8
CONTAINER_START_S = 30  # pulling a cached image and starting the server, before the weights load
WEIGHT_LOAD_GB_PER_S = 0.5  # weights read from network storage
STARTUP_PERIOD_S = 10
READINESS_PERIOD_S = 5
LIVENESS_PERIOD_S = 10
PROBE_FAILURES = 3
MAX_PROBE_TIMEOUT_S = 30
DEFAULT_PROBE_TIMEOUT_S = 5  # a batch or stream design has no p99 budget
SERVICE_PORT = 80


@dataclass(frozen=True, slots=True)
class Framework:
    key: str
    label: str
    image: str
    image_comment: str
    port: int
    liveness_path: str
    readiness_path: str
    startup_path: str
    extra_ports: tuple[tuple[str, int], ...] = ()
    queue_metric: str = "inference_queue_depth"
    command: tuple[str, ...] = ()


FRAMEWORKS: dict[str, Framework] = {
    "vllm": Framework(
        "vllm", "vLLM", "vllm/vllm-openai:v0.6.6", "vLLM's OpenAI-compatible server image (pin your own tag)",
        8000, "/health", "/health", "/health", queue_metric="vllm:num_requests_waiting"),
    "tgi": Framework(
        "tgi", "Text Generation Inference", "ghcr.io/huggingface/text-generation-inference:2.4.1",
        "Hugging Face TGI image (pin your own tag)", 8080, "/health", "/health", "/health",
        queue_metric="tgi_queue_size"),
    "triton": Framework(
        "triton", "NVIDIA Triton", "nvcr.io/nvidia/tritonserver:24.08-py3",
        "NVIDIA Triton Inference Server image (pin your own tag)", 8000, "/v2/health/live", "/v2/health/ready",
        "/v2/health/ready", extra_ports=(("grpc", 8001), ("metrics", 8002)),
        queue_metric="nv_inference_pending_request_count", command=("tritonserver",)),
    "torchserve": Framework(
        "torchserve", "TorchServe", "pytorch/torchserve:0.12.0-gpu", "TorchServe GPU image (pin your own tag)",
        8080, "/ping", "/ping", "/ping", extra_ports=(("management", 8081), ("metrics", 8082)),
        queue_metric="ts_queue_depth", command=("torchserve",)),
    "custom": Framework(
        "custom", "Custom server", "registry.example.com/your-team/model-server:CHANGE-ME",
        "PLACEHOLDER: a custom server; replace with your image, which must serve the health paths below",
        8080, "/healthz", "/readyz", "/readyz"),
}
DEPLOYABLE_FRAMEWORKS = tuple(FRAMEWORKS)
HPA_SIGNALS = ("gpu_utilisation", "queue_depth", "qps", "latency")
QPS_METRIC = "http_requests_per_second"
LATENCY_METRIC = "request_latency_p99_seconds"
GPU_UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL"


@dataclass(frozen=True, slots=True)
class Plan:
    """The numbers every manifest reads, computed once (documented in the module docstring)."""

    regions: int
    stable_replicas: int
    hpa_min: int | None
    hpa_max: int | None
    hpa_max_raised: bool
    canary_replicas: int | None
    pdb_max_unavailable: int
    load_seconds: int
    load_seconds_source: str
    probe_timeout_s: int
    probe_timeout_source: str


class _Reader:
    def __init__(self, inputs: dict, facts: dict) -> None:
        self.inputs = inputs if isinstance(inputs, dict) else {}
        self.facts = facts if isinstance(facts, dict) else {}

    def get(self, path: str) -> Any:
        """A fact (the validated value of an input, or a derived number); for an input the
        facts tree lacks, the raw input."""
        value = _walk(self.facts, path)
        if value is None and path.split(".")[0] not in self.facts:
            value = _walk(self.inputs, path)
        return value


    def text(self, path: str) -> str | None:
        """A choice or a name: a non-empty string, else None (a wrong type counts as blank)."""
        value = self.get(path)
        return value if isinstance(value, str) and value else None

    def items(self, path: str) -> list[str]:
        value = self.get(path)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _walk(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def dns_name(text: str, default: str = "model-server", max_length: int = 40) -> str:
    """A DNS-1123 label from a design's name (lower case, dashes), short enough for the suffixes."""
    name = re.sub(r"[^a-z0-9]+", "-", str(text or "").lower()).strip("-")[:max_length].strip("-")
    if not name or not name[0].isalpha():
        name = (f"m-{name}" if name else default)[:max_length].strip("-")
    return name


def cannot_run(r: _Reader) -> str:
    """'Cannot run as designed: <the reason>' when the plan says the design cannot run, else ''.

    A manifest for a model that does not fit its pods (or misses its budget at batch 1) would be
    a deployable-looking file for something that cannot serve, so there is none."""
    # Imported here: the facts tree imports this module for the rollout split it computes.
    from engine.facts.tree import cannot_run as cannot_run_as_designed

    return cannot_run_as_designed(r.facts)


def missing_inputs(r: _Reader) -> list[str]:
    """What is missing before manifests can be written: one sentence each, naming the field."""
    missing: list[str] = []
    framework = r.text("architecture.serving_framework")
    if framework is None:
        missing.append("Serving framework (architecture.serving_framework) is blank: it sets the image, "
                       "ports and health endpoints.")
    elif framework == "managed_api":
        missing.append("Serving framework (architecture.serving_framework) is 'Managed API (bought)': there is "
                       "no serving tier to deploy; choose a self-hosted server to get manifests.")
    elif framework not in FRAMEWORKS:
        missing.append(f"Serving framework (architecture.serving_framework) '{framework}' has no manifest "
                       "template.")
    if not r.text("requirements.model_name"):
        missing.append("Model name (requirements.model_name) is blank: the server needs the model to load.")
    if r.text("architecture.gpu_type") is None:
        missing.append("Accelerator (architecture.gpu_type) is blank: it sets the GPU (or CPU) resources.")
    if _int(r.get("capacity.replicas")) is None or _int(r.get("capacity.replicas_for_load")) is None:
        missing.append("Replicas at peak (capacity.replicas) cannot be computed yet: it needs the traffic "
                       "(requirements.peak_qps, or the batch / stream rates) and a per-replica throughput "
                       "(the model fields, or a benchmark); the numbers panel lists the blank fields.")
    if _num(r.get("capacity.estimate.weights_gb")) is None:
        missing.append("Model weights (capacity.estimate.weights_gb) cannot be computed yet: it needs the "
                       "parameter count (requirements.model_params_billions); it sizes host memory and the "
                       "model load time.")
    if r.text("architecture.redundancy") is None:
        missing.append("Redundancy (architecture.redundancy) is blank: it decides the spread over zones.")
    if r.text("architecture.rollout_strategy") is None:
        missing.append("Rollout (architecture.rollout_strategy) is blank: it decides the Deployments.")
    elif r.text("architecture.rollout_strategy") == "canary" and _num(r.get("architecture.canary_traffic_pct")) is None:
        missing.append("Canary traffic share (architecture.canary_traffic_pct) is blank: it sizes the canary.")
    signal = r.text("architecture.autoscaling_signal")
    if signal is None:
        missing.append("Autoscaling signal (architecture.autoscaling_signal) is blank: it decides the "
                       "HorizontalPodAutoscaler.")
    elif signal in HPA_SIGNALS:
        if _int(r.get("architecture.min_replicas")) is None:
            missing.append("Min replicas (architecture.min_replicas) is blank: the autoscaler's floor.")
        if _int(r.get("architecture.max_replicas")) is None:
            missing.append("Max replicas (architecture.max_replicas) is blank: the autoscaler's ceiling.")
    return missing


def plan(r: _Reader) -> Plan:
    regions = max(_int(r.get("capacity.failure_domains")) or 1, 1) if r.text("architecture.redundancy") == \
        "multi_region" else 1
    peak = _int(r.get("capacity.replicas")) or 0
    load = _int(r.get("capacity.replicas_for_load")) or 0
    autoscaled = r.text("architecture.autoscaling_signal") in HPA_SIGNALS
    hpa_min = hpa_max = None
    raised = False
    if autoscaled:
        hpa_min = max(1, math.ceil(max(_int(r.get("capacity.min_replicas_effective")) or 0, 0) / regions))
        entered_max = math.ceil(max(_int(r.get("architecture.max_replicas")) or 0, 0) / regions)
        peak_here = math.ceil(peak / regions)
        hpa_max = max(entered_max, peak_here, hpa_min)
        raised = hpa_max > entered_max
        stable = hpa_min
    else:
        stable = math.ceil(peak / regions)
    canary = None
    if r.text("architecture.rollout_strategy") == "canary":
        share = min(max(_num(r.get("architecture.canary_traffic_pct")) or 0.0, 0.0), 100.0)
        if share >= 100.0:
            canary = stable
        elif share <= 0.0:
            canary = 0
        else:
            canary = max(1, round(stable * share / (100.0 - share)))
    weights_gb = _num(r.get("capacity.estimate.weights_gb")) or 0.0
    restart_minutes = _num(r.get("architecture.restart_minutes"))
    if restart_minutes is not None and restart_minutes > 0:
        load_s = math.ceil(restart_minutes * 60)
        load_source = "architecture.restart_minutes x 60"
    else:
        load_s = math.ceil(CONTAINER_START_S + weights_gb / WEIGHT_LOAD_GB_PER_S)
        load_source = (f"model load time: {CONTAINER_START_S} s + capacity.estimate.weights_gb "
                       f"({weights_gb:g} GB) / {WEIGHT_LOAD_GB_PER_S:g} GB/s")
    p99 = _num(r.get("requirements.latency_p99_ms"))
    if p99 is not None and p99 > 0:
        timeout = min(max(math.ceil(p99 / 1000.0), 1), MAX_PROBE_TIMEOUT_S)
        timeout_source = "ceil(requirements.latency_p99_ms / 1000), 1..30 s"
    else:
        timeout = DEFAULT_PROBE_TIMEOUT_S
        timeout_source = (f"assumption: {DEFAULT_PROBE_TIMEOUT_S} s, no p99 budget (requirements.latency_p99_ms is "
                          "blank or not asked for this workload)")
    return Plan(
        regions=regions,
        stable_replicas=stable,
        hpa_min=hpa_min,
        hpa_max=hpa_max,
        hpa_max_raised=raised,
        canary_replicas=canary,
        pdb_max_unavailable=1 if peak > load else 0,
        load_seconds=load_s,
        load_seconds_source=load_source,
        probe_timeout_s=timeout,
        probe_timeout_source=timeout_source,
    )


@dataclass(frozen=True, slots=True)
class RolloutSplit:
    """The tracks the manifests generate (facts `capacity.rollout.*`), so that rules judge the split
    the deploy makes rather than the share the design asks for."""

    stable_replicas: int | None = fact("replicas", "Replicas of the stable track the generated manifests start (per "
                                                   "region): the fixed fleet, or the HPA's minReplicas.", default=None)
    canary_replicas: int | None = fact("replicas", "Replicas of the canary track (canary rollout): round(stable x "
                                                   "canary share / (100 - it)), at least 1.", default=None)
    canary_traffic_pct: float | None = fact("%", "Traffic the canary gets: canary / (stable + canary) replicas behind "
                                                 "the one Service. One canary beside one stable replica is 50 %, "
                                                 "whatever share was asked.", default=None)


def rollout_split(facts: dict) -> RolloutSplit:
    """The stable and canary replicas `plan` gives for a facts tree; blank while the stable track's
    size is unknown (no capacity plan yet, or an autoscaler without min replicas)."""
    r = _Reader({}, facts)
    autoscaled = r.text("architecture.autoscaling_signal") in HPA_SIGNALS
    if _int(r.get("capacity.min_replicas_effective" if autoscaled else "capacity.replicas")) is None:
        return RolloutSplit()
    p = plan(r)
    if p.canary_replicas is None:
        return RolloutSplit(stable_replicas=p.stable_replicas)
    total = p.stable_replicas + p.canary_replicas
    return RolloutSplit(p.stable_replicas, p.canary_replicas, 100.0 * p.canary_replicas / total if total else 0.0)


def _per_region(text: str, p: Plan) -> str:
    return f"{text} / {p.regions} regions (architecture.redundancy: multi_region), rounded up" if \
        p.regions > 1 else text


def build(r: _Reader, name: str) -> tuple[list[dict], list[str]]:
    """The manifests (with `Sourced` comments) and the header's comment lines."""
    p = plan(r)
    fw = FRAMEWORKS[r.text("architecture.serving_framework")]
    rollout = r.text("architecture.rollout_strategy")
    signal = r.text("architecture.autoscaling_signal")
    header = [
        f"Kubernetes manifests for the serving tier of '{name}', from its reviewed design.",
        "Every value's comment names the design field or fact it came from; 'assumption' marks a default",
        "documented in docs/kubernetes.md. Core APIs only: apps/v1, v1, autoscaling/v2, policy/v1.",
    ]
    if p.regions > 1:
        header.append(f"Multi-region: apply these once in each of the {p.regions} regions "
                      "(capacity.failure_domains); replica counts are per region.")
    if signal == "schedule":
        header.append("Autoscaling signal 'schedule' (architecture.autoscaling_signal): an HPA cannot follow a "
                      "schedule, so the fleet is fixed at peak size; scale it with your scheduler.")
    if signal in HPA_SIGNALS and not (signal == "gpu_utilisation" and r.text("cost.gpu_kind") == "cpu"):
        header.append("The HPA reads a Pods metric through the custom metrics API (e.g. prometheus-adapter); "
                      "the metric name is an assumption to match to your exporter.")
    if rollout == "shadow":
        header.append("Shadow rollout: mirroring requests to the shadow Deployment needs a proxy or mesh; "
                      "core APIs cannot mirror traffic, so the shadow has its own Service.")
    if not r.items("architecture.health_checks"):
        header.append("No health checks chosen (architecture.health_checks): the pods have no probes.")

    header = [line for paragraph in header for line in textwrap.wrap(paragraph, width=100)]

    documents: list[dict] = []
    if rollout == "blue_green":
        tracks = [("blue", p.stable_replicas, True), ("green", 0, False)]
    elif rollout == "canary":
        tracks = [("stable", p.stable_replicas, True), ("canary", p.canary_replicas or 0, False)]
    elif rollout == "shadow":
        tracks = [("stable", p.stable_replicas, True), ("shadow", p.stable_replicas, False)]
    else:
        tracks = [("stable", p.stable_replicas, True)]
    for track, replicas, primary in tracks:
        documents.append(_deployment(r, p, fw, name, track, replicas, primary))
    if rollout == "blue_green":
        documents.append(_service(fw, name, name, "blue"))
    elif rollout == "canary":
        documents.append(_service(fw, name, name, None, "both tracks (stable and canary) behind one Service: "
                                                        "traffic splits by ready endpoints"))
    else:
        documents.append(_service(fw, name, name, "stable", f"{rollout} - the stable track"))
    if rollout == "shadow":
        documents.append(_service(fw, name, f"{name}-shadow", "shadow", "shadow - the shadow track only"))
    if signal in HPA_SIGNALS:
        primary_track = tracks[0][0]
        documents.append(_hpa(r, p, fw, name, f"{name}-{primary_track}"))
    documents.append(_pdb(r, p, name, tracks[0][0]))
    return documents, header


def _labels(name: str, track: str) -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "model-server",
            "track": track}


def _deployment(r: _Reader, p: Plan, fw: Framework, name: str, track: str, replicas: int, primary: bool) -> dict:
    signal = r.text("architecture.autoscaling_signal")
    rollout = r.text("architecture.rollout_strategy")
    if track == "canary":
        total = p.stable_replicas + replicas
        actual = 100.0 * replicas / total if total else 0.0
        replicas_comment = (f"round(stable replicas x architecture.canary_traffic_pct / (100 - it)): "
                            f"{r.get('architecture.canary_traffic_pct'):g}% asked, {actual:.0f}% of the "
                            "endpoints at the stable size (whole replicas)")
    elif track == "green":
        replicas_comment = ("blue-green (architecture.rollout_strategy): the idle slot; scale to the blue size, "
                            "then switch the Service selector")
    elif track == "shadow":
        replicas_comment = "shadow (architecture.rollout_strategy): sized as the stable track"
    elif signal in HPA_SIGNALS:
        replicas_comment = _per_region("the HPA's minReplicas (max(1, capacity.min_replicas_effective)); the HPA "
                                       "owns it from here", p)
    elif signal == "schedule":
        replicas_comment = _per_region("capacity.replicas (peak; 'schedule' autoscaling is not generated)", p)
    else:
        replicas_comment = _per_region("capacity.replicas (fixed fleet: architecture.autoscaling_signal none)", p)
    labels = _labels(name, track)
    container: dict[str, Any] = {
        "name": "server",
        "image": S(fw.image, f"architecture.serving_framework: {fw.key} - {fw.image_comment}"),
    }
    if fw.command:
        container["command"] = S(list(fw.command), f"architecture.serving_framework: {fw.key}")
    args = _args(r, fw)
    if args:
        container["args"] = args
    if fw.key == "custom":
        container["env"] = [{"name": "MODEL_NAME",
                             "value": S(str(r.text("requirements.model_name")), "requirements.model_name")},
                            {"name": "PORT", "value": S(str(fw.port), f"assumption: port {fw.port}")}]
    container["ports"] = [{"name": "http", "containerPort": S(fw.port, f"{fw.label} HTTP port")}] + [
        {"name": port_name, "containerPort": S(number, f"{fw.label} {port_name} port")}
        for port_name, number in fw.extra_ports]
    container["resources"] = _resources(r)
    container.update(_probes(r, p, fw))
    pod_spec: dict[str, Any] = {"containers": [container]}
    gpu = r.text("cost.gpu_kind") != "cpu"
    if gpu:
        pod_spec["tolerations"] = [S({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                                     "GPU nodes are usually tainted nvidia.com/gpu (assumption)")]
    spread = _spread(r, p, labels)
    if spread:
        pod_spec["topologySpreadConstraints"] = spread
    if p.probe_timeout_s and fw.key in ("vllm", "tgi"):
        pod_spec["terminationGracePeriodSeconds"] = S(
            max(30, p.probe_timeout_s * 2), "max(30, 2 x probe timeout): in-flight generations finish")
    spec: dict[str, Any] = {
        "replicas": S(replicas, replicas_comment),
        "selector": {"matchLabels": labels},
        "strategy": S({"type": "RollingUpdate", "rollingUpdate": {
            "maxSurge": S(1, "one new replica at a time (GPUs are scarce)"),
            "maxUnavailable": S(0, "none removed before its successor is ready: capacity is kept")}},
            f"architecture.rollout_strategy: {rollout} - each track updates in place"),
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": S(f"{name}-{track}", f"the design's name, track {track}"), "labels": labels},
        "spec": spec,
    }


def _args(r: _Reader, fw: Framework) -> list:
    model = str(r.text("requirements.model_name"))
    gpus = _int(r.get("capacity.gpus_per_replica")) or 1
    batch = _int(r.get("architecture.max_batch_size"))
    seq = _int(r.get("requirements.sequence_length_tokens"))
    quant = r.text("architecture.quantization")
    gpus_src = "capacity.gpus_per_replica (architecture.gpus_per_replica)"
    if fw.key == "vllm":
        args = ["--model", S(model, "requirements.model_name"), "--port", S(str(fw.port), "vLLM HTTP port"),
                "--tensor-parallel-size", S(str(gpus), gpus_src)]
        if batch:
            args += ["--max-num-seqs", S(str(batch), "architecture.max_batch_size")]
        if seq:
            args += ["--max-model-len", S(str(seq), "requirements.sequence_length_tokens")]
        if quant == "fp8":
            args += ["--quantization", S("fp8", "architecture.quantization")]
        return args
    if fw.key == "tgi":
        args = ["--model-id", S(model, "requirements.model_name"), "--port", S(str(fw.port), "TGI HTTP port"),
                "--num-shard", S(str(gpus), gpus_src)]
        if seq:
            args += ["--max-total-tokens", S(str(seq), "requirements.sequence_length_tokens")]
        if quant == "fp8":
            args += ["--quantize", S("fp8", "architecture.quantization")]
        return args
    if fw.key == "triton":
        return [S("--model-repository=/models", "assumption: mount or point your model repository here"),
                "--model-control-mode=explicit",
                S(f"--load-model={model}", "requirements.model_name"),
                "--http-port=8000", "--grpc-port=8001", "--metrics-port=8002"]
    if fw.key == "torchserve":
        return ["--start", "--foreground", "--disable-token-auth",
                S("--model-store=/home/model-server/model-store", "assumption: the model archive's store"),
                S(f"--models={model}={model}.mar", "requirements.model_name")]
    return []


def _resources(r: _Reader) -> dict:
    gpus = _int(r.get("capacity.gpus_per_replica")) or 1
    weights_gb = _num(r.get("capacity.estimate.weights_gb")) or 0.0
    memory_gib = max(MIN_HOST_MEMORY_GIB, math.ceil(weights_gb * HOST_MEMORY_WEIGHTS_FACTOR) +
                     HOST_MEMORY_OVERHEAD_GIB)
    memory = S(f"{memory_gib}Gi", f"max({MIN_HOST_MEMORY_GIB}, ceil(capacity.estimate.weights_gb "
                                  f"({weights_gb:g} GB) x {HOST_MEMORY_WEIGHTS_FACTOR:g}) + "
                                  f"{HOST_MEMORY_OVERHEAD_GIB}) GiB (assumption)")
    cpu = S(str(CPU_PER_ACCELERATOR * gpus), f"{CPU_PER_ACCELERATOR} vCPU x capacity.gpus_per_replica "
                                             "(assumption)")
    requests: dict[str, Any] = {"cpu": cpu, "memory": memory}
    limits: dict[str, Any] = {"memory": memory}
    if r.text("cost.gpu_kind") != "cpu":
        gpu_count = S(str(gpus), "capacity.gpus_per_replica (architecture.gpus_per_replica); "
                                 f"accelerator: architecture.gpu_type {r.get('architecture.gpu_type')}")
        requests["nvidia.com/gpu"] = gpu_count
        limits["nvidia.com/gpu"] = gpu_count
    return {"requests": requests, "limits": limits}


def _probe(path: str, port: str, period: int, timeout: S, failures: int | S) -> dict:
    return {"httpGet": {"path": S(path, "the framework's health endpoint (architecture.serving_framework)"),
                        "port": S(port, "the container's HTTP port")},
            "periodSeconds": S(period, "assumption: probe period"), "timeoutSeconds": timeout,
            "failureThreshold": failures if isinstance(failures, S) else S(failures, "assumption: failures before "
                                                                                      "acting")}


def _probes(r: _Reader, p: Plan, fw: Framework) -> dict:
    checks = r.items("architecture.health_checks") or []
    timeout = S(p.probe_timeout_s, p.probe_timeout_source)
    probes: dict[str, Any] = {}
    if "startup" in checks:
        failures = S(math.ceil(2 * p.load_seconds / STARTUP_PERIOD_S),
                     f"ceil(2 x load time / {STARTUP_PERIOD_S} s): twice the load time ({p.load_seconds} s: "
                     f"{p.load_seconds_source})")
        probes["startupProbe"] = S(_probe(fw.startup_path, "http", STARTUP_PERIOD_S, timeout, failures),
                                   "architecture.health_checks: startup")
    if "readiness" in checks:
        probe = _probe(fw.readiness_path, "http", READINESS_PERIOD_S, timeout, PROBE_FAILURES)
        if "startup" not in checks:
            probe["initialDelaySeconds"] = S(p.load_seconds, f"model load time: {p.load_seconds_source}")
        probes["readinessProbe"] = S(probe, "architecture.health_checks: readiness")
    if "liveness" in checks:
        probe = _probe(fw.liveness_path, "http", LIVENESS_PERIOD_S, timeout, PROBE_FAILURES)
        if "startup" not in checks:
            probe["initialDelaySeconds"] = S(2 * p.load_seconds, f"2 x model load time ({p.load_seconds_source})"
                                                                 ": no startup probe guards the load")
        probes["livenessProbe"] = S(probe, "architecture.health_checks: liveness")
    return probes


def _spread(r: _Reader, p: Plan, labels: dict) -> list:
    redundancy = r.text("architecture.redundancy")
    if redundancy not in ("multi_zone", "multi_region"):
        return []
    if redundancy == "multi_zone":
        comment = (f"architecture.redundancy: multi_zone over capacity.failure_domains "
                   f"({r.get('capacity.failure_domains')}) zones: the plan survives losing one")
        when = "DoNotSchedule"
    else:
        comment = "architecture.redundancy: multi_region - inside each region, spread over zones where possible"
        when = "ScheduleAnyway"
    return [S({"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": when,
               "labelSelector": {"matchLabels": labels}}, comment)]


def _service(fw: Framework, name: str, service_name: str, track: str | None, comment: str = "") -> dict:
    selector: dict[str, Any] = {"app.kubernetes.io/name": name}
    if track == "blue":
        selector["track"] = S(track, "architecture.rollout_strategy: blue_green - the live slot; switch to green "
                                     "to cut over")
    elif track:
        selector["track"] = S(track, f"architecture.rollout_strategy: {comment}")
    else:
        selector = S(selector, f"architecture.rollout_strategy: canary - {comment}")
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": S(service_name, "the design's name"), "labels": {"app.kubernetes.io/name": name}},
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": "http", "port": S(SERVICE_PORT, "assumption: the Service listens on 80"),
                            "targetPort": S("http", f"{fw.label} HTTP port {fw.port}")}]},
    }


def _quantity(value: float) -> str:
    """A Kubernetes quantity: whole numbers plain, else in thousandths ('19037m')."""
    if value == int(value):
        return str(int(value))
    return f"{max(round(value * 1000), 1)}m"


def _hpa(r: _Reader, p: Plan, fw: Framework, name: str, target: str) -> dict:
    signal = r.text("architecture.autoscaling_signal")
    util = _num(r.get("capacity.target_utilisation_pct")) or 70.0
    if signal == "gpu_utilisation" and r.text("cost.gpu_kind") == "cpu":
        metric = S({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": S(max(1, round(util)), "capacity.target_utilisation_pct")}}},
            "architecture.autoscaling_signal: gpu_utilisation on a CPU accelerator (architecture.gpu_type): CPU")
    elif signal == "gpu_utilisation":
        metric = _pods_metric(GPU_UTIL_METRIC, _quantity(round(util)), "capacity.target_utilisation_pct (%)",
                              "dcgm-exporter's GPU utilisation (assumption)")
    elif signal == "queue_depth":
        depth = _int(r.get("architecture.max_batch_size")) or 16
        metric = _pods_metric(fw.queue_metric, str(depth), "architecture.max_batch_size (16 when blank): one full "
                              "batch waiting per replica", f"{fw.label}'s waiting-requests gauge (assumption)")
    elif signal == "qps":
        per_replica = _num(r.get("capacity.per_replica_qps")) or 1.0
        metric = _pods_metric(QPS_METRIC, _quantity(round(per_replica * util / 100.0, 3)),
                              f"capacity.per_replica_qps ({per_replica:.3g}) x capacity.target_utilisation_pct",
                              "request rate per pod from your ingress or server metrics (assumption)")
    else:
        budget = _num(r.get("latency_budget.inference_budget_ms")) or _num(r.get("requirements.latency_p99_ms"))
        seconds = round((budget or 1000.0) / 1000.0, 3)
        metric = _pods_metric(LATENCY_METRIC, _quantity(seconds), "latency_budget.inference_budget_ms in seconds",
                              "p99 request latency per pod, a recording rule (assumption)")
    min_comment = _per_region("max(1, capacity.min_replicas_effective) (architecture.min_replicas; an HPA "
                              "cannot scale to zero)", p)
    if p.hpa_max_raised:
        max_comment = _per_region(f"capacity.replicas: architecture.max_replicas "
                                  f"({r.get('architecture.max_replicas')}) is below what peak needs", p)
    else:
        max_comment = _per_region("architecture.max_replicas (>= capacity.replicas, peak)", p)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": S(name, "the design's name"), "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": S(p.hpa_min, min_comment),
            "maxReplicas": S(p.hpa_max, max_comment),
            "metrics": [metric],
        },
    }


def _pods_metric(metric_name: str, value: str, value_source: str, name_source: str) -> S:
    return S({"type": "Pods", "pods": {
        "metric": {"name": S(metric_name, name_source)},
        "target": {"type": "AverageValue", "averageValue": S(value, value_source)}}},
        "architecture.autoscaling_signal")


def _pdb(r: _Reader, p: Plan, name: str, track: str) -> dict:
    if p.pdb_max_unavailable:
        comment = ("capacity.replicas > capacity.replicas_for_load: the plan holds a spare "
                   "(architecture.n_plus_one, zones or min replicas), so one replica may be drained at a time")
    else:
        comment = ("capacity.replicas == capacity.replicas_for_load: no spare replica (no N+1, one zone), so a "
                   "drain must wait rather than take capacity away at peak")
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": S(name, "the design's name"), "labels": {"app.kubernetes.io/name": name}},
        "spec": {"maxUnavailable": S(p.pdb_max_unavailable, comment),
                 "selector": {"matchLabels": _labels(name, track)}},
    }
