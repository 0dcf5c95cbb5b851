"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.worker``.

Holds the worker. The code lives in nbflow.core.worker; nbflow's own modules import it
from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.worker import Worker, WorkerOptions

__all__ = ["Worker", "WorkerOptions"]
