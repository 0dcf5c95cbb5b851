"""Running one task, in whatever thread or process an executor chose.

:func:`execute` is the function every executor runs. It calls ``run()``, drives a
generator ``run()`` through its dynamic requirements, checks that every output exists
afterwards ("output missing after run"), and returns an :class:`Outcome` of plain,
picklable values. It never raises for the task's own errors: they become the outcome.
What the task prints and logs meanwhile is captured (:mod:`nbflow.core.capture`) and
returned as the outcome's ``output``.

Tasks cross process boundaries as cloudpickle bytes (:func:`pack`), so classes defined in
``__main__`` (a notebook) travel by value. Dynamic requirements come back as
:class:`TaskRef` (module, qualified name, serialized parameters) and are rebuilt in the
worker's process from its own classes, never from copies made by unpickling.

Imports: stdlib, nbflow.core.{capture, claim, diagnosis, errors, journal, structure,
task, temporary}; cloudpickle lazily.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import io
import pickle
import sys
import time
import types
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from nbflow.core.capture import LogDelta, capturing
from nbflow.core.claim import claim_path, hold_claim, mark_completed
from nbflow.core.diagnosis import explain_failure, generator_site
from nbflow.core.errors import (
    DefinitionTypeError,
    OutputMissingError,
    UnpicklableTaskError,
)
from nbflow.core.journal import Rerun
from nbflow.core.structure import DynamicRequirements, flatten, getpaths
from nbflow.core.task import Task
from nbflow.core.temporary import REPLACING


@dataclass(frozen=True, slots=True)
class TaskRef:
    """How to rebuild a task in another process: its class's address and parameters."""

    module: str
    qualname: str
    family: str
    params: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, task: Task) -> TaskRef:
        """Return the reference of ``task``."""
        params = tuple(task.to_str_params().items())
        kind = type(task)
        return cls(kind.__module__, kind.__qualname__, task.get_task_family(), params)


class Outcome(NamedTuple):
    """What happened to one run of a task (immutable; one is made per run)."""

    task_id: str
    status: Literal["done", "failed", "suspended"]
    error: str = ""
    #: The user's frames only (nbflow's and the stdlib's left out).
    traceback: str = ""
    exception: BaseException | None = None
    #: For "suspended": every requirement yielded by run(), complete or not.
    new_deps: tuple[TaskRef, ...] = ()
    elapsed: float = 0.0
    #: The last lines the task printed or logged (see nbflow.core.capture).
    output: tuple[str, ...] = ()
    #: Every frame, nbflow's included.
    full_traceback: str = ""
    #: What the task wrote since its last live report (streamed to a scheduler server).
    log: LogDelta | None = None


#: The file name cloudpickle 3.1 gives the code it pickles by value.
_NAMELESS_CODE = "<dynamic-code>"


def pack(task: Task) -> bytes:
    """Serialize ``task`` for another process; classes in ``__main__`` go by value.

    Raises
    ------
    UnpicklableTaskError
        Something the task holds cannot be pickled; the message says what.
    """
    import cloudpickle  # noqa: PLC0415  (only process executors need it)

    module = sys.modules.get(type(task).__module__)
    if module is not None and not _importable(module.__name__):
        cloudpickle.register_pickle_by_value(module)
    buffer = io.BytesIO()
    try:
        with task.no_unpicklable_properties():
            _pickler(cloudpickle)(buffer, protocol=cloudpickle.DEFAULT_PROTOCOL).dump(
                task
            )
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise UnpicklableTaskError(repr(task), f"{type(exc).__name__}: {exc}") from exc
    return buffer.getvalue()


@functools.cache
def _pickler(cloudpickle: Any) -> type:
    """Return cloudpickle's pickler, made to keep the file names of code by value.

    cloudpickle 3.1 writes ``<dynamic-code>`` as the file of every function it
    pickles by value, so a notebook task's traceback from another process would lose
    ``Cell In[7]`` and the lines of the cell. The file name is put back here.
    """
    base = cloudpickle.Pickler
    reduce_code = base.dispatch_table[types.CodeType]

    def keep_file_name(code: types.CodeType) -> Any:
        rebuild, arguments = reduce_code(code)
        return rebuild, tuple(
            code.co_filename if argument == _NAMELESS_CODE else argument
            for argument in arguments
        )

    table = collections.ChainMap(
        {types.CodeType: keep_file_name}, *base.dispatch_table.maps
    )
    return type("NamedCodePickler", (base,), {"dispatch_table": table})


@functools.cache
def _importable(name: str) -> bool:
    """Return whether another process could import module ``name`` by name."""
    if name == "__main__":
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def execute(task: Task | bytes, reporter: Any = None, capture: str = "off") -> Outcome:
    """Run one task and return its outcome; never raises for the task's own errors.

    Outputs that already exist (a stale or forced rerun) stay at their paths until
    the new ones replace them; a failed, suspended or interrupted run puts them back,
    and a killed one is recovered by the next run (see :mod:`nbflow.core.journal`).
    ``capture`` is the capture mode (tee, capture or off) for what the task writes;
    a ``reporter`` also receives live snapshots of it (kind ``"output"``).
    """
    if isinstance(task, bytes):
        task = pickle.loads(task)  # noqa: S301  (bytes made by pack() in our own worker)
    assert isinstance(task, Task)  # noqa: S101  (narrowing for mypy)
    if capture == "off":
        return _execute(task, reporter)
    with capturing(task.task_id, capture, reporter) as output:
        outcome = _execute(task, reporter)
    if output is None:
        return outcome
    lines, delta = output.lines(), output.delta()
    return outcome._replace(output=lines, log=delta) if lines or delta else outcome


def _execute(task: Task, reporter: Any) -> Outcome:
    outputs = flatten(task.output())
    path = claim_path(task, outputs)
    if path is None:  # nothing to claim (no outputs on disk, or --no-lock)
        return _execute_claimed(task, reporter, outputs)
    with hold_claim(path, task, reporter) as done_elsewhere:  # never run twice here
        if done_elsewhere:
            return Outcome(task.task_id, "done")
        outcome = _execute_claimed(task, reporter, outputs)
        if outcome.status == "done":
            mark_completed(path)
        return outcome


def _execute_claimed(task: Task, reporter: Any, outputs: list[Any]) -> Outcome:
    """Run ``task``, claimed by this process (see :mod:`nbflow.core.claim`)."""
    task.__dict__["_reporter"] = reporter
    started = time.perf_counter()
    try:
        rerun = Rerun.begin(task, outputs) if outputs else None
    except OSError as exc:  # e.g. a read-only output folder: this task's failure
        task.__dict__.pop("_reporter", None)
        return _failure(task, exc, time.perf_counter() - started)
    replacing = REPLACING.set(rerun.replacing) if rerun else None
    try:
        new_deps = _run(task)
        if new_deps:
            _roll_back(rerun)
            refs = tuple(TaskRef.of(dep) for dep in new_deps)
            return Outcome(
                task.task_id,
                "suspended",
                new_deps=refs,
                elapsed=time.perf_counter() - started,
            )
        _check_outputs(task, outputs, rerun)
        if rerun:
            rerun.finish()
        task.on_success()
    except Exception as exc:  # noqa: BLE001  (the task's own error becomes its outcome)
        _roll_back(rerun)
        return _failure(task, exc, time.perf_counter() - started)
    except BaseException:  # interrupted: put the old outputs back, then stop
        _roll_back(rerun)
        raise
    finally:
        if replacing:
            REPLACING.reset(replacing)
        task.__dict__.pop("_reporter", None)
    return Outcome(task.task_id, "done", elapsed=time.perf_counter() - started)


def _roll_back(rerun: Rerun | None) -> None:
    """Put back the outputs a rerun replaced (a no-op for a first run)."""
    if rerun:
        rerun.rollback()


def _run(task: Task) -> list[Task]:
    """Call run(); drive a generator through its requirements; return missing ones."""
    result = task.run()
    if not isinstance(result, types.GeneratorType):
        return []
    sent: Any = None
    while True:
        try:
            requested = result.send(sent)
        except StopIteration:
            return []
        wanted = requested if isinstance(requested, DynamicRequirements) else None
        deps = wanted.flat_requirements if wanted else flatten(requested)
        for dep in deps:
            if not isinstance(dep, Task):
                raise DefinitionTypeError(
                    repr(task), "run", dep, "Tasks", generator_site(result)
                )
        complete = wanted.complete() if wanted else all(dep.complete() for dep in deps)
        if not complete:
            result.close()
            return deps
        sent = wanted.paths if wanted else getpaths(requested)


def _check_outputs(task: Task, outputs: list[Any], rerun: Rerun | None) -> None:
    """Raise :class:`OutputMissingError` for each output that run() did not produce.

    In a rerun, an output counts only if this run replaced it (a previous version
    still at the path does not).
    """
    journaled = rerun.missing() if rerun else ()
    checked = {entry.path for _, entry in rerun.entries} if rerun else set()
    missing = [
        str(out)
        for out in outputs
        if getattr(out, "path", None) not in checked and not out.exists()
    ]
    if journaled or missing:
        raise OutputMissingError(repr(task), (*journaled, *missing))


def _failure(task: Task, exc: Exception, elapsed: float) -> Outcome:
    exc, trace, full = explain_failure(task, exc)  # the output's path, user's frames
    try:
        explanation = task.on_failure(exc)
    except Exception as hook_error:  # noqa: BLE001  (reported alongside the original)
        explanation = f"on_failure() raised {hook_error!r}"
    error = f"{type(exc).__name__}: {exc}"
    if not explanation.startswith("Runtime error:"):
        error = f"{error}\n{explanation}"
    return Outcome(
        task.task_id,
        "failed",
        error=error,
        traceback=trace,
        exception=_picklable(exc),
        elapsed=elapsed,
        full_traceback=full,
    )


def _picklable(exc: BaseException) -> BaseException | None:
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301  (round trip of our own bytes)
    except Exception:  # noqa: BLE001  (any failure means: do not send it)
        return None
    return exc
