"""Builders for tests: task specs and graphs for the pure scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.core.events import (
    Action,
    Notify,
    RetryPolicy,
    RunTask,
    TasksDiscovered,
    TaskSpec,
    TaskStatusChanged,
    WorkerStarted,
)
from tests.hosted import make_scheduler

if TYPE_CHECKING:
    from nbflow.core.scheduler import Scheduler


def spec(task_id: str, *deps: str, **options: Any) -> TaskSpec:
    """Return a TaskSpec with family = id upper-cased."""
    return TaskSpec(task_id, task_id.upper(), deps=tuple(deps), **options)


def graph_of(**edges: list[str]) -> TasksDiscovered:
    """Return a TasksDiscovered for ``name=[deps]``; deps not named get no deps."""
    names = dict.fromkeys([dep for deps in edges.values() for dep in deps])
    names.update(dict.fromkeys(edges))
    return TasksDiscovered(tuple(spec(name, *edges.get(name, [])) for name in names))


def started(
    *events: Any, slots: int = 1, **options: Any
) -> tuple[Scheduler, list[Action]]:
    """Return a scheduler with one worker "w" of ``slots`` and the first actions."""
    scheduler = make_scheduler(**options)
    actions = scheduler.handle(WorkerStarted("w", slots), *events)
    return scheduler, actions


def runs(actions: list[Action]) -> list[str]:
    """Return the ids of the RunTask actions."""
    return [a.task_id for a in actions if isinstance(a, RunTask)]


def changes(actions: list[Action]) -> list[tuple[str, str]]:
    """Return (task_id, new status) for every status change notified."""
    return [
        (a.notification.task_id, a.notification.status.value)
        for a in actions
        if isinstance(a, Notify) and isinstance(a.notification, TaskStatusChanged)
    ]


NO_RETRY = RetryPolicy(retry_count=1)
