"""Planning calculators: pure functions from plain numbers to frozen result dataclasses.

    plan_traffic(...)          -> TrafficPlan        (traffic.py)
    plan_latency_budget(...)   -> LatencyBudget      (latency.py)
    plan_data_volume(...)      -> DataVolumePlan     (data_volume.py)
    plan_memory(...)           -> MemoryPlan         (memory.py, weights and the KV cache of one replica)
    estimate_throughput(...)   -> ThroughputEstimate (throughput.py, the per-replica estimate)
    plan_capacity(...)         -> CapacityPlan       (capacity.py)
    plan_cost(...)             -> CostPlan           (cost.py)
    load_gpu_catalog(path=None), shipped_catalog(), catalog_errors(catalog)   (gpu_catalog.py)

Each result's fields carry their unit and description (`engine.planning.common.fact`); its
`notes` are warnings `Note(path, message, severity)`. `engine.facts.build_facts` runs them all.
"""

from engine.planning.capacity import CapacityPlan, plan_capacity
from engine.planning.common import Note, to_tree
from engine.planning.cost import CostPlan, api_monthly_cost, plan_cost
from engine.planning.data_volume import DataVolumePlan, plan_data_volume
from engine.planning.gpu_catalog import catalog_errors, load_gpu_catalog, shipped_catalog
from engine.planning.latency import LatencyBudget, plan_latency_budget
from engine.planning.memory import MemoryPlan, plan_memory
from engine.planning.throughput import ThroughputEstimate, estimate_throughput
from engine.planning.traffic import TrafficPlan, plan_traffic

__all__ = [
    "CapacityPlan", "CostPlan", "DataVolumePlan", "LatencyBudget", "MemoryPlan", "Note", "ThroughputEstimate",
    "TrafficPlan",
    "api_monthly_cost", "catalog_errors", "estimate_throughput", "load_gpu_catalog", "plan_capacity", "plan_cost",
    "plan_data_volume", "plan_latency_budget", "plan_memory", "plan_traffic", "shipped_catalog", "to_tree",
]
