"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.task``.

Holds the task classes and structure helpers (``flatten``, ``getpaths``). The code lives
in nbflow.core.task and nbflow.core.structure; nbflow's own modules import it from
there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.structure import DynamicRequirements, flatten, getpaths
from nbflow.core.task import (
    Config,
    ExternalTask,
    Task,
    WrapperTask,
    auto_namespace,
    externalize,
    namespace,
    task_id_str,
)

__all__ = [
    "Config",
    "DynamicRequirements",
    "ExternalTask",
    "Task",
    "WrapperTask",
    "auto_namespace",
    "externalize",
    "flatten",
    "getpaths",
    "namespace",
    "task_id_str",
]
