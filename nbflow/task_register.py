"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.task_register``.

Holds ``Register`` (the registry's class-level API), ``load_task`` and the lookup
exceptions, which are nbflow's own (``TaskClassNotFoundException`` is
``UnknownTaskError``). The code lives in nbflow.core.task_register; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.task_register import (
    Register,
    TaskClassAmbigiousException,
    TaskClassAmbiguousException,
    TaskClassException,
    TaskClassNotFoundException,
    load_task,
)

__all__ = [
    "Register",
    "TaskClassAmbigiousException",
    "TaskClassAmbiguousException",
    "TaskClassException",
    "TaskClassNotFoundException",
    "load_task",
]
