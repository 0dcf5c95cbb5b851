"""The worker: the core's only imperative shell around the pure scheduler.

Theory of operation
-------------------
``add(task)`` expands the graph (:mod:`nbflow.core.graph`) and feeds the specs to the
scheduler. ``run()`` registers the worker's slots, then loops: carry out the actions the
scheduler returns (submit ``RunTask`` to the executor, publish ``Notify`` on the event
stream), wait for the next message in the inbox (a finished run, or a runtime report
such as progress), turn it into scheduler events, repeat, until nothing is running and
nothing is ready.

Threads: the loop owns the scheduler, the graph builder and ``_inflight``. Executor
threads and the process bridge only put messages on ``_inbox`` (a thread-safe queue);
they never touch the scheduler. Listeners are called from the loop's thread.

Luigi's event handlers (``Task.event_handler``) for START, SUCCESS, FAILURE,
PROCESS_FAILURE, TIMEOUT and PROCESSING_TIME run here, in the worker's process, whatever
executor ran the task. PROGRESS handlers run where the task runs.

Imports: stdlib, nbflow.core.*.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import queue
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.completeness import CompletenessCheck, ExistenceCheck
from nbflow.core.errors import NbflowError, TaskFailedError
from nbflow.core.events import (
    Action,
    DependenciesAdded,
    Notify,
    ProgressReported,
    ResourcesDecreased,
    RetryPolicy,
    RunBegan,
    RunEnded,
    RunTask,
    SchedulerEvent,
    StatusMessageSet,
    TaskFailed,
    TasksDiscovered,
    TaskSucceeded,
    Tick,
    TrackingUrlSet,
    WorkerStarted,
)
from nbflow.core.execution import Outcome, QueueReporter, TaskRef, execute, pack
from nbflow.core.executor import SyncExecutor, is_in_process, make_executor
from nbflow.core.graph import Discovery, GraphBuilder
from nbflow.core.registry import REGISTRY
from nbflow.core.scheduler import Scheduler
from nbflow.core.stream import EventStream
from nbflow.core.task import Event, Task

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from concurrent.futures import Executor, Future

    from nbflow.core.events import Listener


_RUN_IDS = itertools.count(1)


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs tasks."""

    #: Tasks run at once.
    workers: int = 1
    #: "auto" (sync for one worker, threads for more), "sync", "threads",
    #: "processes", or the name of an installed executor plugin.
    executor: str = "auto"
    #: Wait for failed tasks' retry delay and run them again, instead of stopping.
    keep_alive: bool = False
    #: Threads used for completeness checks (Luigi's parallel_scheduling).
    check_threads: int = 1
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    resources: Mapping[str, int] = field(default_factory=dict)
    worker_id: str = ""


@dataclass
class _Running:
    task: Task
    members: tuple[str, ...]
    started: float
    deadline: float | None
    token: int


class Worker:
    """Runs tasks on an executor for a scheduler, publishing every change on a stream."""

    def __init__(
        self,
        scheduler: Scheduler | None = None,
        *,
        options: WorkerOptions | None = None,
        completeness: CompletenessCheck | None = None,
        listeners: Iterable[Listener] = (),
        executor: Executor | None = None,
    ) -> None:
        self.options = options or WorkerOptions()
        self.id = self.options.worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.scheduler = scheduler or Scheduler(resources=self.options.resources)
        self.completeness = completeness or ExistenceCheck(self.options.check_threads)
        self.graph = GraphBuilder(self.completeness, self.options.retry)
        self.stream = EventStream()
        for listener in listeners:
            self.stream.subscribe(listener)
        self.roots: list[str] = []
        self.scheduling_errors: dict[str, tuple[str, str]] = {}
        self.add_succeeded = True
        self.run_succeeded = True
        self._executor = executor
        self._owns_executor = executor is None
        self._inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._inflight: dict[str, _Running] = {}
        self._aliases: dict[str, str] = {}
        self._tokens = itertools.count()
        self._bridge: _ProcessBridge | None = None
        #: runs given up on (timed out, cancelled) that may still be executing
        self._abandoned = 0
        self._cancelled = False
        #: identifies this worker's run on the event stream
        self.run_id = f"{self.id}:{next(_RUN_IDS)}"

    # --- Luigi's worker API ---------------------------------------------------------

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def add(self, task: Task | Iterable[Task], multiprocess: bool = False) -> bool:
        """Expand ``task`` (or several) into the scheduler; False on scheduling errors."""
        del multiprocess  # completeness threads come from WorkerOptions.check_threads
        roots: list[Any] = [task] if isinstance(task, Task) else list(task)
        with _fewer_collections():
            discovery = self.graph.discover(roots)
        root_ids = tuple(root.task_id for root in roots if isinstance(root, Task))
        self.roots.extend(root_ids)
        self._absorb(discovery)
        event = TasksDiscovered(tuple(discovery.specs), at=time.time(), roots=root_ids)
        self._carry_out(self.scheduler.handle(event))
        return not discovery.broken

    def prepare(self) -> None:
        """Create the executor now (``run()`` does it otherwise), to fail early."""
        self._executor = self._executor or self._make_executor()

    def run(self) -> bool:
        """Run until nothing is running or ready; return False if any task failed."""
        self.prepare()
        now = time.time()
        started = WorkerStarted(self.id, self.options.workers, at=now)
        began = RunBegan(self.run_id, tuple(self.roots), at=now)
        try:
            with _fewer_collections():
                self._carry_out(self.scheduler.handle(began, started))
                self._loop()
        except KeyboardInterrupt:
            self._cancelled = True
            self._cancel("interrupted")
            self._feed(RunEnded(self.run_id, "cancelled", at=time.time()))
            raise
        self._feed(RunEnded(self.run_id, self.state, at=time.time()))
        return self.run_succeeded

    @property
    def state(self) -> str:
        """The run's state: cancelled, failed (a task failed or was unschedulable), succeeded."""
        if self._cancelled:
            return "cancelled"
        return "succeeded" if self.run_succeeded and self.add_succeeded else "failed"

    def cancel(self) -> None:
        """Stop starting tasks and give up on running ones (thread-safe).

        A task running in this process cannot be stopped mid-way: it finishes, but its
        result is ignored. Outputs are written atomically, so none is left half-made.
        """
        self._cancelled = True
        self._inbox.put(("cancel",))

    def stop(self) -> None:
        """Shut down the executor (if this worker made it) and the process bridge."""
        if self._executor is not None and self._owns_executor:
            # a timed-out thread cannot be killed: do not wait for it to finish
            self._executor.shutdown(wait=not self._abandoned, cancel_futures=True)
            self._executor = None
        if self._bridge is not None:
            self._bridge.close()
            self._bridge = None

    # --- the loop -------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            if not self._inflight and not self.scheduler.has_work():
                retry_at = self.scheduler.next_retry_at
                if not (self.options.keep_alive and retry_at is not None):
                    return
                try:  # sleep until the retry is due, unless cancelled
                    message = self._inbox.get(timeout=max(0.0, retry_at - time.time()))
                except queue.Empty:
                    self._carry_out(self.scheduler.handle(Tick(time.time())))
                    continue
                if message[0] == "cancel":
                    return
                self._receive(message)
                continue
            try:
                message = self._inbox.get(timeout=self._wait_time())
            except queue.Empty:
                self._expire_timeouts()
                continue
            if message[0] == "cancel":
                self._cancel("cancelled")
                return
            self._receive(message)

    def _wait_time(self) -> float | None:
        deadlines = [run.deadline for run in self._inflight.values() if run.deadline]
        return max(0.0, min(deadlines) - time.time()) if deadlines else None

    def _receive(self, message: tuple[Any, ...]) -> None:
        if message[0] == "outcome":
            _, task_id, token, outcome = message
            self._finish(task_id, token, outcome)
        else:
            _, task_id, kind, value = message
            self._report(self._aliases.get(task_id, task_id), kind, value)

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Notify):
                self.stream.publish(action.notification)
            elif not self._cancelled:
                self._start(action)

    def _feed(self, *events: SchedulerEvent) -> None:
        self._carry_out(self.scheduler.handle(*events))

    # --- starting and finishing runs ------------------------------------------------

    def _start(self, action: RunTask) -> None:
        task = self.graph.tasks[action.task_id]
        members = action.batch or (action.task_id,)
        run_task = (
            _batch_task(task, [self.graph.tasks[m] for m in members])
            if action.batch
            else task
        )
        if run_task is not task:  # a batch reports under its leader's id
            self._aliases[run_task.task_id] = action.task_id
        now = time.time()
        timeout = task.worker_timeout
        token = next(self._tokens)
        deadline = now + float(timeout) if timeout else None
        self._inflight[action.task_id] = _Running(
            run_task, members, now, deadline, token
        )
        task.trigger_event(Event.START, run_task)
        executor = self._executor
        assert executor is not None  # noqa: S101  (run() made it)
        inbox, task_id = self._inbox, action.task_id
        if isinstance(executor, SyncExecutor):
            # no Future needed: run now, deliver through the inbox like any other run
            inbox.put(("outcome", task_id, token, execute(run_task, self._put_report)))
            return
        try:
            if is_in_process(executor):
                reporter: Any = self._put_report
                future = executor.submit(execute, run_task, reporter)
            else:
                reporter = self._process_bridge().reporter
                future = executor.submit(execute, pack(run_task), reporter)
        except NbflowError as exc:
            self._inflight.pop(action.task_id)
            self._fail(
                run_task, members, f"{type(exc).__name__}: {exc}", "", exc, "failure"
            )
            return

        def deliver(done: Future[Outcome]) -> None:
            try:
                result: Outcome | BaseException = done.result()
            except BaseException as exc:  # noqa: BLE001  (the executor broke: handed to _finish)
                result = exc
            inbox.put(("outcome", task_id, token, result))

        future.add_done_callback(deliver)

    def _finish(
        self, task_id: str, token: int, outcome: Outcome | BaseException
    ) -> None:
        running = self._inflight.get(task_id)
        if running is None or running.token != token:
            return  # a timed-out or cancelled run that finished late
        del self._inflight[task_id]
        task, members = running.task, running.members
        if isinstance(outcome, BaseException):  # the executor broke: a process died
            message = f"{type(outcome).__name__}: {outcome}"
            task.trigger_event(Event.PROCESS_FAILURE, task, message)
            self._fail(task, members, message, "", outcome, "process")
            return
        task.trigger_event(Event.PROCESSING_TIME, task, outcome.elapsed)
        if outcome.status == "done":
            for member in members:
                self.completeness.record(self.graph.tasks[member])
            task.trigger_event(Event.SUCCESS, task)
            self._feed(*(TaskSucceeded(m, at=time.time()) for m in members))
        elif outcome.status == "failed":
            error = outcome.exception or TaskFailedError(task.task_id, outcome.error)
            self._fail(
                task, members, outcome.error, outcome.traceback, error, "failure"
            )
        else:
            self._suspend(task_id, outcome.new_deps)

    def _fail(
        self,
        task: Task,
        members: tuple[str, ...],
        error: str,
        trace: str,
        exception: BaseException,
        kind: str,
    ) -> None:
        self.run_succeeded = False
        if kind == "failure":
            task.trigger_event(Event.FAILURE, task, exception)
        now = time.time()
        self._feed(*(TaskFailed(m, error, trace, at=now, kind=kind) for m in members))

    def _suspend(self, task_id: str, refs: tuple[TaskRef, ...]) -> None:
        deps = [_rebuild(ref) for ref in refs]
        discovery = self.graph.discover(deps)
        self._absorb(discovery)
        dep_ids = tuple(dict.fromkeys(dep.task_id for dep in deps))
        event = DependenciesAdded(
            task_id, dep_ids, tuple(discovery.specs), at=time.time()
        )
        self._feed(event)

    def _absorb(self, discovery: Discovery) -> None:
        if discovery.broken:
            self.add_succeeded = False
            self.scheduling_errors.update(discovery.broken)

    def _expire_timeouts(self) -> None:
        now = time.time()
        for task_id, running in list(self._inflight.items()):
            if running.deadline is not None and running.deadline <= now:
                del self._inflight[task_id]
                self._abandoned += 1
                message = (
                    f"timed out after {running.task.worker_timeout} s (worker_timeout)"
                )
                running.task.trigger_event(Event.TIMEOUT, running.task, message)
                self._fail(
                    running.task,
                    running.members,
                    message,
                    "",
                    TimeoutError(message),
                    "timeout",
                )

    def _cancel(self, reason: str) -> None:
        now = time.time()
        for running in list(self._inflight.values()):
            self._feed(
                *(
                    TaskFailed(m, reason, at=now, kind="cancelled")
                    for m in running.members
                )
            )
        self._inflight.clear()
        self.run_succeeded = False
        if self._executor is not None and self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # --- runtime reports ------------------------------------------------------------

    def _put_report(self, task_id: str, kind: str, value: Any) -> None:
        self._inbox.put(("report", task_id, kind, value))

    def _report(self, task_id: str, kind: str, value: Any) -> None:
        if task_id not in self._inflight:
            return
        now = time.time()
        event: SchedulerEvent
        if kind == "progress":
            event = ProgressReported(task_id, float(value), at=now)
        elif kind == "status_message":
            event = StatusMessageSet(task_id, str(value), at=now)
        elif kind == "tracking_url":
            event = TrackingUrlSet(task_id, str(value), at=now)
        else:
            event = ResourcesDecreased(task_id, tuple(dict(value).items()), at=now)
        self._feed(event)

    def _make_executor(self) -> Executor:
        name = self.options.executor
        if name == "auto":
            name = "sync" if self.options.workers <= 1 else "threads"
        return make_executor(name, self.options.workers)

    def _process_bridge(self) -> _ProcessBridge:
        if self._bridge is None:
            self._bridge = _ProcessBridge(self._inbox)
        return self._bridge


class _ProcessBridge:
    """Carry runtime reports from worker processes to the worker's inbox."""

    def __init__(self, inbox: queue.Queue[tuple[Any, ...]]) -> None:
        import multiprocessing  # noqa: PLC0415  (only process executors need it)

        self._manager = multiprocessing.Manager()
        self._queue = self._manager.Queue()
        self.reporter = QueueReporter(self._queue)
        self._thread = threading.Thread(
            target=self._pump, args=(inbox,), daemon=True, name="nbflow-process-bridge"
        )
        self._thread.start()

    def _pump(self, inbox: queue.Queue[tuple[Any, ...]]) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            inbox.put(message)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._manager.shutdown()


@contextlib.contextmanager
def _fewer_collections(first_generation: int = 50_000) -> Iterator[None]:
    """Run the cyclic GC less often while a graph is built and run.

    A graph makes many long-lived objects and few cycles; with the default threshold
    (700) the collector rescans them over and over, ~15% of a 100,000-task run.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(first_generation, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _batch_task(leader: Task, members: list[Task]) -> Task:
    """Build the one task that runs a whole batch (Luigi's batch_method)."""
    cls = type(leader)
    kwargs = dict(leader.param_kwargs)
    for name, param in cls.get_params():
        if param.batch_method is not None:
            kwargs[name] = param.batch_method(
                [member.param_kwargs[name] for member in members]
            )
    return cls(**kwargs)


def _rebuild(ref: TaskRef) -> Task:
    """Rebuild a task from its reference using this process's own classes."""
    target: Any = sys.modules.get(ref.module)
    for part in ref.qualname.split("."):
        target = getattr(target, part, None)
    if not (isinstance(target, type) and issubclass(target, Task)):
        target = REGISTRY.lookup(ref.family)
    task: Task = target.from_str_params(dict(ref.params))
    return task
