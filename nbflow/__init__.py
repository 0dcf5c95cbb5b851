"""nbflow: Luigi's pipeline model, at home in Jupyter.

The public API keeps Luigi's names and meanings, so a pipeline module written for
Luigi's core runs after changing ``import luigi`` to ``import nbflow as luigi``.
Importing nbflow is light: nothing of Jupyter, tornado, Dask or papermill is loaded,
no config is read and nothing is started.

Luigi compatibility modules
---------------------------
The modules at the top of the package are Luigi's module paths and hold nothing but
re-exports of the core, so that ``luigi.task.flatten`` is ``nbflow.task.flatten``:
``nbflow.cmdline``, ``nbflow.cmdline_parser``, ``nbflow.configuration``,
``nbflow.date_interval``, ``nbflow.event``, ``nbflow.execution_summary``,
``nbflow.format``, ``nbflow.interface``, ``nbflow.local_target``, ``nbflow.lock``,
``nbflow.mock``, ``nbflow.notifications``, ``nbflow.parameter``,
``nbflow.retcodes``, ``nbflow.rpc``, ``nbflow.scheduler``, ``nbflow.setup_logging``,
``nbflow.target``, ``nbflow.task``, ``nbflow.task_register``, ``nbflow.util``,
``nbflow.worker``.
Real code lives in the subpackages (``nbflow.core``, ...), and only
this facade imports the shims (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nbflow import (  # the Luigi compatibility modules, as luigi/__init__.py does
    cmdline,
    cmdline_parser,
    configuration,
    date_interval,
    event,
    execution_summary,
    format,  # noqa: A004  (Luigi's module name: luigi.format)
    interface,
    local_target,
    lock,
    mock,
    notifications,
    parameter,
    retcodes,
    rpc,
    scheduler,
    setup_logging,
    target,
    task,
    task_register,
    util,
    worker,
)
from nbflow.core.config import RetCodes, Settings
from nbflow.core.errors import NbflowError, NbflowWarning
from nbflow.core.events import Status
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.interface import build, run
from nbflow.core.parameter import (
    BoolParameter,
    ChoiceListParameter,
    ChoiceParameter,
    DateHourParameter,
    DateIntervalParameter,
    DateMinuteParameter,
    DateParameter,
    DateSecondParameter,
    DictParameter,
    EnumListParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    ListParameter,
    MonthParameter,
    NumericalParameter,
    OptionalBoolParameter,
    OptionalChoiceParameter,
    OptionalDictParameter,
    OptionalFloatParameter,
    OptionalIntParameter,
    OptionalListParameter,
    OptionalNumericalParameter,
    OptionalParameter,
    OptionalPathParameter,
    OptionalStrParameter,
    OptionalTupleParameter,
    Parameter,
    ParameterVisibility,
    PathParameter,
    StrParameter,
    TaskParameter,
    TimeDeltaParameter,
    TupleParameter,
    YearParameter,
)
from nbflow.core.rpc import RemoteScheduler
from nbflow.core.structure import DynamicRequirements
from nbflow.core.summary import RunResult, RunStatus
from nbflow.core.target import FileSystemTarget, LocalTarget, MemoryTarget, Target
from nbflow.core.task import (
    Config,
    Event,
    ExternalTask,
    Task,
    WrapperTask,
    auto_namespace,
    externalize,
    namespace,
)
from nbflow.core.worker import Worker

if TYPE_CHECKING:
    from nbflow.notebook.task import NotebookTask

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """Register the ``%nbflow`` magic: ``%load_ext nbflow`` calls this (IPython's hook).

    IPython is imported only here, when the extension is loaded, never by ``import nbflow``
    (by name, so the import graph keeps the kernel shell above everything that imports
    nbflow).
    """
    importlib.import_module("nbflow.kernel").load_ipython_extension(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """Remove the ``%nbflow`` magic (``%unload_ext nbflow``); runs in progress go on."""
    importlib.import_module("nbflow.kernel").unload_ipython_extension(ipython)


__all__ = [
    "BoolParameter",
    "ChoiceListParameter",
    "ChoiceParameter",
    "Config",
    "DateHourParameter",
    "DateIntervalParameter",
    "DateMinuteParameter",
    "DateParameter",
    "DateSecondParameter",
    "DictParameter",
    "DynamicRequirements",
    "EnumListParameter",
    "EnumParameter",
    "Event",
    "ExternalTask",
    "FileSystemTarget",
    "FloatParameter",
    "FsspecTarget",
    "IntParameter",
    "ListParameter",
    "LocalTarget",
    "MemoryTarget",
    "MonthParameter",
    "NbflowError",
    "NbflowWarning",
    "NotebookTask",
    "NumericalParameter",
    "OptionalBoolParameter",
    "OptionalChoiceParameter",
    "OptionalDictParameter",
    "OptionalFloatParameter",
    "OptionalIntParameter",
    "OptionalListParameter",
    "OptionalNumericalParameter",
    "OptionalParameter",
    "OptionalPathParameter",
    "OptionalStrParameter",
    "OptionalTupleParameter",
    "Parameter",
    "ParameterVisibility",
    "PathParameter",
    "RemoteScheduler",
    "RetCodes",
    "RunResult",
    "RunStatus",
    "Settings",
    "Status",
    "StrParameter",
    "Target",
    "Task",
    "TaskParameter",
    "TimeDeltaParameter",
    "TupleParameter",
    "Worker",
    "WrapperTask",
    "YearParameter",
    "__version__",
    "auto_namespace",
    "build",
    "cmdline",
    "cmdline_parser",
    "configuration",
    "date_interval",
    "event",
    "execution_summary",
    "externalize",
    "format",
    "interface",
    "local_target",
    "lock",
    "mock",
    "namespace",
    "notifications",
    "parameter",
    "retcodes",
    "rpc",
    "run",
    "scheduler",
    "setup_logging",
    "target",
    "task",
    "task_register",
    "util",
    "worker",
]


def __getattr__(name: str) -> Any:
    """Import ``NotebookTask`` (nbflow.notebook; papermill loads on run), ``tools`` on use."""
    # By name, like the kernel: the import graph keeps the facade above nbflow.notebook.
    if name == "NotebookTask":
        return importlib.import_module("nbflow.notebook.task").NotebookTask
    if name == "tools":  # Luigi's code reaches luigi.tools.range without importing it
        importlib.import_module("nbflow.tools.range")
        return importlib.import_module("nbflow.tools")
    message = f"module 'nbflow' has no attribute {name!r}"
    raise AttributeError(message)
