"""The pure scheduler: ``handle(*events) -> list[Action]``.

Theory of operation
-------------------
The scheduler is a state machine with no threads, no clock, no randomness and no I/O.
A shell (the embedded worker loop, or the server's host thread) feeds it
SchedulerEvents and carries out the Actions it returns: ``RunTask`` (start a task on a
worker) and ``Notify`` (publish a notification on the event stream). Time only arrives
inside events (``at``). One table, ``Scheduler._HANDLERS``, gives each event type its
handler method; anything else raises ``UnknownEventError``. The same events in the
same order give the same state, notifications (same ``seq``) and actions, so the
server's durable state is the log of the events it applied; a pickled Scheduler (a
snapshot) resumes exactly where it stood.

States are Luigi's (:class:`~nbflow.core.events.Status`). Every legal move is one entry
of :data:`TRANSITIONS`; anything else raises ``InvalidTransitionError`` with the task's
story, because it means nbflow itself is wrong.

Invariants, kept by counters rather than scans, so that picking and finishing a task
cost O(log n) in the size of the graph:

- ``node.remaining`` is the number of the node's requirements that are not DONE;
- ``node.bad`` is the number of its requirements that are FAILED, DISABLED or
  UPSTREAM_*, and ``node.disabled_deps`` those of them that are (UPSTREAM_)DISABLED;
- a node is *ready* when it is PENDING, runnable, ``remaining == 0`` and ``bad == 0``;
  ready nodes are ``queued`` in :class:`~nbflow.core.scheduler_queue.ReadyQueues`
  (by priority, then first ready first);
- a node with ``bad > 0`` is UPSTREAM_DISABLED if any bad requirement is disabled,
  else UPSTREAM_FAILED; when the cause recovers (a retry), it becomes PENDING again.

Priorities propagate to requirements as in Luigi: a node's effective priority is the
maximum of its own and that of everything that depends on it. Resources have limits
(``resources=``; an unlisted resource has a limit of 1, as in Luigi); a ready node whose
resources are taken is parked on that resource until a running task gives it back.

Workers and owners. ``WorkerStarted(w, slots, assistant=)`` announces a worker (again
when its slots change). A task's *owners* are the workers that added it
(``TasksDiscovered(worker_id=w)``; the requirements a task yields belong to the worker
running it if the task has owners); a task added with ``worker_id=""`` (the embedded
worker) has none. A ready task goes only to a free owner, a free *assistant* (which
may run anything), or any free worker when it has no owners; a batch holds only
members its worker may run. Each free worker in turn takes its best eligible task
(priority, then discovery order) from the queues of
:mod:`~nbflow.core.scheduler_queue`; while no owned task is ready (always so when
embedded) the open queue alone is served, first ready first. Owners are never
dropped: the task of a worker that left waits for it to return, or for an assistant.

Adding a task again (luigid's rules; another worker's graph, or a rerun): the adding
worker becomes an owner and a higher priority is taken; a task found complete becomes
DONE unless it runs (its dependents are released as on success); an incomplete task
that FAILED, was CANCELLED or was DONE becomes PENDING at once (the dependents of a
DONE one wait for it again); others stay as they are. Requirements never change.

Administration (:mod:`~nbflow.core.scheduler_admin`): ``TaskHandedBack`` (RUNNING ->
PENDING, no failure counted), ``FailuresForgiven`` (FAILED -> PENDING),
``TaskReenabled`` (DISABLED or FAILED -> PENDING), ``TaskMarkedDone`` (not running ->
DONE), ``SchedulerPaused``/``SchedulerResumed`` (nothing is dispatched while paused;
``PauseChanged`` tells) and ``TasksPruned`` (``TasksRemoved`` tells). Status changes
carry ``cause`` naming the move (``"re-added"``, ``"marked-done"``, ...). An admin
event that does not fit the task's status changes nothing: it raced with the task.

Ownership: a Scheduler belongs to the single thread of its shell; it is not
thread-safe and never needs to be.

Imports: nbflow.core.{events, errors, scheduler_admin, scheduler_dispatch,
scheduler_node}.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from nbflow.core.errors import (
    InvalidTransitionError,
    UnknownEventError,
    UnknownTaskIdError,
)
from nbflow.core.events import (
    Action,
    DependenciesAdded,
    Notification,
    Notify,
    ProgressReported,
    ResourcesDecreased,
    RunBegan,
    RunEnded,
    RunFinished,
    RunStarted,
    RunTask,
    SchedulerEvent,
    Status,
    StatusMessageSet,
    TaskAdded,
    TaskFailed,
    TaskMessage,
    TaskProgressed,
    TasksDiscovered,
    TaskSpec,
    TaskStatusChanged,
    TaskSucceeded,
    TaskTrackingUrl,
    Tick,
    TrackingUrlSet,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.scheduler_admin import Administration
from nbflow.core.scheduler_dispatch import Dispatcher
from nbflow.core.scheduler_node import (
    BAD,
    DISABLED_LIKE,
    RUNNING_LIKE,
    TRANSITIONS,
    UNSTARTED,
    Move,
    Node,
    TaskInfo,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

# Luigi's status names (``luigi.scheduler.DONE``, ...), as the plain strings Luigi uses.
# SUSPENDED and UNKNOWN are luigid's: nbflow's scheduler never gives a task those states.
PENDING = Status.PENDING.value
FAILED = Status.FAILED.value
DONE = Status.DONE.value
RUNNING = Status.RUNNING.value
BATCH_RUNNING = Status.BATCH_RUNNING.value
SUSPENDED = "SUSPENDED"
UNKNOWN = "UNKNOWN"
DISABLED = Status.DISABLED.value


class SchedulerAPI(Protocol):
    """What every scheduler offers, embedded in-process or remote over HTTP."""

    def handle(self, *events: SchedulerEvent) -> list[Action]:
        """Apply events in order and return the actions they call for."""

    def status(self, task_id: str) -> Status:
        """Return a task's current status."""

    def task_info(self, task_id: str) -> TaskInfo:
        """Return a snapshot of one task."""

    def tasks(self) -> list[TaskInfo]:
        """Return snapshots of every task, in discovery order."""

    def has_work(self) -> bool:
        """Return whether a task is running or ready to run."""


class Scheduler(Administration):
    """Luigi's scheduler as a pure state machine (see the module's theory of operation).

    Examples
    --------
    >>> from nbflow.core.events import TaskSpec, TasksDiscovered, WorkerStarted
    >>> scheduler = Scheduler()
    >>> actions = scheduler.handle(
    ...     WorkerStarted("w", slots=1),
    ...     TasksDiscovered((TaskSpec("a", "A"), TaskSpec("b", "B", deps=("a",)))),
    ... )
    >>> [a for a in actions if isinstance(a, RunTask)]
    [RunTask(task_id='a', worker_id='w', batch=())]
    >>> [a for a in scheduler.handle(TaskSucceeded("a")) if isinstance(a, RunTask)]
    [RunTask(task_id='b', worker_id='w', batch=())]

    A task added by a worker runs only on that worker (or another that added it, or
    an assistant):

    >>> actions = scheduler.handle(
    ...     WorkerStarted("v", slots=1),
    ...     TasksDiscovered((TaskSpec("c", "C"),), worker_id="v"),
    ... )
    >>> [a for a in actions if isinstance(a, RunTask)]
    [RunTask(task_id='c', worker_id='v', batch=())]
    """

    def __init__(self, *, resources: Mapping[str, int] | None = None) -> None:
        self._nodes: dict[str, Node] = {}
        #: tasks by (family, status), kept by _add, _move and pruning
        self._counts: Counter[tuple[str, Status]] = Counter()
        self._dispatcher = Dispatcher(self._nodes, resources)
        self._ready = self._dispatcher.ready
        self._workers = self._dispatcher.workers
        self._retries: list[tuple[float, str]] = []
        self._order = itertools.count()
        self._seq = itertools.count(1)
        self._actions: list[Action] = []
        self._now = 0.0

    # --- snapshots --------------------------------------------------------------------

    _COUNTERS = ("_order", "_seq")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._COUNTERS:  # pickling itertools.count is deprecated
            value = next(state[name])
            setattr(self, name, itertools.count(value))
            state[name] = value
        state["_actions"] = []
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        for name in self._COUNTERS:
            state[name] = itertools.count(state[name])
        self.__dict__.update(state)

    # --- queries --------------------------------------------------------------------

    def status(self, task_id: str) -> Status:
        """Return a task's current status."""
        return self._node(task_id).status

    def task_info(self, task_id: str) -> TaskInfo:
        """Return a snapshot of one task."""
        return self._node(task_id).info()

    def tasks(self) -> list[TaskInfo]:
        """Return snapshots of every task, in discovery order."""
        return [node.info() for node in self._nodes.values()]

    def counts(self) -> dict[tuple[str, Status], int]:
        """Return the number of tasks by (family, status), kept as tasks move: O(1).

        Examples
        --------
        >>> from nbflow.core.events import TaskSpec, TasksDiscovered
        >>> scheduler = Scheduler()
        >>> _ = scheduler.handle(TasksDiscovered((TaskSpec("a", "A"),)))
        >>> scheduler.counts()
        {('A', <Status.PENDING: 'PENDING'>): 1}
        """
        return {key: count for key, count in self._counts.items() if count}

    def resource_use(self) -> dict[str, tuple[int, int]]:
        """Return (used, limit) of each resource configured or in use, by name.

        Examples
        --------
        >>> Scheduler(resources={"db": 2}).resource_use()
        {'db': (0, 2)}
        """
        return self._dispatcher.resource_use()

    def nodes_now(self) -> list[Node]:
        """Return the scheduler's nodes, in discovery order: a copy of the list, O(n) in C.

        The nodes are the live ones. For readers on another thread (the server's task
        listing): each field read is whole, but a node may change between two reads;
        take consistent snapshots with :meth:`task_info` on the scheduler's thread.
        """
        return list(self._nodes.values())

    def is_owner(self, task_id: str, worker_id: str) -> bool:
        """Return whether ``worker_id`` added ``task_id`` (False for unknown tasks).

        Safe from another thread: one dictionary and one set lookup.
        """
        node = self._nodes.get(task_id)
        return node is not None and bool(node.owners) and worker_id in node.owners

    def dependents(self, task_id: str) -> tuple[str, ...]:
        """Return the ids of the tasks that require ``task_id``."""
        return tuple(self._node(task_id).dependents)

    @property
    def ready_count(self) -> int:
        """The number of tasks ready to run (the queue's depth)."""
        return self._ready.count

    @property
    def running_count(self) -> int:
        """The number of runs in progress (a batch is one run)."""
        return self._workers.running

    def story(self, task_id: str) -> tuple[str, ...]:
        """Return the task's recent history, oldest first, as readable lines."""
        return self._node(task_id).story()

    def has_work(self) -> bool:
        """Return whether a task is running, or ready and able to get its resources."""
        return self._dispatcher.has_work()

    def has_work_for(self, worker_id: str) -> bool:
        """Return whether ``worker_id`` should keep asking for tasks.

        True while it runs something, while a ready task exists that it may run, or
        while it owns a PENDING task and something runs anywhere (that task may
        become ready when it ends). A paused scheduler still has that work.
        """
        return self._dispatcher.has_work_for(worker_id)

    def cancel_requested(self, worker_id: str) -> bool:
        """Return whether ``worker_id`` was asked to cancel its run and has not stopped."""
        return worker_id in self._workers.cancelling

    @property
    def paused(self) -> bool:
        """Whether dispatching is paused (``SchedulerPaused``)."""
        return self._dispatcher.paused

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def next_retry_at(self) -> float | None:
        """When the earliest failed task may be retried, if any."""
        while self._retries:
            at, task_id = self._retries[0]
            node = self._nodes.get(task_id)
            if node is not None and (node.status, node.retry_at) == (Status.FAILED, at):
                return at
            heapq.heappop(self._retries)
        return None

    # --- the one entry point --------------------------------------------------------

    def handle(self, *events: SchedulerEvent) -> list[Action]:
        """Apply ``events`` in order; return the actions they call for."""
        actions: list[Action] = []
        self._actions = actions
        for event in events:
            handler = self._HANDLERS.get(type(event))
            if handler is None:
                known = tuple(kind.__name__ for kind in self._HANDLERS)
                raise UnknownEventError(repr(event), known)
            self._now = max(self._now, getattr(event, "at", 0.0))
            handler(self, event)
        self._dispatcher.dispatch(self._start)
        self._actions = []
        return actions

    # --- events: one handler each (the _on_* methods; _HANDLERS is the table) ----

    def _on_worker_started(self, event: WorkerStarted) -> None:
        self._workers.start(event.worker_id, event.slots, assistant=event.assistant)

    def _on_tasks_discovered(self, event: TasksDiscovered) -> None:
        self._add(event.specs, event.worker_id)

    def _on_dependencies_added(self, event: DependenciesAdded) -> None:
        node = self._node(event.task_id)
        # Owned work stays owned: its new requirements belong to the worker running it.
        self._add(event.specs, (node.worker or "") if node.owners else "")
        self._suspend(node, event.deps)

    def _on_progress_reported(self, event: ProgressReported) -> None:
        self._node(event.task_id).progress = event.percentage
        self._notify(
            TaskProgressed(next(self._seq), self._now, event.task_id, event.percentage)
        )

    def _on_status_message_set(self, event: StatusMessageSet) -> None:
        self._node(event.task_id).message = event.message
        self._notify(
            TaskMessage(next(self._seq), self._now, event.task_id, event.message)
        )

    def _on_tracking_url_set(self, event: TrackingUrlSet) -> None:
        self._node(event.task_id).tracking_url = event.url
        self._notify(
            TaskTrackingUrl(next(self._seq), self._now, event.task_id, event.url)
        )

    def _on_run_began(self, event: RunBegan) -> None:
        roots, total = event.roots, len(self._nodes)
        self._notify(RunStarted(next(self._seq), self._now, event.run_id, roots, total))

    def _on_run_ended(self, event: RunEnded) -> None:
        counts = Counter(node.status.value for node in self._nodes.values())
        totals = tuple(sorted(counts.items()))
        self._notify(
            RunFinished(next(self._seq), self._now, event.run_id, event.state, totals)
        )

    # --- graph ----------------------------------------------------------------------

    def _add(self, specs: tuple[TaskSpec, ...], worker_id: str) -> None:
        fresh: list[TaskSpec] = []
        for spec in specs:
            known = self._nodes.get(spec.task_id)
            if known is None:
                fresh.append(spec)
            else:
                self._readd(known, spec, worker_id)
        for spec in fresh:
            node = Node(spec, next(self._order), self._now, worker_id)
            self._nodes[spec.task_id] = node
            self._counts[node.family, node.status] += 1
            if node.owners and node.status is Status.PENDING:
                self._workers.count_pending(node.owners, 1)
        for spec in fresh:
            node = self._nodes[spec.task_id]
            self._wire(node, spec.deps)
            status = node.status
            self._notify(
                TaskAdded(
                    next(self._seq),
                    self._now,
                    node.id,
                    node.family,
                    node.params,
                    spec.deps,
                    status,
                    node.complete_before,
                    spec.reason,
                )
            )
            if (spec.broken or spec.disabled) and not spec.complete:
                self._mark_broken(node, spec)
            elif node.is_ready():
                self._push_ready(node)
        for spec in fresh:
            if spec.priority:
                self._raise_priority(spec.deps, self._nodes[spec.task_id].priority)

    def _wire(self, node: Node, deps: tuple[str, ...]) -> None:
        for dep_id in deps:
            dep = self._nodes.get(dep_id)
            if dep is None:
                raise UnknownTaskIdError(dep_id, f"a requirement of {node.id}")
            if dep_id in node.deps:
                continue
            if not node.deps:
                node.deps = {}
            node.deps[dep_id] = None  # a dict from here on
            if not dep.dependents:
                dep.dependents = []
            dep.dependents.append(node.id)  # a list now
            if dep.status is not Status.DONE:
                node.remaining += 1
            if dep.status in BAD:
                node.bad += 1
                node.disabled_deps += dep.status in DISABLED_LIKE
        if node.bad and node.status is Status.PENDING:
            self._reconsider(node, cause=next(reversed(node.deps)))
            self._spread(node)

    def _mark_broken(self, node: Node, spec: TaskSpec) -> None:
        node.error = spec.broken or "disabled"
        self._move(
            node, Move.SWITCH_OFF if spec.disabled else Move.BREAK, error=node.error
        )
        self._spread(node)

    def _raise_priority(self, deps: Iterable[str], priority: float) -> None:
        stack = [(dep_id, priority) for dep_id in deps]
        while stack:
            dep_id, value = stack.pop()
            node = self._nodes[dep_id]
            if node.priority >= value:
                continue
            node.priority = value
            if node.queued:
                self._ready.enqueue(node)
            stack.extend((grand, value) for grand in node.deps)

    # --- moves ----------------------------------------------------------------------

    def _move(self, node: Node, move: Move, **details: Any) -> None:
        previous = node.status
        try:
            node.status = TRANSITIONS[previous, move]
        except KeyError:
            raise InvalidTransitionError(
                node.id, str(previous), move.value, node.story()
            ) from None
        counts = self._counts
        counts[node.family, previous] -= 1
        counts[node.family, node.status] += 1
        node.changed_at = self._now
        if node.owners and (previous is Status.PENDING) != (
            node.status is Status.PENDING
        ):
            delta = 1 if node.status is Status.PENDING else -1
            self._workers.count_pending(node.owners, delta)
        node.log(self._now, move.value, node.status)
        self._notify(
            TaskStatusChanged(
                next(self._seq), self._now, node.id, node.status, previous, **details
            )
        )

    def _on_task_succeeded(self, event: TaskSucceeded) -> None:
        node = self._node(event.task_id)
        self._dispatcher.end(node)
        self._move(node, Move.SUCCEED, worker_id=node.worker or "")
        node.progress = 100.0 if node.progress is not None else None
        self._release_dependents(node)

    def _release_dependents(self, node: Node) -> None:
        """Count a node that just became DONE off its dependents' ``remaining``."""
        for dependent_id in node.dependents:
            dependent = self._nodes[dependent_id]
            dependent.remaining -= 1
            if dependent.is_ready():
                self._push_ready(dependent)

    def _on_task_failed(self, event: TaskFailed) -> None:
        node = self._node(event.task_id)
        self._dispatcher.end(node)
        node.error, node.traceback = event.error, event.traceback
        if event.kind == "cancelled":  # stopped, not failed: no retry, blocks nothing
            self._move(
                node, Move.CANCEL, worker_id=node.worker or "", error=event.error
            )
            return
        window_start = event.at - node.retry.disable_window
        node.failures = [t for t in node.failures if t > window_start] + [event.at]
        if node.first_failure_at is None:
            node.first_failure_at = event.at
        move = Move.DISABLE if node.excessive_failures(event.at) else Move.FAIL
        self._move(
            node,
            move,
            worker_id=node.worker or "",
            error=event.error,
            traceback=event.traceback,
        )
        if move is Move.FAIL:
            node.retry_at = event.at + node.retry.retry_delay
            heapq.heappush(self._retries, (node.retry_at, node.id))
        self._spread(node)

    def _suspend(self, node: Node, deps: tuple[str, ...]) -> None:
        self._dispatcher.end(node)
        self._move(node, Move.SUSPEND)
        self._wire(node, deps)
        self._raise_priority(deps, node.priority)
        if node.is_ready():
            self._push_ready(node)

    def _on_tick(self, event: Tick) -> None:
        while self._retries and self._retries[0][0] <= event.at:
            at, task_id = heapq.heappop(self._retries)
            node = self._nodes.get(task_id)
            if node is None or node.status is not Status.FAILED or node.retry_at != at:
                continue
            node.retry_at = None
            self._move(node, Move.RETRY)
            self._spread(node)
            if node.is_ready():
                self._push_ready(node)

    def _spread(self, origin: Node) -> None:
        """Announce a node's change of badness to everything downstream of it."""
        stack = [origin]
        while stack:
            node = stack.pop()
            bad, disabled = node.status in BAD, node.status in DISABLED_LIKE
            if bad == node.was_bad and disabled == node.was_disabled:
                continue
            delta_bad, delta_disabled = bad - node.was_bad, disabled - node.was_disabled
            node.was_bad, node.was_disabled = bad, disabled
            for dependent_id in node.dependents:
                dependent = self._nodes[dependent_id]
                dependent.bad += delta_bad
                dependent.disabled_deps += delta_disabled
                self._reconsider(dependent, cause=node.id)
                stack.append(dependent)

    def _reconsider(self, node: Node, cause: str) -> None:
        """Give a PENDING/UPSTREAM_* node the status its requirements imply."""
        if node.status not in UNSTARTED:
            return
        if node.bad == 0:
            if node.status is not Status.PENDING:
                self._move(node, Move.RECOVER, cause=cause)
                if node.is_ready():
                    self._push_ready(node)
            return
        wanted = (
            Status.UPSTREAM_DISABLED if node.disabled_deps else Status.UPSTREAM_FAILED
        )
        if node.status is not wanted:
            self._ready.remove(node)
            move = Move.UPSTREAM_DISABLE if node.disabled_deps else Move.UPSTREAM_FAIL
            self._move(node, move, cause=cause)

    # --- dispatch -------------------------------------------------------------------

    def _push_ready(self, node: Node) -> None:
        if not node.queued:
            self._ready.push(node)

    def _start(self, node: Node, worker_id: str, batch: tuple[str, ...]) -> None:
        """Move a run's nodes to RUNNING (the dispatcher booked the slot) and run it."""
        move = Move.BATCH if batch else Move.DISPATCH
        for member_id in batch or (node.id,):
            self._move(self._nodes[member_id], move, worker_id=worker_id)
        self._actions.append(RunTask(node.id, worker_id, batch))

    def _on_resources_decreased(self, event: ResourcesDecreased) -> None:
        self._dispatcher.decrease(self._node(event.task_id), event.amounts)

    def _on_worker_stopped(self, event: WorkerStopped) -> None:
        for task_id in list(self._workers.running_on.get(event.worker_id, ())):
            for member_id in self._nodes[task_id].batch or (task_id,):
                member = self._nodes.get(member_id)
                if member is None or member.status not in RUNNING_LIKE:
                    continue  # that member of the batch has already ended
                self._on_task_failed(
                    TaskFailed(
                        member_id, "worker stopped", at=self._now, kind="process"
                    )
                )
        self._workers.stop(event.worker_id)

    # --- plumbing -------------------------------------------------------------------

    def _node(self, task_id: str) -> Node:
        try:
            return self._nodes[task_id]
        except KeyError:
            raise UnknownTaskIdError(task_id, "this scheduler") from None

    def _notify(self, notification: Notification) -> None:
        self._actions.append(Notify(notification))

    #: The one dispatch table: event type (exactly) -> the method that applies it.
    _HANDLERS: ClassVar[dict[type, Callable[[Scheduler, Any], None]]] = {
        WorkerStarted: _on_worker_started,
        WorkerStopped: _on_worker_stopped,
        TasksDiscovered: _on_tasks_discovered,
        TaskSucceeded: _on_task_succeeded,
        TaskFailed: _on_task_failed,
        DependenciesAdded: _on_dependencies_added,
        ProgressReported: _on_progress_reported,
        StatusMessageSet: _on_status_message_set,
        TrackingUrlSet: _on_tracking_url_set,
        ResourcesDecreased: _on_resources_decreased,
        RunBegan: _on_run_began,
        RunEnded: _on_run_ended,
        Tick: _on_tick,
        **Administration.HANDLERS,
    }


__all__ = [
    "BATCH_RUNNING",
    "DISABLED",
    "DONE",
    "FAILED",
    "PENDING",
    "RUNNING",
    "SUSPENDED",
    "TRANSITIONS",
    "UNKNOWN",
    "Scheduler",
    "SchedulerAPI",
]
