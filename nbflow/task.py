"""Luigi's ``luigi.task`` module: the task classes and structure helpers."""

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
