"""The scheduler host: the one thread that owns the server's Scheduler.

Theory of operation
-------------------
The server's scheduler is nbflow's pure :class:`~nbflow.core.scheduler.Scheduler`,
the same state machine the embedded worker drives. Because it has no clock, no
randomness and no I/O, the same events in the same order always give the same state,
notifications and actions. The server's durable state is therefore the **log of every
event it applied**, plus now and then a snapshot of the scheduler so a restart need not
replay everything: restarting loads the newest snapshot and replays the events after it.

Every request (an HTTP handler on tornado's thread, luigid's RPC, an admin action)
becomes a :meth:`SchedulerHost.call`: its events are queued for the host thread, which
takes the waiting calls in batches and, for each one,

1. stamps the events with the server's clock (clients' clocks are not trusted) and with
   the calling worker's id, and drops reports about tasks the worker no longer runs;
2. applies them with ``Scheduler.handle``;
3. appends the batch's events to the store and **commits**, then
4. answers each call, routes ``RunTask`` actions to the mailbox of the worker they are
   for, and publishes the notifications (the feed, then the subscribers, e.g. history).

Nothing is acknowledged before it is committed; a commit that fails stops the host (it
answers :class:`HostStoppedError` from then on): memory and disk must not disagree.

Workers: a call is a worker's heartbeat. Once a second the host thread feeds
``WorkerStopped`` for workers silent longer than ``worker_disconnect_delay`` (their
running tasks fail, and the retry policy decides what happens next), ``Tick`` when a
failed task's retry delay is over, and once a minute ``TasksPruned`` for finished tasks
unchanged for ``remove_delay`` seconds that nothing unfinished needs (luigid's
``remove_delay``; their runs stay in the history); all are logged like any event. After a restart,
each worker's first call lists what it really runs (``running``): tasks the scheduler
believed it ran but it does not are handed back to PENDING (a ``RunTask`` that was made
but never delivered before the crash).

Threads: the host thread alone touches the scheduler and the store's event log.
Callers block on a future; long polls (``wait``) wait on the mailbox's condition in the
caller's thread, never on the host thread.

Imports: stdlib, nbflow.core.*, nbflow.server.feed.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.core import wire
from nbflow.core.errors import NbflowError, UnknownEventError
from nbflow.core.events import (
    DependenciesAdded,
    Notify,
    ProgressReported,
    ResourcesDecreased,
    RunTask,
    Status,
    StatusMessageSet,
    TaskAdded,
    TaskFailed,
    TaskHandedBack,
    TasksDiscovered,
    TasksPruned,
    TaskSucceeded,
    Tick,
    TrackingUrlSet,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.scheduler import Scheduler
from nbflow.server.calls import (
    Answer,
    Call,
    EventRejectedError,
    HostStats,
    HostStoppedError,
    Read,
    Reply,
    WorkerInfo,
)
from nbflow.server.event_log import EventLog, MemoryEventLog
from nbflow.server.feed import DEFAULT_CAPACITY, NotificationFeed

if TYPE_CHECKING:
    from collections.abc import (
        Callable,
        Collection,
        Mapping,
        Sequence,
    )
    from concurrent.futures import Future

    from nbflow.core.events import Action, Notification, SchedulerEvent
    from nbflow.core.scheduler_node import TaskInfo

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Reports a worker sends about a task it runs; dropped when it no longer runs it.
_TASK_REPORTS = (
    TaskSucceeded,
    TaskFailed,
    DependenciesAdded,
    ProgressReported,
    StatusMessageSet,
    TrackingUrlSet,
    ResourcesDecreased,
    TaskHandedBack,
)
_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)
#: Calls applied (and committed) together at most.
_BATCH = 256
#: Batch durations kept for metrics until read.
_KEPT_TIMINGS = 10_000
#: Seconds between two prunings of finished tasks (with ``remove_delay``).
_PRUNE_EVERY = 60.0
#: Seconds between the host thread's checks of heartbeats and retry timers.
_TIMER = 1.0


class SchedulerHost:
    """Own a Scheduler on one thread; apply, persist and answer calls (see module doc)."""

    def __init__(
        self,
        store: EventLog | None = None,
        *,
        resources: Mapping[str, int] | None = None,
        worker_disconnect_delay: float = 60.0,
        snapshot_every: int = 50_000,
        clock: Callable[[], float] = time.time,
        timers: bool = True,
        remove_delay: float | None = None,
    ) -> None:
        self.store = store
        self.worker_disconnect_delay = worker_disconnect_delay
        self.snapshot_every = snapshot_every
        self.clock = clock
        #: feed heartbeat checks and retry ticks (off: only callers' events apply)
        self.timers = timers
        #: finished tasks unchanged this long (seconds) are pruned; None: never
        self.remove_delay = remove_delay
        self._next_prune = 0.0
        self.feed = NotificationFeed()
        self.stats = HostStats()
        self._resources = dict(resources or {})
        self._scheduler = Scheduler(resources=self._resources)
        self._queue: queue.Queue[Call | Read | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopped_because: str | None = "not started"
        self._subscribers: tuple[Callable[[Notification], None], ...] = ()
        self._replay_listeners: tuple[Callable[[Notification], None], ...] = ()
        self._mail: dict[str, list[RunTask]] = {}
        self._mail_changed = threading.Condition()
        self._last_seen: dict[str, float] = {}
        self._workers: dict[str, WorkerStarted] = {}
        self._confirmed: set[str] = set()
        self._position = 0
        self._since_snapshot = 0
        self._next_timer = 0.0

    # --- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        """Restore the state from the store, then start the host thread."""
        if self._thread is not None:
            return
        began = time.perf_counter()
        self._restore()
        self.stats.restore_seconds = time.perf_counter() - began
        now = self.clock()
        for worker_id in self._workers:  # a grace period to reconnect after a restart
            self._last_seen[worker_id] = now
        self._stopped_because = None
        self._thread = threading.Thread(
            target=self._serve, name="nbflow-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self, *, snapshot: bool = True) -> None:
        """Stop the host thread, keeping a snapshot of the scheduler for a fast start.

        ``snapshot=False`` stops as a crash would leave things: the next start
        replays the log (tests use it).
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join()
        if self._stopped_because is None:
            self._stopped_because = "stopped"
            if snapshot:
                self._snapshot()
        with self._mail_changed:
            self._mail_changed.notify_all()

    @property
    def running(self) -> bool:
        """Whether the host answers calls."""
        return self._stopped_because is None

    def subscribe(
        self,
        listener: Callable[[Notification], None],
        *,
        replayed: Callable[[Notification], None] | None = None,
    ) -> Callable[[], None]:
        """Call ``listener`` with each notification after its commit (host thread).

        ``replayed``, if given, receives the notifications the scheduler makes again
        while :meth:`start` restores it from the log (subscribe before starting): a
        history store catches up on what a crash kept it from writing.
        """
        self._subscribers = (*self._subscribers, listener)
        if replayed is not None:
            self._replay_listeners = (*self._replay_listeners, replayed)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not listener)

        return unsubscribe

    # --- calls (any thread) ---------------------------------------------------------

    def call(
        self,
        worker_id: str | None,
        events: Sequence[SchedulerEvent] = (),
        *,
        running: Collection[str] | None = None,
        since: int | None = None,
        wait: float = 0.0,
        echo: bool = False,
    ) -> Reply:
        """Apply ``events`` for ``worker_id`` (None: an administrator); see module doc.

        With ``echo`` (an administrator's call only), the events are applied exactly
        as given, as ``Scheduler.handle(*events)`` in-process would (their times
        kept, nothing checked or dropped), and ``Reply.applied`` holds every action
        they made: the scheduler's own tests run through the host this way.

        Raises
        ------
        EventRejectedError
            An event names an unknown task or does not belong to this worker: nothing
            of this call was applied.
        HostStoppedError
            The host is not running.
        """
        if worker_id is not None:
            self._last_seen[worker_id] = self.clock()
        reply = self._submit(Call(worker_id, events, running, since, echo=echo))
        if reply.actions or wait <= 0 or worker_id is None:
            return reply
        deadline = time.monotonic() + wait
        with self._mail_changed:
            while not self._mail.get(worker_id) and self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._mail_changed.wait(left)
            actions = tuple(self._mail.pop(worker_id, ()))
        notes = reply.notifications
        if since is not None:  # what happened while waiting
            newest = notes[-1].seq if notes else since
            notes = (*notes, *self._notes_for(worker_id, newest))
        return dataclasses.replace(reply, actions=actions, notifications=notes)

    def submit(
        self,
        worker_id: str | None,
        events: Sequence[SchedulerEvent] = (),
        *,
        running: Collection[str] | None = None,
        since: int | None = None,
    ) -> Future[Reply]:
        """Queue a call without waiting (:meth:`call` without ``wait``); its future.

        For callers that must not block a thread, such as the HTTP server's event
        loop (``asyncio.wrap_future``): the host thread answers the future.
        """
        if worker_id is not None:
            self._last_seen[worker_id] = self.clock()
        request = Call(worker_id, events, running, since)
        self._enqueue(request)
        return request.future

    def read(self, fn: Callable[[Scheduler], T]) -> T:
        """Run the read-only query ``fn`` on the host thread and return its result."""
        request = Read(fn)
        self._enqueue(request)
        return request.future.result()  # type: ignore[no-any-return]

    def workers(self) -> list[WorkerInfo]:
        """Return every worker the scheduler knows, with what it runs."""
        return self.read(self._worker_infos)

    def _submit(self, call: Call) -> Reply:
        self._enqueue(call)
        return call.future.result()

    def _enqueue(self, request: Call | Read) -> None:
        if self._stopped_because is not None:
            raise HostStoppedError(self._stopped_because)
        self._queue.put(request)

    # --- the host thread ------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=_TIMER)
            except queue.Empty:
                first = None if self._thread is None else Read(lambda _s: None)
            if first is None:
                self._fail_waiting("stopped")
                return
            batch = [first]
            while len(batch) < _BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # handled after this batch
                    break
                batch.append(more)
            try:
                self._run_batch(batch)
            except Exception as error:  # the store failed: stop, never diverge
                logger.exception("nbflow server: stopping the scheduler")
                self._stopped_because = f"{type(error).__name__}: {error}"
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(
                            HostStoppedError(self._stopped_because)
                        )
                self._fail_waiting(self._stopped_because)
                return

    def _fail_waiting(self, reason: str) -> None:
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return
            if request is not None:
                request.future.set_exception(HostStoppedError(reason))

    def _run_batch(self, batch: list[Call | Read]) -> None:
        began = time.perf_counter()
        logged: list[list[SchedulerEvent]] = []
        notes: list[Notification] = []
        answers: list[Answer] = []
        now = self.clock()
        if self.timers and now >= self._next_timer:
            self._next_timer = now + _TIMER
            self._apply(self._timer_events(now), logged, notes)
        for request in batch:
            if isinstance(request, Read):
                continue
            try:
                _check_types(request.events)
                events, dropped = (
                    (list(request.events), [])
                    if request.echo
                    else self._admit(request, now)
                )
            except (EventRejectedError, UnknownEventError) as error:
                request.future.set_exception(error)
                continue
            known = self._already_known(request, events)
            answer = Answer(request, dropped, known)
            answer.applied, answer.error = self._apply(events, logged, notes)
            answers.append(answer)
        if logged and self.store is not None:
            self._position = self.store.append([_encode_group(g) for g in logged])
            self._since_snapshot += sum(len(group) for group in logged)
        self._publish(notes)
        self._answer(answers, now)
        for request in batch:  # reads see the state after the batch's writes
            if isinstance(request, Read):
                self._answer_read(request)
        self._count(batch, logged, time.perf_counter() - began)
        if self._since_snapshot >= self.snapshot_every:
            self._snapshot()

    def _answer(self, answers: list[Answer], now: float) -> None:
        for answer in answers:
            if answer.error is not None:
                answer.call.future.set_exception(answer.error)
                continue
            reply = self._reply(answer.call, answer.dropped, answer.known, now)
            if answer.call.echo:
                reply = dataclasses.replace(reply, applied=tuple(answer.applied))
            answer.call.future.set_result(reply)

    def _count(self, batch: list[Call | Read], logged: list[Any], took: float) -> None:
        stats = self.stats
        stats.calls += sum(isinstance(r, Call) for r in batch)
        stats.events += sum(len(group) for group in logged)
        stats.batches += 1
        stats.last_batch_seconds = took
        if len(stats.batch_seconds) < _KEPT_TIMINGS:
            stats.batch_seconds.append(took)

    def _answer_read(self, request: Read) -> None:
        try:
            request.future.set_result(request.fn(self._scheduler))
        except Exception as error:  # noqa: BLE001  (a query's bug is its caller's error)
            request.future.set_exception(error)

    def _apply(
        self,
        events: list[SchedulerEvent],
        logged: list[list[SchedulerEvent]],
        notes: list[Notification],
    ) -> tuple[list[Action], NbflowError | None]:
        """Apply one call's events as one ``handle``, as the embedded worker does.

        The events are logged as one group whatever happens, so a replay repeats
        exactly this: an event the scheduler refuses raises there as it did here.
        """
        if not events:
            return [], None
        logged.append(events)
        actions, error = _handle(self._scheduler, events)
        for event in events:
            self._track(event)
        self._route(actions, notes)
        return actions, error

    def _track(self, event: SchedulerEvent) -> None:
        """Keep the host's own view of workers (also rebuilt on replay)."""
        if isinstance(event, WorkerStarted):
            self._workers[event.worker_id] = event
        elif isinstance(event, WorkerStopped):
            self._workers.pop(event.worker_id, None)
            self._last_seen.pop(event.worker_id, None)

    def _route(self, actions: list[Action], notes: list[Notification]) -> None:
        runs: list[RunTask] = []
        for action in actions:
            if isinstance(action, Notify):
                notes.append(action.notification)
            else:
                runs.append(action)
        if runs:
            with self._mail_changed:
                for run in runs:
                    self._mail.setdefault(run.worker_id, []).append(run)
                self._mail_changed.notify_all()

    def _publish(self, notes: list[Notification]) -> None:
        self.feed.extend(notes)
        for listener in self._subscribers:
            for note in notes:
                try:
                    listener(note)
                except Exception:  # the one sanctioned catch-all: detach the listener
                    logger.exception("nbflow server: a listener failed; detached")
                    self._subscribers = tuple(
                        s for s in self._subscribers if s is not listener
                    )
                    break

    # --- admitting a call's events --------------------------------------------------

    def _admit(self, call: Call, now: float) -> tuple[list[SchedulerEvent], list[str]]:
        worker_id = call.worker_id
        events: list[SchedulerEvent] = []
        dropped: list[str] = []
        known = {spec.task_id for e in call.events if isinstance(e, TasksDiscovered)
                 for spec in e.specs}  # fmt: skip
        for event in call.events:
            problem = self._problem(event, worker_id, known)
            if problem == "stale":
                dropped.append(wire.to_json(event).get("task_id", ""))
                continue
            if problem:
                raise EventRejectedError(repr(event)[:200], problem, _FIXES[problem])
            if isinstance(event, Tick):
                continue  # the server keeps time itself
            events.append(_stamped(event, worker_id, now))
        if worker_id is not None and call.running is not None:
            # a task the call reports on was running until just now: not lost
            reported = {e.task_id for e in events if isinstance(e, _TASK_REPORTS)}
            listed = {*call.running, *reported}
            events[:0] = self._reconcile(worker_id, listed, now)
            stops = [i for i, e in enumerate(events) if isinstance(e, WorkerStopped)]
            if stops:  # tasks handed to it that it never started go back, not fail
                events[stops[0] : stops[0]] = self._unstarted(worker_id, listed, now)
        return events, dropped

    def _problem(  # noqa: PLR0911  (one return per rule)
        self, event: SchedulerEvent, worker_id: str | None, known: set[str]
    ) -> str:
        scheduler = self._scheduler
        if isinstance(event, (WorkerStarted, WorkerStopped)):
            if worker_id is not None and event.worker_id != worker_id:
                return "other worker"
            return ""
        if isinstance(event, TasksDiscovered):
            for spec in event.specs:
                for dep in spec.deps:
                    if dep not in known and dep not in scheduler:
                        return "unknown dependency"
            return ""
        if isinstance(event, _TASK_REPORTS):
            task_id = event.task_id
            if task_id not in scheduler:
                return "unknown task"
            info = scheduler.task_info(task_id)
            if worker_id is not None and (
                info.status not in _RUNNING or info.worker_id != worker_id
            ):
                return "stale"
        return ""

    def _reconcile(
        self, worker_id: str, running: Collection[str], now: float
    ) -> list[SchedulerEvent]:
        if worker_id in self._confirmed:
            return []
        self._confirmed.add(worker_id)
        return self._unstarted(worker_id, running, now)

    def _unstarted(
        self, worker_id: str, running: Collection[str], now: float
    ) -> list[SchedulerEvent]:
        """Hand back the tasks the scheduler gave ``worker_id`` that it does not run.

        On a worker's first contact (tasks handed out just before a restart), and when
        it says it stops: a task dispatched to it in the moment it decided to stop
        (its last answer said "no work"; the task became ready just after) was never
        started, and goes back to PENDING for another worker instead of failing.
        """
        listed = set(running)
        return [
            TaskHandedBack(info.task_id, at=now)
            for info in self._scheduler.tasks()
            if info.status in _RUNNING
            and info.worker_id == worker_id
            and info.task_id not in listed
        ]

    def _timer_events(self, now: float) -> list[SchedulerEvent]:
        silent = [
            worker_id
            for worker_id, seen in list(self._last_seen.items())
            if now - seen > self.worker_disconnect_delay
        ]
        for worker_id in silent:
            logger.warning(
                "nbflow server: worker %s silent for more than %ss; its running "
                "tasks have failed",
                worker_id,
                self.worker_disconnect_delay,
            )
        events: list[SchedulerEvent] = [WorkerStopped(w, at=now) for w in silent]
        retry_at = self._scheduler.next_retry_at
        if retry_at is not None and retry_at <= now:
            events.append(Tick(now))
        if self.remove_delay is not None and now >= self._next_prune:
            self._next_prune = now + _PRUNE_EVERY
            events.append(TasksPruned(now - self.remove_delay, at=now))
        return events

    # --- answers --------------------------------------------------------------------

    def _already_known(self, call: Call, events: list[SchedulerEvent]) -> list[str]:
        """Ids of the tasks ``events`` add that the scheduler already had."""
        if call.since is None:
            return []
        scheduler = self._scheduler
        return [
            spec.task_id
            for event in events
            if isinstance(event, (TasksDiscovered, DependenciesAdded))
            for spec in event.specs
            if spec.task_id in scheduler
        ]

    def _reply(
        self, call: Call, dropped: list[str], known: list[str], now: float
    ) -> Reply:
        worker_id = call.worker_id
        if worker_id is None:
            return Reply(seq=self.feed.last, dropped=tuple(dropped))
        with self._mail_changed:
            actions = tuple(self._mail.pop(worker_id, ()))
        notes: tuple[Notification, ...] = ()
        if call.since is not None:
            # tasks the worker added that were there before: as the scheduler has them
            seq = self.feed.last
            present = [_as_added(self._scheduler.task_info(i), seq, now) for i in known]
            notes = (*self._notes_for(worker_id, call.since), *present)
        return Reply(
            actions=actions,
            notifications=notes,
            has_work=self._scheduler.has_work_for(worker_id),
            seq=self.feed.last,
            known_worker=worker_id in self._workers,
            dropped=tuple(dropped),
            cancel=self._scheduler.cancel_requested(worker_id),
        )

    def _notes_for(self, worker_id: str, since: int) -> list[Notification]:
        is_owner = self._scheduler.is_owner  # safe from a caller's thread

        def mine(note: Notification) -> bool:
            task_id = getattr(note, "task_id", None)
            return task_id is None or is_owner(task_id, worker_id)

        return self.feed.since(since, keep=mine)

    def _worker_infos(self, scheduler: Scheduler) -> list[WorkerInfo]:
        running: dict[str, list[str]] = {}
        # the nodes, not scheduler.tasks(): no snapshot of every task (0.6 s at 100,000)
        for node in scheduler.nodes_now():
            if node.status in _RUNNING and node.worker:
                running.setdefault(node.worker, []).append(node.id)
        return [
            WorkerInfo(
                worker_id,
                started.slots,
                started.assistant,
                self._last_seen.get(worker_id, 0.0),
                tuple(running.get(worker_id, ())),
                scheduler.cancel_requested(worker_id),
            )
            for worker_id, started in self._workers.items()
        ]

    # --- persistence ----------------------------------------------------------------

    def _restore(self) -> None:
        if self.store is None:
            return
        snapshot = self.store.latest_snapshot()
        if snapshot is not None:
            self._position, blob = snapshot
            state = pickle.loads(blob)  # noqa: S301  (our own database's snapshot)
            self._scheduler = state["scheduler"]
            self._workers = state["workers"]
        replayed: list[Notification] = []
        count = 0
        for position, encoded in self.store.events_after(self._position):
            made = len(replayed)
            group = _decode_group(encoded)
            self._apply(group, [], replayed)
            for listener in self._replay_listeners:
                for note in replayed[made:]:
                    listener(note)
            self._position = position
            count += len(group)
            if len(replayed) > 2 * DEFAULT_CAPACITY:
                del replayed[: len(replayed) - DEFAULT_CAPACITY]
        self.feed.extend(replayed[-DEFAULT_CAPACITY:])
        with self._mail_changed:
            self._mail.clear()  # replayed RunTasks were delivered before (or reconciled)
        self.stats.restored_events = count
        self._since_snapshot = count

    def _snapshot(self) -> None:
        if self.store is None or self._position == 0:
            return
        state = {
            "scheduler": self._scheduler,
            "workers": self._workers,
        }
        self.store.save_snapshot(self._position, pickle.dumps(state, protocol=5))
        self._since_snapshot = 0


_FIXES = {
    "other worker": "a worker may only announce or stop itself; send its own id",
    "unknown dependency": (
        "send every task's requirements in the same call or an earlier one"
    ),
    "unknown task": "add the task (TasksDiscovered) before reporting on it",
}


def _handle(
    scheduler: Scheduler, events: list[SchedulerEvent]
) -> tuple[list[Action], NbflowError | None]:
    """Apply events; one the scheduler refuses stops the rest (as in-process)."""
    try:
        return scheduler.handle(*events), None
    except NbflowError as error:
        logger.warning("nbflow server: the scheduler refused an event: %s", error)
        return [], error


def _check_types(events: Sequence[SchedulerEvent]) -> None:
    """Refuse what is not a scheduler event before it is applied or logged."""
    handled = Scheduler._HANDLERS  # noqa: SLF001  (the scheduler's own table)
    for event in events:
        if type(event) not in handled:
            known = tuple(kind.__name__ for kind in handled)
            raise UnknownEventError(repr(event), known)


#: The log's record of one call: its events, applied together.
_GROUP = "Handled"


def _encode_group(events: list[SchedulerEvent]) -> dict[str, Any]:
    return {"type": _GROUP, "events": [wire.to_json(event) for event in events]}


def _decode_group(encoded: dict[str, Any]) -> list[SchedulerEvent]:
    if encoded.get("type") != _GROUP:  # a single event
        return [wire.from_json(encoded)]
    return [wire.from_json(event) for event in encoded["events"]]


def _stamped(event: SchedulerEvent, worker_id: str | None, now: float) -> Any:
    changes: dict[str, Any] = {"at": now}
    if worker_id is not None and isinstance(event, TasksDiscovered):
        changes["worker_id"] = worker_id
    return dataclasses.replace(event, **changes)


def _as_added(info: TaskInfo, seq: int, now: float) -> TaskAdded:
    """Describe a task the scheduler already had as the notification of its adding."""
    return TaskAdded(
        seq,
        now,
        info.task_id,
        info.family,
        info.params,
        info.deps,
        info.status,
        info.complete_before,
        info.reason,
    )


__all__ = [
    "EventLog",
    "EventRejectedError",
    "HostStoppedError",
    "MemoryEventLog",
    "Reply",
    "SchedulerHost",
    "WorkerInfo",
]
