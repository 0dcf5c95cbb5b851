"""The scheduler's moves outside a task's own run: adding it again, administration.

:class:`Administration` is mixed into :class:`~nbflow.core.scheduler.Scheduler`, whose
theory of operation states the rules: luigid's for a task added again (``_readd``),
and the handlers of ``TaskHandedBack``, ``FailuresForgiven``, ``TaskReenabled``,
``TaskMarkedDone``, ``SchedulerPaused``, ``SchedulerResumed``, ``TasksPruned`` and
``RunCancelRequested``. Its
methods see the scheduler through :class:`SchedulerCore`, the part of it they use.

Imports: nbflow.core.{events, scheduler_dispatch, scheduler_node, scheduler_queue}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from nbflow.core.events import (
    FailuresForgiven,
    PauseChanged,
    RunCancelling,
    RunCancelRequested,
    SchedulerPaused,
    SchedulerResumed,
    Status,
    TaskHandedBack,
    TaskMarkedDone,
    TaskReenabled,
    TasksPruned,
    TasksRemoved,
)
from nbflow.core.scheduler_node import (
    BAD,
    CLOSABLE,
    REOPENABLE,
    RUNNING_LIKE,
    Move,
)

if TYPE_CHECKING:
    import itertools
    from collections import Counter
    from collections.abc import Callable, Iterable

    from nbflow.core.events import Notification, TaskSpec
    from nbflow.core.scheduler_dispatch import Dispatcher, Workers
    from nbflow.core.scheduler_node import Node
    from nbflow.core.scheduler_queue import ReadyQueues

#: What ``TasksPruned`` may forget.
_PRUNABLE = frozenset({Status.DONE, Status.DISABLED, Status.FAILED})


class SchedulerCore(Protocol):
    """The part of the Scheduler that :class:`Administration`'s methods use."""

    _nodes: dict[str, Node]
    _counts: Counter[tuple[str, Status]]
    _dispatcher: Dispatcher
    _ready: ReadyQueues
    _workers: Workers
    _seq: itertools.count[int]
    _now: float

    def _node(self, task_id: str) -> Node: ...
    def _move(self, node: Node, move: Move, **details: Any) -> None: ...
    def _spread(self, origin: Node) -> None: ...
    def _reconsider(self, node: Node, cause: str) -> None: ...
    def _release_dependents(self, node: Node) -> None: ...
    def _raise_priority(self, deps: Iterable[str], priority: float) -> None: ...
    def _push_ready(self, node: Node) -> None: ...
    def _notify(self, notification: Notification) -> None: ...
    def _close(self, node: Node, move: Move) -> None: ...
    def _reopen(self, node: Node, move: Move) -> None: ...
    def _set_paused(self, *, paused: bool) -> None: ...


class Administration:
    """Adding tasks again and the administration's events (mixed into Scheduler)."""

    def _readd(self: SchedulerCore, node: Node, spec: TaskSpec, worker_id: str) -> None:
        """Apply luigid's rules to a task added again (see the theory of operation)."""
        if worker_id and spec.runnable and worker_id not in node.owners:
            if node.status is Status.PENDING:
                self._workers.count_pending((worker_id,), 1)
            self._ready.add_owner(node, worker_id)
        if spec.priority > node.priority:
            self._raise_priority((node.id,), spec.priority)
        if spec.runnable:
            node.runnable = True
        if spec.complete:
            if node.status in CLOSABLE:
                self._close(node, Move.FOUND_COMPLETE)
        elif node.status in REOPENABLE:
            self._reopen(node, Move.READD)
        elif node.is_ready() and not node.queued:
            self._push_ready(node)  # it became runnable

    def _close(self: SchedulerCore, node: Node, move: Move) -> None:
        """Make a task that is not running DONE, releasing its dependents."""
        self._ready.remove(node)
        node.retry_at = None
        self._move(node, move, cause=move.value)
        self._release_dependents(node)
        self._spread(node)

    def _reopen(self: SchedulerCore, node: Node, move: Move) -> None:
        """Make a FAILED, DISABLED, DONE or CANCELLED task PENDING (or UPSTREAM_*)."""
        was_done = node.status is Status.DONE
        node.retry_at = None
        self._move(node, move, cause=move.value)
        if was_done:  # its dependents wait for it again
            for dependent_id in node.dependents:
                dependent = self._nodes[dependent_id]
                dependent.remaining += 1
                self._ready.remove(dependent)
        if node.bad:
            cause = next(dep for dep in node.deps if self._nodes[dep].status in BAD)
            self._reconsider(node, cause=cause)
        self._spread(node)
        if node.is_ready():
            self._push_ready(node)

    def _on_task_handed_back(self: SchedulerCore, event: TaskHandedBack) -> None:
        node = self._node(event.task_id)
        if node.status not in RUNNING_LIKE:
            return  # it ended meanwhile
        leader = self._nodes.get(node.leader, node) if node.leader else node
        self._dispatcher.end(leader)
        for member_id in leader.batch or (leader.id,):
            member = self._nodes.get(member_id)
            if member is not None and member.status in RUNNING_LIKE:
                self._move(member, Move.HAND_BACK, cause=Move.HAND_BACK.value)
                if member.is_ready():
                    self._push_ready(member)

    def _on_failures_forgiven(self: SchedulerCore, event: FailuresForgiven) -> None:
        node = self._node(event.task_id)
        if node.status is Status.FAILED:
            node.failures, node.first_failure_at = (), None
            self._reopen(node, Move.FORGIVE)

    def _on_task_reenabled(self: SchedulerCore, event: TaskReenabled) -> None:
        node = self._node(event.task_id)
        if node.status in {Status.DISABLED, Status.FAILED}:
            node.failures, node.first_failure_at = (), None
            self._reopen(node, Move.REENABLE)

    def _on_task_marked_done(self: SchedulerCore, event: TaskMarkedDone) -> None:
        node = self._node(event.task_id)
        if node.status in CLOSABLE:
            self._close(node, Move.MARK_DONE)

    def _on_scheduler_paused(self: SchedulerCore, event: SchedulerPaused) -> None:
        del event  # only its time matters, and handle() took it
        self._set_paused(paused=True)

    def _on_scheduler_resumed(self: SchedulerCore, event: SchedulerResumed) -> None:
        del event
        self._set_paused(paused=False)

    def _set_paused(self: SchedulerCore, *, paused: bool) -> None:
        if self._dispatcher.paused is not paused:
            self._dispatcher.paused = paused
            self._notify(PauseChanged(next(self._seq), self._now, paused))

    def _on_run_cancel_requested(
        self: SchedulerCore, event: RunCancelRequested
    ) -> None:
        worker_id, workers = event.worker_id, self._workers
        if worker_id not in workers.cancelling and workers.cancel(worker_id):
            self._notify(RunCancelling(next(self._seq), self._now, worker_id))

    def _on_tasks_pruned(self: SchedulerCore, event: TasksPruned) -> None:
        nodes = self._nodes
        doomed = {  # candidates, until the loop below keeps some
            task_id
            for task_id, node in nodes.items()
            if node.status in _PRUNABLE and node.changed_at < event.before
        }
        # Keep whatever a kept task depends on, so no kept task refers to a lost one.
        kept = [t for t in doomed if any(d not in doomed for d in nodes[t].dependents)]
        while kept:
            task_id = kept.pop()
            if task_id in doomed:
                doomed.discard(task_id)
                kept.extend(nodes[task_id].deps)
        if not doomed:
            return
        removed = tuple(task_id for task_id in nodes if task_id in doomed)
        touched = {d for t in removed for d in nodes[t].deps if d not in doomed}
        for task_id in removed:
            node = nodes.pop(task_id)
            self._counts[node.family, node.status] -= 1
        for dep_id in touched:
            dep = nodes[dep_id]
            dep.dependents = [d for d in dep.dependents if d not in doomed] or ()
        self._notify(TasksRemoved(next(self._seq), self._now, removed))

    #: The administration's handlers, by event type (part of Scheduler._HANDLERS).
    HANDLERS: ClassVar[dict[type, Callable[[Any, Any], None]]] = {
        TaskHandedBack: _on_task_handed_back,
        FailuresForgiven: _on_failures_forgiven,
        TaskReenabled: _on_task_reenabled,
        TaskMarkedDone: _on_task_marked_done,
        SchedulerPaused: _on_scheduler_paused,
        SchedulerResumed: _on_scheduler_resumed,
        TasksPruned: _on_tasks_pruned,
        RunCancelRequested: _on_run_cancel_requested,
    }
