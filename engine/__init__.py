"""The meaning of a design, as a plain-Python library: no Django, no Celery.

Public entry points:
- ``assess(inputs, checklist, measurements)``: the facts tree and the checklist's findings.
- ``engine.design``: the design's fields, defined once (``validate``, ``example_design``).
- ``engine.facts``: ``build_facts`` and the generated ``fact_reference``.
- ``engine.planning``: traffic, latency budget, data volume, capacity and cost calculators.
- ``engine.checklist``: CEL rules, scoring, our JSON format and AWS custom lenses.
- ``engine.deploy``: Kubernetes manifests for a design's serving tier (``generate(inputs, facts)``).
- ``engine.serving`` / ``engine.bench``: the reference batched-serving core and its
  benchmark harness (``python -m engine.bench``), which need only torch and numpy.
"""

__all__ = ["Assessment", "assess"]


def __getattr__(name: str):
    # Imported on first use: a GPU machine running `python -m engine.bench` has
    # torch and numpy but not the CEL library that assessment needs.
    if name in __all__:
        import engine.assessment

        return getattr(engine.assessment, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
