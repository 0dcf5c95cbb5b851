"""Pluggable completeness: decides which tasks are already done.

A :class:`CompletenessCheck` answers, for a batch of tasks, whether each is complete
and why. The worker asks it exactly once per task per build (Luigi asks up to three
times: its issue #2992), and tells it when a task has just succeeded (``record``), so a
check that keeps state beside outputs (code-aware fingerprints) can write it.

The default, :class:`ExistenceCheck`, is Luigi's rule: ``task.complete()``, which is
true when every output exists. With ``threads > 1`` it checks in parallel threads,
which pays off when outputs live on a slow filesystem.

Imports: stdlib, nbflow.core.task.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.core.task import Task


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one task is complete, why, and the error if the check itself failed."""

    complete: bool
    reason: str = ""
    error: BaseException | None = None
    traceback: str = ""


class CompletenessCheck(Protocol):
    """Decides completeness for the worker; one call per task per build."""

    def check(self, tasks: Sequence[Task]) -> list[Verdict]:
        """Return one verdict per task, in order; never raise for a task's error."""

    def record(self, task: Task) -> None:
        """Note that ``task`` has just run successfully."""


class ExistenceCheck:
    """Luigi's completeness: ``task.complete()`` (all outputs exist).

    Examples
    --------
    >>> from nbflow.core.task import Task
    >>> class NoOutputs(Task):
    ...     pass
    >>> ExistenceCheck().check([NoOutputs()])
    [Verdict(complete=False, reason='no outputs', error=None, traceback='')]
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def check(self, tasks: Sequence[Task]) -> list[Verdict]:
        """Return one verdict per task, checking in parallel threads if configured."""
        if self.threads > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(
                self.threads, thread_name_prefix="nbflow-check"
            ) as pool:
                return list(pool.map(_check_one, tasks))
        return [_check_one(task) for task in tasks]

    def record(self, task: Task) -> None:
        """Do nothing: existence needs no bookkeeping."""


_COMPLETE = Verdict(complete=True, reason="complete")
_MISSING = Verdict(complete=False, reason="output missing")
_NO_OUTPUTS = Verdict(complete=False, reason="no outputs")


def _check_one(task: Task) -> Verdict:
    try:
        if task.complete():
            return _COMPLETE
    except Exception as exc:  # noqa: BLE001  (becomes a scheduling error for this task)
        return Verdict(False, "complete() raised", exc, traceback.format_exc())
    if type(task).complete is _default_complete() and not task.output():
        return _NO_OUTPUTS
    return _MISSING


def _default_complete() -> object:
    from nbflow.core.task import Task  # noqa: PLC0415  (avoid an import cycle)

    return Task.complete
