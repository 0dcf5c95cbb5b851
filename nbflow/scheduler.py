"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.scheduler``.

Holds ``Scheduler``: nbflow's scheduler, Luigi's scheduling rules as a pure state
machine, which ``Worker(scheduler=Scheduler())`` runs tasks with, and Luigi's status
names (``DONE``, ``FAILED``, ...) as plain strings. luigid's remote
methods (``add_task``, ``get_work``, ...) are not part of it. The code lives in
nbflow.core.scheduler; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.scheduler import (
    BATCH_RUNNING,
    DISABLED,
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SUSPENDED,
    UNKNOWN,
    Scheduler,
)

__all__ = [
    "BATCH_RUNNING",
    "DISABLED",
    "DONE",
    "FAILED",
    "PENDING",
    "RUNNING",
    "SUSPENDED",
    "UNKNOWN",
    "Scheduler",
]
