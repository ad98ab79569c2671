"""Property tests: for any design the generator emits valid manifests that agree with the capacity
facts, or names what is missing (and emits no YAML).

The agreement, precisely (R = the regions, `capacity.failure_domains` when redundancy is
multi_region, else 1; every count is per region, rounded up):
- fixed fleet (signal none or schedule): the stable Deployment runs ceil(capacity.replicas / R);
- autoscaled: HPA minReplicas = max(1, ceil(capacity.min_replicas_effective / R)), maxReplicas =
  max(ceil(architecture.max_replicas / R), ceil(capacity.replicas / R), minReplicas), so it is never
  below peak; the stable Deployment starts at minReplicas;
- every Deployment requests and limits capacity.gpus_per_replica GPUs (none on a CPU accelerator);
- PDB maxUnavailable = 1 when capacity.replicas > capacity.replicas_for_load (a spare), else 0;
- canary replicas = max(1, round(stable x p / (100 - p))) for 0 < p < 100, 0 at p = 0, stable at 100.
"""

from __future__ import annotations

import math

import kubernetes_validate
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.deploy import generate
from engine.deploy.emit import Sourced, emit, plain
from engine.planning import shipped_catalog
from tests.engine.deploy_designs import FRAMEWORKS, ROLLOUTS, SIGNALS, design, facts_of

GPUS = sorted(shipped_catalog()["gpus"])


def maybe(strategy):
    return strategy  # blanks come from `blank` below, so that most examples are complete


designs = st.fixed_dictionaries({
    "serving_framework": maybe(st.sampled_from(FRAMEWORKS + ("managed_api",))),
    "rollout_strategy": maybe(st.sampled_from(ROLLOUTS)),
    "autoscaling_signal": maybe(st.sampled_from(SIGNALS)),
    "canary_traffic_pct": maybe(st.floats(0, 100)),
    "min_replicas": maybe(st.integers(0, 40)),
    "max_replicas": maybe(st.integers(0, 60)),
    "redundancy": maybe(st.sampled_from(["single_zone", "multi_zone", "multi_region"])),
    "failure_domains": st.integers(2, 5),
    "n_plus_one": st.booleans(),
    "gpus_per_replica": maybe(st.integers(1, 8)),
    "gpu_type": maybe(st.sampled_from(GPUS)),
    "health_checks": st.lists(st.sampled_from(["liveness", "readiness", "startup"]), unique=True),
    "target_utilisation_pct": st.floats(1, 100),
    "requirements__peak_qps": maybe(st.floats(0, 5000)),
    "requirements__average_qps": st.floats(0, 100),
    "requirements__latency_p99_ms": maybe(st.floats(1, 120_000)),
    "requirements__model_params_billions": maybe(st.floats(0.01, 400)),
    "requirements__model_name": st.sampled_from(["Llama-3.1-8B-Instruct", "bert-base", "yes", "0.5"]),
})
# at most two fields left blank (None, or an empty model name), none in most examples
blank = st.one_of(st.just(()), st.lists(st.sampled_from(["serving_framework", "rollout_strategy",
    "autoscaling_signal", "canary_traffic_pct", "min_replicas", "max_replicas", "redundancy", "gpu_type",
    "requirements__peak_qps", "requirements__latency_p99_ms", "requirements__model_params_billions",
    "requirements__model_name"]), max_size=2))


def _of(documents, kind):
    return [d for d in documents if d["kind"] == kind]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs, blank)
def test_valid_manifests_that_agree_with_the_capacity_facts_or_the_missing_inputs(choices, blanks):
    choices = {**choices, **{key: None for key in blanks}}
    document = design(**choices)
    document["architecture"]["max_replicas"] = choices["max_replicas"]
    facts = facts_of(document)
    result = generate(document, facts, name="prop")
    if facts["capacity"]["feasible"] is False:  # issue 25: no manifest for what cannot run
        assert result.yaml == "" and result.documents == [] and result.missing == ()
        assert result.cannot_run == f"Cannot run as designed: {facts['capacity']['infeasible_reason']}"
        return
    assert result.cannot_run == ""
    if result.missing:
        assert result.yaml == "" and result.documents == []
        assert all("(" in m and ")" in m for m in result.missing)
        return
    docs = result.documents
    assert list(yaml.safe_load_all(result.yaml)) == docs
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30", strict=True)

    arch, capacity = facts["architecture"], facts["capacity"]
    regions = capacity["failure_domains"] if arch["redundancy"] == "multi_region" else 1
    peak = math.ceil(capacity["replicas"] / regions)
    deployments = _of(docs, "Deployment")
    stable = deployments[0]["spec"]["replicas"]
    hpas = _of(docs, "HorizontalPodAutoscaler")
    if arch["autoscaling_signal"] in ("none", "schedule"):
        assert hpas == []
        assert stable == peak
    else:
        (hpa,) = hpas
        low, high = hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]
        assert low == max(1, math.ceil(capacity["min_replicas_effective"] / regions))
        assert high == max(math.ceil(arch["max_replicas"] / regions), peak, low)
        assert high >= peak and high >= low >= 1
        assert stable == low
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployments[0]["metadata"]["name"]

    gpus = str(capacity["gpus_per_replica"])
    for deployment in deployments:
        resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
        if facts["cost"]["gpu_kind"] == "cpu":
            assert "nvidia.com/gpu" not in resources["requests"]
        else:
            assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == gpus

    (pdb,) = _of(docs, "PodDisruptionBudget")
    spare = capacity["replicas"] > capacity["replicas_for_load"]
    assert pdb["spec"]["maxUnavailable"] == (1 if spare else 0)

    if arch["rollout_strategy"] == "canary":
        share = arch["canary_traffic_pct"]
        canary = deployments[1]["spec"]["replicas"]
        if share >= 100:
            assert canary == stable
        elif share <= 0:
            assert canary == 0
        else:
            assert canary == max(1, round(stable * share / (100 - share)))
    else:
        assert len(deployments) == (1 if arch["rollout_strategy"] == "rolling" else 2)

    spread = deployments[0]["spec"]["template"]["spec"].get("topologySpreadConstraints")
    assert bool(spread) == (arch["redundancy"] in ("multi_zone", "multi_region"))
    probes = {k for k in deployments[0]["spec"]["template"]["spec"]["containers"][0] if k.endswith("Probe")}
    assert probes == {f"{c}Probe" for c in arch["health_checks"]}


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 99.9), st.integers(1, 30))
def test_a_larger_canary_share_never_gets_fewer_canary_replicas(share, min_replicas):
    def canary(pct):
        result = generate(*_pair(design(canary_traffic_pct=pct, min_replicas=min_replicas, max_replicas=60)))
        return _of(result.documents, "Deployment")[1]["spec"]["replicas"]
    assert canary(share) <= canary(min(share + 10, 99.9))


def _pair(document):
    return document, facts_of(document)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20))
keys = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
comments = st.text(st.one_of(st.just(" "), st.characters(blacklist_categories=("Cs", "Zl", "Zp", "Zs", "Cc", "Cf",
                                                                                   "Co", "Cn"))), max_size=30)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.builds(Sourced, inner, comments)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=4), min_size=1, max_size=3))
def test_the_emitter_reads_back_exactly_whatever_the_values_and_comments(documents):
    text = emit(documents, header=["a header"])
    assert list(yaml.safe_load_all(text)) == plain(documents)
