"""Expanding ``requires()`` into the specs the scheduler needs.

Discovery walks the graph breadth first from the requested tasks, level by level, so
that a level's completeness checks can run together (in parallel threads when the
check is configured so) and no step ever recurses along the graph: a 10,000-deep chain
is as safe as a 10,000-wide fan-in. A task found complete is not expanded (its
requirements do not matter, as in Luigi). Each task is checked exactly once.

Drawings of a graph (``nbflow graph``, ``%nbflow graph``) want its whole shape, so a
builder made with ``expand_complete=True`` expands complete tasks too; their specs then
keep their requirements, and :attr:`Discovery.unneeded` names the incomplete tasks a
run would not run (everything that needs them is complete). :func:`stop_at_complete`
cuts such a drawing back to what a run's walk sees.

A cycle among the incomplete tasks is found with :mod:`graphlib`; the tasks on it are
marked broken with a :class:`~nbflow.core.errors.CyclicDependencyError` naming the cycle.

Two different tasks with the same id (the id's hash has only 40 bits) would be merged
silently, so discovery checks that a task id seen again belongs to the same task and
raises :class:`~nbflow.core.errors.TaskIdCollisionError` otherwise.

Imports: stdlib, nbflow.core.{completeness, diagnosis, errors, events, structure, task}.
"""

from __future__ import annotations

import graphlib
import json
import logging
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.diagnosis import user_traceback
from nbflow.core.errors import (
    CyclicDependencyError,
    DefinitionError,
    DefinitionTypeError,
    TaskIdCollisionError,
)
from nbflow.core.events import RetryPolicy, TaskSpec
from nbflow.core.structure import flatten
from nbflow.core.task import Event, Task, WrapperTask, check_targets

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.completeness import CompletenessCheck, Verdict

logger = logging.getLogger(__name__)


@dataclass
class Discovery:
    """The result of expanding some roots: specs in order, plus what went wrong."""

    specs: list[TaskSpec] = field(default_factory=list)
    #: task_id -> (error message, traceback) for tasks that could not be scheduled
    broken: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: task_id -> exception, for scheduling errors (complete()/requires() raised)
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    #: task_id -> why the completeness check decided as it did
    reasons: dict[str, str] = field(default_factory=dict)
    #: incomplete tasks a run would not run: only complete tasks need them (found
    #: only when complete tasks are expanded)
    unneeded: frozenset[str] = frozenset()


class GraphBuilder:
    """Expand tasks into :class:`TaskSpec` s, remembering every task it has seen.

    With ``expand_complete`` the requirements of complete tasks are expanded too (for
    drawings of the whole graph; a run never needs them).
    """

    def __init__(
        self,
        checker: CompletenessCheck,
        policy: RetryPolicy,
        *,
        expand_complete: bool = False,
        task_limit: int | None = None,
    ) -> None:
        self.checker = checker
        self.policy = policy
        self.expand_complete = expand_complete
        #: Tasks scheduled at most (Luigi's ``[worker] task_limit``); None: no limit.
        self.task_limit = task_limit
        #: Tasks taken for scheduling so far, across every discover() call
        self.scheduled = 0
        #: task_id -> Task, for every task discovered so far
        self.tasks: dict[str, Task] = {}

    def discover(self, roots: Iterable[Task]) -> Discovery:
        """Expand ``roots`` (and anything new below them) into specs."""
        result = Discovery()
        frontier = [task for task in _unique(roots) if self._is_new(task)]
        root_ids = [task.task_id for task in frontier]
        for task in frontier:
            self.tasks[task.task_id] = task
        deps_of: dict[str, list[str]] = {}
        complete: dict[str, bool] = {}
        wrappers: list[Task] = []
        while frontier:
            frontier = self._within_limit(frontier, result, deps_of, complete)
            verdicts = self.checker.check(frontier)
            next_level: list[Task] = []
            for task, verdict in zip(frontier, verdicts):
                result.reasons[task.task_id] = verdict.reason
                found = self._expand(task, verdict, result, wrappers)
                complete[task.task_id] = verdict.complete
                deps_of[task.task_id] = [dep.task_id for dep in found]
                for dep in found:
                    task.trigger_event(Event.DEPENDENCY_DISCOVERED, task, dep)
                    if self._is_new(dep):
                        self.tasks[dep.task_id] = dep
                        next_level.append(dep)
            frontier = next_level
        _settle_wrappers(wrappers, deps_of, complete, result.reasons)
        _break_cycles(deps_of, complete, result, self.tasks)
        if self.expand_complete:
            reached = set(_short_walk(root_ids, deps_of, complete))
            result.unneeded = frozenset(
                task_id
                for task_id in deps_of
                if not (task_id in reached or complete[task_id])
            )
        for task_id, deps in deps_of.items():
            spec = self._spec(self.tasks[task_id], deps, complete, result)
            result.specs.append(spec)
        return result

    def _within_limit(
        self,
        frontier: list[Task],
        result: Discovery,
        deps_of: dict[str, list[str]],
        complete: dict[str, bool],
    ) -> list[Task]:
        """Return the tasks of ``frontier`` the task limit lets through.

        The others are scheduling errors, neither checked nor expanded, so what
        needs them does not run (as in Luigi, whose worker stops adding tasks once
        it has ``task_limit`` of them).
        """
        limit = self.task_limit
        if limit is None or self.scheduled + len(frontier) <= limit:
            self.scheduled += len(frontier)
            return frontier
        kept = frontier[: max(0, limit - self.scheduled)]
        self.scheduled += len(kept)
        message = (
            f"not scheduled: this run reached its task limit of {limit} tasks. "
            "Fix: raise [worker] task_limit (--worker-task-limit), or remove it "
            "for no limit"
        )
        for task in frontier[len(kept) :]:
            logger.warning("%s: %s", task, message)
            result.broken[task.task_id] = (message, "")
            result.reasons[task.task_id] = message
            deps_of[task.task_id] = []
            complete[task.task_id] = False
        return kept

    def _is_new(self, task: Task) -> bool:
        """Return whether ``task`` is not known yet; raise if its id is taken.

        Raises
        ------
        TaskIdCollisionError
            Another task (other parameters, or another class) has the same id.
        """
        known = self.tasks.get(task.task_id)
        if known is None:
            return True
        if known is not task and _identity(known) != _identity(task):
            raise TaskIdCollisionError(task.task_id, repr(known), repr(task))
        return False

    def _expand(
        self, task: Task, verdict: Verdict, result: Discovery, wrappers: list[Task]
    ) -> list[Task]:
        """Return the requirements to explore below ``task`` (none if complete)."""
        if verdict.error is not None:
            error, trace = verdict.error, verdict.traceback
            message = f"{type(error).__name__} in complete(): {error}"
            if isinstance(error, DefinitionError):  # output() is wrong: point there
                message, trace = (
                    f"{type(error).__name__}: {error}",
                    user_traceback(error),
                )
            result.broken[task.task_id] = (message, trace)
            result.exceptions[task.task_id] = verdict.error
            task.trigger_event(Event.BROKEN_TASK, task, verdict.error)
            return []
        if verdict.complete:
            task.trigger_event(Event.DEPENDENCY_PRESENT, task)
            return self._below_complete(task, result) if self.expand_complete else []
        if getattr(task, "run", None) is None:
            task.trigger_event(Event.DEPENDENCY_MISSING, task)
            return []
        try:
            check_targets(task, flatten(task.output()))
            deps = task.deps()
        except Exception as exc:  # noqa: BLE001  (a scheduling error for this task only)
            trace = (
                user_traceback(exc)
                if isinstance(exc, DefinitionError)
                else traceback.format_exc()
            )
            result.broken[task.task_id] = (f"{type(exc).__name__}: {exc}", trace)
            result.exceptions[task.task_id] = exc
            task.trigger_event(Event.BROKEN_TASK, task, exc)
            return []
        if type(task).complete is WrapperTask.complete:
            wrappers.append(task)
        return deps

    def _below_complete(self, task: Task, result: Discovery) -> list[Task]:
        """Return a complete task's requirements, for a drawing of the whole graph.

        A complete task is never scheduled, so a ``requires()`` that raises does not
        break it: the drawing shows it without requirements, and its reason says why.
        """
        if getattr(task, "run", None) is None:
            return []
        try:
            return task.deps()
        except Exception as exc:  # noqa: BLE001  (kept in the reason: the task is complete)
            reason = result.reasons.get(task.task_id) or "complete"
            result.reasons[task.task_id] = (
                f"{reason} (requirements not shown: {type(exc).__name__}: {exc})"
            )
            return []

    def _spec(
        self, task: Task, deps: list[str], complete: dict[str, bool], result: Discovery
    ) -> TaskSpec:
        broken = result.broken.get(task.task_id)
        is_complete = complete[task.task_id] and broken is None
        params = tuple(task.to_str_params(only_public=True).items())
        if is_complete:  # never runs: scheduling hints do not matter
            reason = result.reasons.get(task.task_id, "")
            return TaskSpec(
                task.task_id,
                task.get_task_family(),
                params,
                deps=tuple(deps) if self.expand_complete else (),
                complete=True,
                reason=reason,
            )
        cls = type(task)
        batch_names = cls.batch_param_names()
        return TaskSpec(
            task_id=task.task_id,
            family=task.get_task_family(),
            params=params,
            deps=() if broken else tuple(deps),
            runnable=getattr(task, "run", None) is not None,
            priority=task.priority,
            resources=tuple(dict(task.resources or {}).items()),
            retry=_policy(task, self.policy),
            batch_key=_batch_key(task, batch_names) if batch_names else None,
            max_batch_size=task.max_batch_size,
            broken=broken[0] if broken else None,
            disabled=bool(task.disabled),
            reason=result.reasons.get(task.task_id, ""),
            private=cls.__module__ == "__main__",
        )


def _short_walk(
    roots: Iterable[str], deps_of: dict[str, list[str]], complete: dict[str, bool]
) -> list[str]:
    """Return the ids reached from ``roots`` without going below a complete task."""
    reached = dict.fromkeys(roots)
    stack = list(reached)
    while stack:
        task_id = stack.pop()
        if complete.get(task_id, False):
            continue
        for dep in deps_of.get(task_id, ()):
            if dep not in reached and dep in deps_of:
                reached[dep] = None
                stack.append(dep)
    return list(reached)


def _unique(tasks: Iterable[Any]) -> list[Task]:
    seen: dict[str, Task] = {}
    for task in flatten(list(tasks)):
        if not isinstance(task, Task):
            raise DefinitionTypeError("build", "tasks", task, "Task instances")
        known = seen.setdefault(task.task_id, task)
        if known is not task and _identity(known) != _identity(task):
            raise TaskIdCollisionError(task.task_id, repr(known), repr(task))
    return list(seen.values())


def _identity(task: Task) -> tuple[str, str, str, dict[str, str]]:
    """Return what makes two tasks one: class, family and significant parameters.

    The class counts by module and name, so a notebook cell that redefines it
    still makes the same task.
    """
    kind = type(task)
    params = task.to_str_params(only_significant=True, only_public=True)
    return kind.__module__, kind.__qualname__, task.get_task_family(), params


def _settle_wrappers(
    wrappers: list[Task],
    deps_of: dict[str, list[str]],
    complete: dict[str, bool],
    reasons: dict[str, str],
) -> None:
    """Mark each WrapperTask complete when all its requirements are, bottom-up."""
    for wrapper in reversed(wrappers):
        deps = deps_of[wrapper.task_id]
        if all(complete.get(dep, False) for dep in deps):
            complete[wrapper.task_id] = True
            reasons[wrapper.task_id] = "all requirements complete"


def _break_cycles(
    deps_of: dict[str, list[str]],
    complete: dict[str, bool],
    result: Discovery,
    tasks: dict[str, Task],
) -> None:
    graph = {
        task_id: deps for task_id, deps in deps_of.items() if not complete[task_id]
    }
    while True:
        try:
            graphlib.TopologicalSorter(graph).prepare()
        except graphlib.CycleError as exc:
            cycle = tuple(reversed(exc.args[1]))
            error = CyclicDependencyError(
                tuple(repr(tasks[task_id]) for task_id in cycle)
            )
            for task_id in set(cycle):
                result.broken[task_id] = (str(error), "")
                result.exceptions[task_id] = error
                graph[task_id] = []
            continue
        return


def _policy(task: Task, default: RetryPolicy) -> RetryPolicy:
    values = {
        "retry_count": task.retry_count,
        "disable_window": task.disable_window,
        "disable_hard_timeout": task.disable_hard_timeout,
    }
    overrides = {name: value for name, value in values.items() if value is not None}
    if not overrides:
        return default
    return RetryPolicy(
        retry_count=overrides.get("retry_count", default.retry_count),
        retry_delay=default.retry_delay,
        disable_window=overrides.get("disable_window", default.disable_window),
        disable_hard_timeout=overrides.get(
            "disable_hard_timeout", default.disable_hard_timeout
        ),
    )


def _batch_key(task: Task, batch_names: list[str]) -> str:
    fixed = {
        name: value
        for name, value in task.to_str_params().items()
        if name not in batch_names
    }
    return task.get_task_family() + json.dumps(fixed, sort_keys=True)
