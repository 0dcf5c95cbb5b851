"""Luigi's ``luigi.worker`` module: the worker."""

from __future__ import annotations

from nbflow.core.worker import Worker, WorkerOptions

__all__ = ["Worker", "WorkerOptions"]
