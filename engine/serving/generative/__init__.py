"""The generative serving core: continuous batching over a paged KV cache.

``config`` (model shape, scheduler settings), ``blocks`` (the KV block manager), ``scheduler``
(iteration-level scheduling, chunked prefill, preemption by recompute) and ``engine`` (the step
loop) are pure Python; ``runner`` (the Llama-layout decoder and its paged attention) and
``static`` (the static-batching baseline) are the torch part. Importing this package does not
import torch.
"""

from engine.serving.generative.blocks import BlockManager, BlockUsage
from engine.serving.generative.config import DecoderShape, SchedulerConfig
from engine.serving.generative.engine import GenerativeEngine, StepOutput, generate_all
from engine.serving.generative.scheduler import (
    FINISHED,
    PREEMPTED,
    REJECTED,
    RUNNING,
    WAITING,
    Scheduler,
    ScheduledChunk,
    Sequence,
    StepPlan,
    TokenEvent,
)

__all__ = [
    "FINISHED",
    "PREEMPTED",
    "REJECTED",
    "RUNNING",
    "WAITING",
    "BlockManager",
    "BlockUsage",
    "DecoderShape",
    "GenerativeEngine",
    "ScheduledChunk",
    "Scheduler",
    "SchedulerConfig",
    "Sequence",
    "StepOutput",
    "StepPlan",
    "TokenEvent",
    "generate_all",
]
