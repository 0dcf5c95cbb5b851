"""How a worker runs tasks: :class:`WorkerOptions`.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbflow.core.events import RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs tasks."""

    #: Tasks run at once.
    workers: int = 1
    #: "auto" (sync for one worker, threads for more), "sync", "threads",
    #: "processes", or the name of an installed executor plugin.
    executor: str = "auto"
    #: Wait for failed tasks' retry delay and run them again, instead of stopping.
    keep_alive: bool = False
    #: Threads used for completeness checks (Luigi's parallel_scheduling).
    check_threads: int = 1
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    resources: Mapping[str, int] = field(default_factory=dict)
    worker_id: str = ""
    #: What tasks print and log: "tee" (captured and still written to the console),
    #: "capture" (captured only) or "off" (see nbflow.core.capture).
    capture_output: str = "tee"
    #: Tasks a run schedules at most; those beyond are scheduling errors, and what
    #: needs them does not run (``[worker] task_limit``). None: no limit.
    task_limit: int | None = None
    #: With a scheduler server: take any task of any client (Luigi's assistant), and
    #: keep waiting for work until cancelled.
    assistant: bool = False
