"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.task``.

Holds the task classes and structure helpers (``flatten``, ``getpaths``). The code lives
in nbflow.core.task and nbflow.core.structure; nbflow's own modules import it from
there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.bulk import MixinNaiveBulkComplete
from nbflow.core.output_walk import flatten_output
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
from nbflow.core.task_register import Register

__all__ = [
    "Config",
    "DynamicRequirements",
    "ExternalTask",
    "MixinNaiveBulkComplete",
    "Register",
    "Task",
    "WrapperTask",
    "auto_namespace",
    "externalize",
    "flatten",
    "flatten_output",
    "getpaths",
    "namespace",
    "task_id_str",
]
