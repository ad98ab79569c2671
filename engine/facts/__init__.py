"""The facts tree: every input of a design plus every number derived from it.

    build_facts(inputs, *, measurements=None, gpu_catalog=None) -> Facts
    fact_reference() -> [{"path", "unit", "description", "type"}, ...]
    python -m engine.facts --markdown      the reference as Markdown (docs/facts.md)
    python -m engine.facts --example       the demo design's facts as JSON

Top-level paths: requirements.*, architecture.* (the inputs, as validated), traffic.*,
latency_budget.*, data_volume.*, memory.*, capacity.* (with capacity.estimate.*), cost.* (with
cost.levers.*), batch.*, streaming.*, benchmark.*. Values are CEL-friendly: null, bool, int, double, string, lists and
maps; percentages are numbers 0-100. Checklist rules read this tree, e.g.
`requirements.latency_p99_ms <= 200 && size(architecture.fallback_chain) >= 2`.

The reference is generated from the design schema and from the calculators' result dataclasses,
so it cannot drift from what `build_facts` produces (a test checks both directions).

Modules: `tree` builds the facts, `reference` generates the reference and its Markdown,
`benchmark` turns a benchmark run's measurements into facts, `explain` holds each number's formula
(and which blank or invalid inputs a blank number waits for), `methodology` the chapters of "how
these numbers are computed" that docs/facts.md and the app both render.
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.design import example_design
from engine.facts.benchmark import BenchmarkFacts
from engine.facts.reference import DERIVED_SECTIONS, fact_reference, reference_markdown
from engine.facts.tree import PROVENANCES, Facts, build_facts, cannot_run

__all__ = ["DERIVED_SECTIONS", "PROVENANCES", "BenchmarkFacts", "Facts", "build_facts", "cannot_run", "fact_reference",
           "main", "reference_markdown"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.facts", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--markdown", action="store_true", help="print the fact reference as Markdown")
    group.add_argument("--json", action="store_true", help="print the fact reference as JSON")
    group.add_argument("--example", action="store_true", help="print the demo design's facts as JSON")
    args = parser.parse_args(argv)
    if args.example:
        json.dump(build_facts(example_design()).to_dict(), sys.stdout, indent=2)
    elif args.json:
        json.dump(fact_reference(), sys.stdout, indent=2)
    else:
        sys.stdout.write(reference_markdown())
        return 0
    sys.stdout.write("\n")
    return 0
