"""The reference batched-serving core.

``policy`` (batching decisions, no torch), ``batch_time`` (the s(b) model shedding predicts
with, no torch), ``core`` (asyncio loop + worker threads, no torch),
``runner`` (the torch part), ``workloads`` (reference model shapes, no torch) and ``http``
(a thin ASGI front). Importing this package does not import torch; import ``runner`` for that.
"""

from engine.serving.core import (
    RequestFailed,
    RequestRejected,
    RequestTimedOut,
    ServingCore,
    ServingError,
)
from engine.serving.batch_time import BatchTimeModel
from engine.serving.policy import BatchPolicy, BatcherConfig
from engine.serving.workloads import WorkloadSpec, from_description

__all__ = [
    "BatchPolicy",
    "BatchTimeModel",
    "BatcherConfig",
    "RequestFailed",
    "RequestRejected",
    "RequestTimedOut",
    "ServingCore",
    "ServingError",
    "WorkloadSpec",
    "from_description",
]
