"""Kubernetes manifests from a design: schema-valid for every serving choice, commented, golden files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from engine.deploy import DeployResult, generate, yaml_filename
from engine.deploy.emit import Sourced, emit, plain, scalar
from engine.deploy.manifests import FRAMEWORKS as TEMPLATES, dns_name
from engine.design import example_design
from tests.engine.deploy_designs import FRAMEWORKS, ROLLOUTS, SIGNALS, VERSIONS, design, facts_of

GOLDEN = Path(__file__).parent / "data" / "k8s"


def _generate(document: dict, name: str = "support-bot") -> DeployResult:
    return generate(document, facts_of(document), name=name)


def _valid(result: DeployResult) -> None:
    assert result.missing == () and result.cannot_run == ""
    assert list(yaml.safe_load_all(result.yaml)) == result.documents
    for document in result.documents:
        for version in VERSIONS:
            kubernetes_validate.validate(document, version, strict=True)


def _kinds(result: DeployResult) -> list[str]:
    return [d["kind"] for d in result.documents]


def _of(result: DeployResult, kind: str) -> list[dict]:
    return [d for d in result.documents if d["kind"] == kind]


def test_it_covers_every_framework_the_design_field_offers():
    from engine.design import field

    offered = {c.value for c in field("architecture.serving_framework").choices}
    assert offered == set(TEMPLATES) | {"managed_api"}
    assert set(FRAMEWORKS) == set(TEMPLATES)
    assert set(ROLLOUTS) == {c.value for c in field("architecture.rollout_strategy").choices}
    assert set(SIGNALS) == {c.value for c in field("architecture.autoscaling_signal").choices}


def test_the_demo_design_gives_valid_manifests_of_every_kind():
    result = _generate(example_design())
    _valid(result)
    assert _kinds(result) == ["Deployment", "Deployment", "Service", "HorizontalPodAutoscaler",
                              "PodDisruptionBudget"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("rollout", ROLLOUTS)
@pytest.mark.parametrize("signal", SIGNALS)
def test_every_framework_rollout_and_signal_validates_strictly(framework, rollout, signal):
    result = _generate(design(serving_framework=framework, rollout_strategy=rollout, autoscaling_signal=signal))
    _valid(result)
    hpas = _of(result, "HorizontalPodAutoscaler")
    assert len(hpas) == (0 if signal in ("none", "schedule") else 1)


@pytest.mark.parametrize("redundancy", ["single_zone", "multi_zone", "multi_region"])
@pytest.mark.parametrize("checks", [[], ["liveness"], ["readiness", "startup"], ["liveness", "readiness"]])
def test_redundancy_and_health_check_choices_validate(redundancy, checks):
    result = _generate(design(redundancy=redundancy, failure_domains=3, health_checks=checks))
    _valid(result)
    container = _of(result, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert {k for k in container if k.endswith("Probe")} == {f"{c}Probe" for c in checks}


def test_a_cpu_accelerator_requests_no_gpu_and_scales_on_cpu():
    # a 0.5 B model: the demo's 8 B one misses its budget on 16 vCPUs, so it cannot run there
    result = _generate(design(gpu_type="cpu-16vcpu", autoscaling_signal="gpu_utilisation",
                              requirements__model_params_billions=0.5))
    _valid(result)
    pod = _of(result, "Deployment")[0]["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in pod["containers"][0]["resources"]["requests"]
    assert "tolerations" not in pod
    metric = _of(result, "HorizontalPodAutoscaler")[0]["spec"]["metrics"][0]
    assert metric == {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 70}}}


@pytest.mark.parametrize(("signal", "metric"), [
    ("gpu_utilisation", "DCGM_FI_DEV_GPU_UTIL"), ("queue_depth", "vllm:num_requests_waiting"),
    ("qps", "http_requests_per_second"), ("latency", "request_latency_p99_seconds")])
def test_the_hpa_reads_the_documented_exporter_metric(signal, metric):
    hpa = _of(_generate(design(autoscaling_signal=signal)), "HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["metrics"][0]["type"] == "Pods"
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == metric


def test_gpus_per_replica_sets_the_gpu_requests_limits_and_tensor_parallelism():
    result = _generate(design(gpus_per_replica=4))
    for deployment in _of(result, "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"]["nvidia.com/gpu"] == "4"
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
        assert container["args"][container["args"].index("--tensor-parallel-size") + 1] == "4"


def test_probe_timings_follow_the_latency_budget_and_the_model_load_time():
    # p99 8000 ms -> 8 s timeouts; 8 GB of fp8 weights load in 30 + 8 / 0.5 = 46 s; startup allows twice that.
    container = _of(_generate(example_design()), "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["timeoutSeconds"] == 8
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 2 * 46
    assert container["startupProbe"]["failureThreshold"] == 10
    without_startup = _of(_generate(design(health_checks=["liveness", "readiness"])), "Deployment")[0]
    probes = without_startup["spec"]["template"]["spec"]["containers"][0]
    assert probes["readinessProbe"]["initialDelaySeconds"] == 46
    assert probes["livenessProbe"]["initialDelaySeconds"] == 92


def test_a_batch_design_s_restart_time_is_the_model_load_time():
    document = design(restart_minutes=3.0, requirements__workload_timing="batch",
                      requirements__records_per_run=1_000_000, requirements__processing_window_h=2.0)
    result = _generate(document)
    _valid(result)
    container = _of(result, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["startupProbe"]["failureThreshold"] == 36  # 2 x 180 s / 10 s
    assert container["readinessProbe"]["timeoutSeconds"] == 5  # no p99 budget for a batch job


def test_a_canary_sits_behind_the_same_service_in_the_traffic_ratio():
    result = _generate(design(canary_traffic_pct=25.0, autoscaling_signal="none"))
    stable, canary = _of(result, "Deployment")
    service = _of(result, "Service")[0]
    for deployment in (stable, canary):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert all(labels[k] == v for k, v in service["spec"]["selector"].items())
    # a fixed fleet of 5 at peak: round(5 x 25 / 75) = 2 canary replicas (2 of 7 endpoints = 29%)
    assert stable["spec"]["replicas"] == 5
    assert canary["spec"]["replicas"] == 2


def test_blue_green_routes_to_blue_and_keeps_green_idle():
    result = _generate(design(rollout_strategy="blue_green"))
    blue, green = _of(result, "Deployment")
    assert blue["metadata"]["name"].endswith("-blue") and green["spec"]["replicas"] == 0
    assert _of(result, "Service")[0]["spec"]["selector"]["track"] == "blue"
    assert _of(result, "HorizontalPodAutoscaler")[0]["spec"]["scaleTargetRef"]["name"] == blue["metadata"]["name"]


def test_a_max_replicas_below_peak_is_raised_to_peak_and_says_so():
    result = _generate(design(max_replicas=3))
    hpa = _of(result, "HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["maxReplicas"] == 5
    assert re.search(r"maxReplicas: 5  # capacity\.replicas: architecture\.max_replicas \(3\) is below", result.yaml)


COMMENTED_KEYS = ("replicas", "minReplicas", "maxReplicas", "maxUnavailable", "nvidia.com/gpu", "cpu", "memory",
                  "timeoutSeconds", "failureThreshold", "periodSeconds", "initialDelaySeconds", "image",
                  "averageValue", "averageUtilization", "containerPort", "path", "port", "targetPort")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_design_derived_value_carries_a_comment_naming_its_source(framework):
    text = _generate(design(serving_framework=framework, health_checks=["liveness", "readiness"],
                            autoscaling_signal="qps")).yaml
    lines = [line for line in text.splitlines()
             if re.match(r"^\s*-?\s*([\w./]+): \S", line) and re.match(r"^\s*-?\s*([\w./]+):", line).group(1)
             in COMMENTED_KEYS]
    assert len(lines) > 15
    uncommented = [line for line in lines if "  # " not in line]
    assert uncommented == []
    assert "# requirements.model_name" in text
    assert "capacity.gpus_per_replica" in text


def test_an_incomplete_design_gets_the_missing_list_and_no_yaml():
    document = {"requirements": {}, "architecture": {"serving_framework": "vllm"}}
    result = generate(document, facts_of(document))
    assert result.yaml == "" and result.documents == [] and not result.ok
    text = " ".join(result.missing)
    for path in ("requirements.model_name", "architecture.gpu_type", "capacity.replicas", "architecture.redundancy",
                 "architecture.rollout_strategy", "architecture.autoscaling_signal"):
        assert path in text
    assert all(re.search(r"\((requirements|architecture|capacity)\.[a-z_.]+\)", item) for item in result.missing)


def test_a_managed_api_has_nothing_to_deploy():
    result = _generate(design(serving_framework="managed_api"))
    assert result.yaml == "" and len(result.missing) == 1
    assert "architecture.serving_framework" in result.missing[0] and "Managed API" in result.missing[0]


def test_an_autoscaler_without_bounds_names_them():
    result = _generate(design(min_replicas=None, max_replicas=None))
    assert any("architecture.min_replicas" in m for m in result.missing)
    assert any("architecture.max_replicas" in m for m in result.missing)
    assert _generate(design(min_replicas=None, max_replicas=None, autoscaling_signal="none")).ok


def test_generation_is_deterministic():
    assert _generate(example_design()).yaml == _generate(example_design()).yaml


@pytest.mark.parametrize(("text", "expected"), [
    ("Support assistant (RAG)", "support-assistant-rag"), ("", "model-server"), ("  ", "model-server"),
    ("2024 model", "m-2024-model"), ("Ünïcode ñame", "n-code-ame"), ("x" * 80, "x" * 40)])
def test_the_name_is_a_dns_label(text, expected):
    assert dns_name(text) == expected
    assert yaml_filename(text) == f"{expected}-k8s.yaml"


def test_the_emitter_writes_comments_and_reads_back_exactly():
    documents = [{"a": Sourced(1, "one"), "b": Sourced({"c": ["2", True, None, 1.5]}, "block"),
                  "d": [Sourced({"e": "yes"}, "item"), {"f": {}, "g": []}], "h": "x: y # z"}]
    text = emit(documents, header=["head"])
    assert text.startswith("# head\n---\n")
    assert "a: 1  # one\n" in text and "b:  # block\n" in text
    assert list(yaml.safe_load_all(text)) == plain(documents)
    assert scalar("true") == "'true'" and scalar("8000") == "'8000'"


def test_a_comment_is_one_line():
    with pytest.raises(ValueError):
        Sourced(1, "two\nlines")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_golden_file_per_framework(framework):
    """The demo design on each framework; reviewed by eye. Regenerate: UPDATE_GOLDEN=1 pytest this file."""
    text = _generate(design(serving_framework=framework, rollout_strategy="rolling"), name="Support assistant").yaml
    path = GOLDEN / f"{framework}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_a_shadow_gets_no_live_traffic():
    result = _generate(design(rollout_strategy="shadow"))
    _valid(result)
    live, shadow = _of(result, "Service")
    assert live["spec"]["selector"]["track"] == "stable"
    assert shadow["metadata"]["name"].endswith("-shadow") and shadow["spec"]["selector"]["track"] == "shadow"


@pytest.mark.parametrize("junk", [None, 3, 2.5, True, "x", [], ["a", 1], {"a": 1}, float("nan"), float("inf")])
def test_values_of_the_wrong_type_count_as_blank_and_never_raise(junk):
    document = example_design()
    tree = facts_of(document)
    for section in ("architecture", "requirements", "capacity"):
        broken = {**tree, section: {key: junk for key in tree[section]}}
        result = generate(document, broken, name=junk)  # type: ignore[arg-type]
        assert result.missing or result.documents
    assert generate({}, {}).missing and generate(None, None).missing  # type: ignore[arg-type]
