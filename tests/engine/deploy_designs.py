"""Designs for the manifest tests: the demo design with some serving choices changed."""

from __future__ import annotations

import copy
from typing import Any

from engine.design import example_design
from engine.facts import build_facts

FRAMEWORKS = ("vllm", "tgi", "triton", "torchserve", "custom")
ROLLOUTS = ("canary", "blue_green", "rolling", "shadow")
SIGNALS = ("none", "gpu_utilisation", "queue_depth", "qps", "latency", "schedule")
VERSIONS = ("1.30", "1.37")  # the oldest API level we promise and the newest kubernetes-validate ships


def design(**architecture: Any) -> dict:
    """The demo design with these architecture fields replaced (`requirements__x=...` for requirements)."""
    document = copy.deepcopy(example_design())
    for key, value in architecture.items():
        group, _, name = key.rpartition("__")
        document[group or "architecture"][name] = value
    return document


def facts_of(document: dict) -> dict:
    return build_facts(document).tree
