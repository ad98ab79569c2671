"""Kubernetes manifests generated from a reviewed design (plain Python, no Django).

    generate(inputs, facts, *, name="model-server") -> DeployResult

`inputs` is the design document ({"requirements": ..., "architecture": ...}) and `facts` its facts
tree (`engine.assess(inputs).facts.tree`, or a milestone's frozen facts): the manifests read the
validated inputs and the capacity facts from the tree, so they agree with the reviewed plan. A
design whose numbers are incomplete gets `missing` (one sentence per missing input or fact, naming
the design field) and no YAML at all; a design that cannot run as designed (`capacity.feasible` false:
the model does not fit its replica, or no batch meets the budget) gets `cannot_run`, the one reason,
and no YAML either. What is generated, from which field, and the assumptions
(images, exporter metric names, probe timing formulas) are in docs/kubernetes.md and in
`engine.deploy.manifests`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.deploy.emit import emit, plain
from engine.deploy.manifests import (
    DEPLOYABLE_FRAMEWORKS, HPA_SIGNALS, _Reader, build, cannot_run, dns_name, missing_inputs,
)

KUBERNETES_VERSION = "1.30"  # the oldest API level the manifests are validated against (tests: 1.30 and newest)


@dataclass(frozen=True, slots=True)
class DeployResult:
    """Manifests, or what is missing for them, or why the design cannot run (`cannot_run`, then
    nothing else). `yaml` parses back (yaml.safe_load_all) to `documents`."""

    missing: tuple[str, ...] = ()
    cannot_run: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    yaml: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.cannot_run


def generate(inputs: dict, facts: dict, *, name: str = "model-server") -> DeployResult:
    """Manifests for the design's serving tier, or the list of what is missing (then no YAML).

    `name` is the design's name; it becomes a DNS-1123 label (lower case, dashes, at most 40
    characters so the track suffixes fit). Deterministic: the same inputs and facts give the same text.
    """
    reader = _Reader(inputs, facts)
    reason = cannot_run(reader)
    if reason:
        return DeployResult(cannot_run=reason)
    missing = missing_inputs(reader)
    if missing:
        return DeployResult(missing=tuple(missing))
    sourced, header = build(reader, dns_name(name))
    return DeployResult(documents=[plain(d) for d in sourced], yaml=emit(sourced, header))


def yaml_filename(design_name: str) -> str:
    """The download's file name for a design: `<dns-name>-k8s.yaml`."""
    return f"{dns_name(design_name)}-k8s.yaml"


__all__ = ["DEPLOYABLE_FRAMEWORKS", "HPA_SIGNALS", "KUBERNETES_VERSION", "DeployResult", "generate",
           "yaml_filename"]
