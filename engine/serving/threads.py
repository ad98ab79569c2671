"""Pin CPU thread counts before torch is imported.

torch's OpenMP/MKL pools are created per OS thread from ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``;
``torch.set_num_threads`` in the main thread does not reach the serving core's worker thread,
and an unpinned worker on a small machine oversubscribes the cores (a batch-2 MLP measured
8-40 ms instead of 2.8 ms). So entry points call ``pin_threads`` first thing.
"""

from __future__ import annotations

import os
import sys

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_threads() -> int:
    """Leave one core for the event loop (admission, batching, load generation)."""
    return max(1, (os.cpu_count() or 2) - 1)


def pin_threads(threads: int | None = None) -> int:
    """Set the thread env vars to ``threads`` (default: $OMP_NUM_THREADS, else cores - 1).

    Effective only before torch is imported; afterwards the runner still calls
    ``torch.set_num_threads`` in each worker thread, which is the best that can be done.
    """
    if threads is None:
        env = os.environ.get("OMP_NUM_THREADS")
        threads = int(env) if env and env.isdigit() and int(env) > 0 else default_threads()
    if threads < 1:
        raise ValueError("threads must be >= 1")
    if "torch" not in sys.modules:
        for name in THREAD_ENV_VARS:
            os.environ[name] = str(threads)
    return threads
