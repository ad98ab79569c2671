"""Re-export: thread pinning lives with the serving core (``engine.serving.threads``)."""

from engine.serving.threads import THREAD_ENV_VARS, default_threads, pin_threads

__all__ = ["THREAD_ENV_VARS", "default_threads", "pin_threads"]
