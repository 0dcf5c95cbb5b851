"""The worker: the core's only imperative shell around the pure scheduler.

Theory of operation
-------------------
``add(task)`` expands the graph (:mod:`nbflow.core.graph`) and feeds the specs to the
scheduler. ``run()`` registers the worker's slots, then loops: carry out the actions the
scheduler returns (submit ``RunTask`` to the executor, publish ``Notify`` on the event
stream), wait for the next message in the inbox, turn it into scheduler events, repeat,
until nothing is running and nothing is ready. Messages are typed
(:mod:`nbflow.core.inbox`): a run that returned, a runtime report (already a scheduler
event), or a cancel request.

Stopping (``cancel()``, or Ctrl-C in the thread that runs the loop): the worker tells
the scheduler it has no free slot (so nothing more is dispatched), interrupts the runs
of an interruptible executor (the thread pool) and takes them in as they unwind, each
reported as it ended (cancelled if interrupted). Runs elsewhere are given up on at
once. A second Ctrl-C while it waits gives up on the rest after removing their
temporaries; Ctrl-C ends ``run()`` with
:class:`~nbflow.core.interruption.RunInterrupted`. Every stopped task is CANCELLED.

Threads: the loop owns the scheduler, the graph builder and ``_inflight``. Executor
threads and the process bridge only put messages on ``_inbox`` (a thread-safe queue);
they never touch the scheduler. Listeners are called from the loop's thread.

Output: while a run goes on, what its tasks print and log is captured per task
(:mod:`nbflow.core.capture`; ``WorkerOptions.capture_output``; each run's log keeps its
last ``[worker] log_max_bytes``). Tasks in this process write through the dispatching
streams the run keeps installed; a process executor's children capture their own and
send the tail back. Live snapshots arrive as ``OutputReported`` messages and are
published as ``TaskOutput`` notifications; the final tail rides on the task's
``TaskStatusChanged`` to DONE or FAILED. With a scheduler server, each snapshot's log
delta (and the last one, on the outcome, before the run's end is reported) goes to the
server with the worker's next call (:meth:`ServerScheduler.add_log`).

Luigi's event handlers (``Task.event_handler``) for START, SUCCESS, FAILURE,
PROCESS_FAILURE, TIMEOUT and PROCESSING_TIME run here, in the worker's process, whatever
executor ran the task. PROGRESS handlers run where the task runs.

Runs in other processes whose process died are failed by
:class:`~nbflow.core.worker_processes.ProcessWatch`, the part of the worker kept in its
own module; :class:`~nbflow.core.worker_options.WorkerOptions` is there too.

Imports: stdlib, nbflow.core.*.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import logging
import os
import queue
import socket
import sys
import threading
import time
from concurrent.futures import BrokenExecutor, CancelledError, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from nbflow.core.capture import LOG_MAX_BYTES, installed
from nbflow.core.completeness import CompletenessCheck, ExistenceCheck
from nbflow.core.config import current_settings
from nbflow.core.diagnosis import name_frames
from nbflow.core.errors import NbflowError, TaskFailedError
from nbflow.core.events import (
    Action,
    DependenciesAdded,
    Notify,
    RunBegan,
    RunEnded,
    RunTask,
    SchedulerEvent,
    TaskFailed,
    TaskHandedBack,
    TaskOutput,
    TasksDiscovered,
    TaskStatusChanged,
    TaskSucceeded,
    Tick,
    WorkerStarted,
)
from nbflow.core.execution import Outcome, TaskRef, execute, pack
from nbflow.core.executor import (
    Interruptible,
    SyncExecutor,
    interrupt_thread,
    is_in_process,
    make_executor,
)
from nbflow.core.graph import Discovery, GraphBuilder
from nbflow.core.inbox import (
    CancelRequested,
    Message,
    OutputReported,
    ProcessBridge,
    Report,
    RunReturned,
    execute_elsewhere,
    returns_to,
    to_report,
)
from nbflow.core.interruption import RunInterrupted, remove_own_temporaries
from nbflow.core.registry import REGISTRY
from nbflow.core.remote import ServerScheduler
from nbflow.core.rpc import RemoteScheduler
from nbflow.core.scheduler import Scheduler
from nbflow.core.stream import EventStream
from nbflow.core.task import Event, Task
from nbflow.core.worker_options import WorkerOptions
from nbflow.core.worker_processes import ProcessWatch, RunningTask

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from concurrent.futures import Executor, Future

    from nbflow.core.events import Listener
    from nbflow.core.executor import TaskRunner


logger = logging.getLogger(__name__)

_RUN_IDS = itertools.count(1)
#: Seconds an interrupted run may take to stop before the user is told how to quit.
_SLOW_STOP = 1.0


#: Seconds between checks that the processes running tasks are alive.
_PROCESS_CHECK = 0.5
#: Seconds between polls of a scheduler server while tasks run here (for new work).
_SERVER_POLL = 1.0
#: Seconds one long poll of a scheduler server waits for work (Ctrl-C is at once;
#: ``cancel()`` from another thread is seen after at most this long).
_LONG_POLL = 2.0


class Worker(ProcessWatch):
    """Runs tasks on an executor for a scheduler, publishing every change on a stream."""

    def __init__(
        self,
        scheduler: Scheduler | ServerScheduler | RemoteScheduler | None = None,
        *,
        options: WorkerOptions | None = None,
        completeness: CompletenessCheck | None = None,
        listeners: Iterable[Listener] = (),
        executor: Executor | None = None,
    ) -> None:
        if isinstance(scheduler, RemoteScheduler):  # Luigi's form: nbflow's client
            scheduler = ServerScheduler(scheduler.url)
        self.options = options or WorkerOptions(
            task_limit=current_settings().get_int("worker", "task_limit")
        )
        self.id = self.options.worker_id or f"{socket.gethostname()}:{os.getpid()}"
        #: The scheduler server's client, when the scheduler is remote.
        self._remote = scheduler if isinstance(scheduler, ServerScheduler) else None
        if self._remote is not None:
            self.id = self.options.worker_id or self._remote.worker_id
            self._remote.worker_id = self.id
            self._remote.running = self._running_ids
            self._remote.on_cancel = self._cancel_from_server
        self.scheduler: Scheduler | ServerScheduler = (  # not `or`: empty is falsy
            scheduler
            if scheduler is not None
            else Scheduler(resources=self.options.resources)
        )
        self.completeness = completeness or ExistenceCheck(self.options.check_threads)
        self.graph = GraphBuilder(
            self.completeness, self.options.retry, task_limit=self.options.task_limit
        )
        self.stream = EventStream()
        from nbflow.core.failure_notifier import (  # noqa: PLC0415  (not at import)
            FailureNotifier,
        )

        self.stream.subscribe(  # failure e-mails, chat and webhooks (never blocks)
            FailureNotifier(
                self.graph.tasks.get,
                server_url=self._remote.url if self._remote is not None else "",
            )
        )
        for listener in listeners:
            self.stream.subscribe(listener)
        self.roots: list[str] = []
        self.scheduling_errors: dict[str, tuple[str, str]] = {}
        self.add_succeeded = True
        self.run_succeeded = True
        self._executor = executor
        self._owns_executor = executor is None
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._inflight: dict[str, RunningTask] = {}
        self._aliases: dict[str, str] = {}
        self._tokens = itertools.count()
        self._bridge: ProcessBridge | None = None
        #: pids of running tasks' processes found gone at the last check
        self._gone: set[int] = set()
        #: runs given up on (timed out, cancelled) that may still be executing
        self._abandoned = 0
        self._cancelled = False
        #: the thread running the loop (a sync executor's tasks run in it)
        self._loop_thread: int | None = None
        #: why running tasks were stopped: "cancelled" (cancel()) or "interrupted"
        self._stop_reason = "interrupted"
        #: identifies this worker's run on the event stream
        self.run_id = f"{self.id}:{next(_RUN_IDS)}"
        #: events gathered for one call to a scheduler server (see _receive_all)
        self._held: list[SchedulerEvent] | None = None
        self._held_details: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        #: seq of the last notification published (TaskOutput repeats it)
        self._seq = 0
        #: seconds running tasks may take to finish after cancel(grace=...)
        self._grace = 0.0
        #: seconds interrupted tasks may take to unwind after cancel(unwind=...)
        self._unwind: float | None = None

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
        """Run until nothing is running or ready; return False if any task failed.

        Raises
        ------
        RunInterrupted
            Ctrl-C: nothing more was started, running tasks were interrupted (in
            threads) or given up on, and reported cancelled.
        """
        self.prepare()
        max_bytes = current_settings().get_int("worker", "log_max_bytes", LOG_MAX_BYTES)
        with installed(self.options.capture_output, max_bytes):  # put back on any exit
            return self._run()

    def _run(self) -> bool:
        self._loop_thread = threading.get_ident()
        now = time.time()
        started = WorkerStarted(
            self.id, self.options.workers, at=now, assistant=self.options.assistant
        )
        began = RunBegan(self.run_id, tuple(self.roots), at=now)
        try:
            with _fewer_collections():
                self._carry_out(self.scheduler.handle(began, started))
                self._loop()
        except KeyboardInterrupt:
            abandoned = self._stop_runs("interrupted", announce=True)
            self._feed(RunEnded(self.run_id, "cancelled", at=time.time()))
            raise RunInterrupted(self, abandoned) from None
        self._feed(RunEnded(self.run_id, self.state, at=time.time()))
        return self.run_succeeded

    @property
    def state(self) -> str:
        """The run's state: cancelled, failed (a task failed or was unschedulable), succeeded."""
        if self._cancelled:
            return "cancelled"
        return "succeeded" if self.run_succeeded and self.add_succeeded else "failed"

    def cancel(self, grace: float = 0.0, *, unwind: float | None = None) -> None:
        """Stop starting tasks and stop the running ones (thread-safe).

        Tasks running in this process's threads are interrupted (``KeyboardInterrupt``
        at their next Python bytecode) and the run ends once they have unwound; tasks
        elsewhere are given up on. Outputs are written atomically: none is left
        half-made. With ``grace``, running tasks get that many seconds to finish
        first. With ``unwind``, interrupted tasks that have not unwound that many
        seconds later (stuck in a long call outside Python, such as one ``sleep``)
        are given up on too, their temporaries removed: the caller then ends the
        process, as ``nbflow worker`` does, so they cannot finish later. With a
        scheduler server, stopped tasks are handed back to it (they become pending,
        for another worker) instead of cancelled.
        """
        self._grace = grace
        self._unwind = unwind
        self._cancelled = True
        self._inbox.put(CancelRequested())

    def _cancel_from_server(self) -> None:
        """Cancel the run as the server asked (see :meth:`cancel`).

        A task running in the loop's own thread (the sync executor) is interrupted
        as by Ctrl-C.
        """
        self.cancel()
        thread = self._loop_thread
        if (
            thread is not None
            and self._inflight
            and isinstance(self._executor, SyncExecutor)
        ):
            interrupt_thread(thread)

    def stop(self) -> None:
        """Shut down the executor (if this worker made it) and the process bridge.

        A scheduler server is told the worker stopped.
        """
        if self._remote is not None:
            self._remote.close()
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
            idle = not self._inflight and not self.scheduler.has_work()
            if not self._inflight and self._remote is not None:
                if self._wait_for_server(self._remote, idle=idle):
                    return
                continue
            if idle:  # with keep_alive, sleep until a failed task may be retried
                retry_at = self.scheduler.next_retry_at
                if not (self.options.keep_alive and retry_at is not None):
                    return
                timeout: float | None = max(0.0, retry_at - time.time())
            else:
                timeout = self._wait_time()
            try:
                message = self._inbox.get(timeout=timeout)
            except queue.Empty:
                self._on_quiet(idle=idle)
                continue
            if isinstance(message, CancelRequested):
                self._drain()
                self._stop_runs("cancelled")
                return
            self._receive_all(message)

    def _wait_time(self) -> float | None:
        deadlines = [run.deadline for run in self._inflight.values() if run.deadline]
        wait = max(0.0, min(deadlines) - time.time()) if deadlines else None
        if self._bridge is not None and self._inflight:  # tasks may run in processes
            wait = _PROCESS_CHECK if wait is None else min(wait, _PROCESS_CHECK)
        if self._remote is not None:
            wait = _SERVER_POLL if wait is None else min(wait, _SERVER_POLL)
        return wait

    def _on_quiet(self, *, idle: bool) -> None:
        """Nothing arrived in time: retry failed tasks, or check on running ones."""
        if idle:
            self._feed(Tick(time.time()))
            return
        self._expire_timeouts()
        self._find_dead_processes()
        if self._remote is not None:  # a heartbeat; a free slot may get work
            self._feed()

    def _wait_for_server(self, remote: ServerScheduler, *, idle: bool) -> bool:
        """Nothing runs here: long-poll the server for work; True when the loop ends."""
        if idle and not self.options.assistant:
            return True
        try:
            message = self._inbox.get_nowait()
        except queue.Empty:
            self._carry_out(remote.poll(wait=_LONG_POLL))
            return False
        if isinstance(message, CancelRequested):
            self._stop_runs("cancelled")
            return True
        self._receive(message)
        return False

    def _drain(self) -> None:
        """Let running tasks finish for the grace period of ``cancel(grace)``."""
        if self._grace <= 0 or not self._inflight:
            return
        self._feed(WorkerStarted(self.id, 0, at=time.time()))  # nothing new
        deadline = time.monotonic() + self._grace
        logger.warning(
            "stopping: %d running task(s) may finish within %g s",
            len(self._inflight),
            self._grace,
        )
        while self._inflight and (left := deadline - time.monotonic()) > 0:
            try:
                message = self._inbox.get(timeout=min(left, _SERVER_POLL))
            except queue.Empty:
                self._find_dead_processes()
                continue
            if not isinstance(message, CancelRequested):
                self._receive(message)

    def _running_ids(self) -> list[str]:
        """Return the ids of the tasks running here (any thread: the heartbeat's)."""
        return [m for running in list(self._inflight.values()) for m in running.members]

    def _receive(self, message: RunReturned | Report | OutputReported) -> None:
        if isinstance(message, RunReturned):
            self._finish(message)
        elif isinstance(message, OutputReported):
            self._show_output(message)
        else:
            self._report(message)

    def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Notify):
                notification = action.notification
                self._seq = notification.seq
                self.stream.publish(notification)
            elif not self._cancelled:
                self._start(action)
            elif self._remote is not None:  # dispatched as we stopped: give it back
                self._feed(*self._cancellations(action.batch or (action.task_id,), ""))

    def _feed(self, *events: SchedulerEvent) -> None:
        if self._held is not None:  # gathered for one call to the server
            self._held.extend(events)
            return
        self._carry_out(self.scheduler.handle(*events))

    def _receive_all(self, message: RunReturned | Report | OutputReported) -> None:
        """Take ``message`` and, with a server, whatever else waits: one call for all.

        Each call to a scheduler server is a round trip; while it travels, other
        tasks finish. Their reports go together in the next call instead of one
        call each (with four workers, about four per call).
        """
        if self._remote is None:
            self._receive(message)
            return
        self._held = []
        try:
            self._receive(message)
            while True:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, CancelRequested):
                    self._inbox.put(more)  # the loop handles it next
                    break
                self._receive(more)
        finally:
            held, self._held = self._held, None
            details, self._held_details = self._held_details, []
        if held:
            self._carry_out(self._detailed(self.scheduler.handle(*held), details))

    # --- starting and finishing runs ------------------------------------------------

    def _start(self, action: RunTask) -> None:
        members = action.batch or (action.task_id,)
        try:
            task = self._task(action.task_id)
            run_task = (
                _batch_task(task, [self._task(m) for m in members])
                if action.batch
                else task
            )
        except NbflowError as error:  # another client's task this one cannot build
            now, message = time.time(), f"{type(error).__name__}: {error}"
            self._feed(*(TaskFailed(m, message, at=now) for m in members))
            return
        if self._remote is not None and not action.batch and self._done_by_now(task):
            self._feed(TaskSucceeded(action.task_id, at=time.time()))
            return
        if run_task is not task:  # a batch reports under its leader's id
            self._aliases[run_task.task_id] = action.task_id
        now = time.time()
        timeout = task.worker_timeout
        token = next(self._tokens)
        deadline = now + float(timeout) if timeout else None
        executor = self._executor
        assert executor is not None  # noqa: S101  (run() made it)
        self._inflight[action.task_id] = RunningTask(
            run_task, members, now, deadline, token, executor
        )
        task.trigger_event(Event.START, run_task)
        inbox, task_id = self._inbox, action.task_id
        if isinstance(executor, SyncExecutor):
            # no Future needed: run now, deliver through the inbox like any other run
            outcome = execute(run_task, self._put_report, self.options.capture_output)
            inbox.put(RunReturned(task_id, token, outcome))
            return
        try:
            future = self._submit(executor, task_id, run_task)
        except (NbflowError, BrokenExecutor) as exc:
            self._inflight.pop(task_id)
            self._fail(
                run_task, members, f"{type(exc).__name__}: {exc}", "", exc, "failure"
            )
            return
        future.add_done_callback(returns_to(inbox, task_id, token))

    def _task(self, task_id: str) -> Task:
        """Return the task to run; an assistant builds another client's from its info."""
        task = self.graph.tasks.get(task_id)
        if task is None:
            if self._remote is None:
                raise KeyError(task_id)
            task = self.graph.tasks[task_id] = self._remote.build_task(task_id)
        return task

    def _done_by_now(self, task: Task) -> bool:
        """Whether another client completed ``task`` since this one checked it."""
        verdict = self.completeness.check([task])[0]
        return verdict.complete and verdict.error is None

    def _submit(self, executor: Executor, task_id: str, task: Task) -> Future[Outcome]:
        capture = self.options.capture_output
        if hasattr(executor, "submit_task"):  # a TaskRunner: reports by its own means
            runner: TaskRunner = executor
            future: Future[Outcome] = runner.submit_task(
                task_id, task, self._put_report, capture
            )
            return future
        if is_in_process(executor):
            return executor.submit(execute, task, self._put_report, capture)
        reporter = self._process_bridge().reporter
        reporter.pids.pop(task_id, None)  # an earlier attempt's process is not this one
        return executor.submit(execute_elsewhere, task_id, pack(task), reporter)

    def _finish(self, returned: RunReturned) -> None:
        running = self._inflight.get(returned.task_id)
        if running is None or running.token != returned.token:
            return  # a timed-out or cancelled run that finished late
        del self._inflight[returned.task_id]
        task, members, outcome = running.task, running.members, returned.outcome
        if isinstance(outcome, (KeyboardInterrupt, CancelledError)):
            self._feed(*self._cancellations(members, self._stop_reason))
            return
        if isinstance(outcome, BaseException):  # the executor broke: a process died
            self._process_died(returned.task_id, running, outcome)
            return
        if outcome.log is not None and self._remote is not None:  # before its end
            for member in members:
                self._remote.add_log(member, outcome.log)
        if outcome.status == "done":  # a failed run has no processing time (Luigi)
            task.trigger_event(Event.PROCESSING_TIME, task, outcome.elapsed)
            for member in members:
                self.completeness.record(self.graph.tasks[member])
            task.trigger_event(Event.SUCCESS, task)
            now = time.time()
            events = [TaskSucceeded(m, at=now) for m in members]
            self._feed_ended(events, members, outcome)
        elif outcome.status == "failed":
            if not is_in_process(running.executor):  # named here, where cells are
                outcome = outcome._replace(
                    traceback=name_frames(outcome.traceback),
                    full_traceback=name_frames(outcome.full_traceback),
                )
            error = outcome.exception or TaskFailedError(task.task_id, outcome.error)
            self._fail(
                task,
                members,
                outcome.error,
                outcome.traceback,
                error,
                "failure",
                outcome=outcome,
            )
        else:
            self._suspend(returned.task_id, outcome.new_deps)

    def _fail(
        self,
        task: Task,
        members: tuple[str, ...],
        error: str,
        trace: str,
        exception: BaseException,
        kind: str,
        *,
        outcome: Outcome | None = None,
    ) -> None:
        self.run_succeeded = False
        if kind == "failure":
            task.trigger_event(Event.FAILURE, task, exception)
        now = time.time()
        events = [TaskFailed(m, error, trace, at=now, kind=kind) for m in members]
        self._feed_ended(events, members, outcome)

    def _feed_ended(
        self,
        events: list[TaskSucceeded] | list[TaskFailed],
        members: tuple[str, ...],
        outcome: Outcome | None,
    ) -> None:
        """Feed a run's end; its output and full traceback ride on the status changes."""
        details: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        if outcome is not None and (outcome.output or outcome.full_traceback):
            extra = {"output": outcome.output, "full_traceback": outcome.full_traceback}
            details.append((members, extra))
        if self._held is not None:  # gathered for one call to the server
            self._held.extend(events)
            self._held_details.extend(details)
            return
        self._carry_out(self._detailed(self.scheduler.handle(*events), details))

    @staticmethod
    def _detailed(
        actions: list[Action], details: list[tuple[tuple[str, ...], dict[str, Any]]]
    ) -> list[Action]:
        for members, extra in details:
            actions = [_with_details(action, members, extra) for action in actions]
        return actions

    def _show_output(self, reported: OutputReported) -> None:
        """Publish a running task's output so far (a live snapshot)."""
        task_id = self._aliases.get(reported.task_id, reported.task_id)
        running = self._inflight.get(task_id)
        if running is None:  # it has ended: its final output comes with the end
            return
        for member in running.members:
            self.stream.publish(
                TaskOutput(self._seq, reported.at, member, reported.lines)
            )
            if reported.delta is not None and self._remote is not None:
                self._remote.add_log(member, reported.delta)  # sent with the next call

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

    # --- stopping: cancel() and Ctrl-C ----------------------------------------------

    def _stop_runs(self, reason: str, *, announce: bool = False) -> int:
        """Start nothing more, interrupt the running tasks and wait until they stop.

        Runs of an executor that cannot interrupt them (processes, plugins) are given
        up on at once. A second Ctrl-C while waiting gives up on the rest, after
        removing their temporaries. Return how many runs go on in this process's
        threads (the process cannot end normally before they do).
        """
        self._cancelled, self._stop_reason = True, reason
        self.run_succeeded = False
        # a worker without free slots gets no more work: nothing is dispatched now
        self._feed(WorkerStarted(self.id, 0, at=time.time()))
        executor = self._executor
        stoppable: object = executor  # any executor may be Interruptible
        if isinstance(stoppable, Interruptible) and self._inflight:
            interrupted = [running.task for running in self._inflight.values()]
            stoppable.interrupt()
            try:
                unwound = self._wait_for_inflight(announce=announce)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
                unwound = False
            if unwound:
                # an interrupt that landed as a file was opened leaves it behind
                remove_own_temporaries(interrupted, outputs_only=True)
            else:
                remove_own_temporaries(r.task for r in self._inflight.values())
        abandoned = len(self._inflight)
        cancelled = [m for running in self._inflight.values() for m in running.members]
        self._inflight.clear()
        self._feed(*self._cancellations(tuple(cancelled), reason))
        if abandoned:
            self._abandoned += abandoned
            if executor is not None and self._owns_executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
        # a sync run has unwound already; one in a process pool ends with its process
        return abandoned if isinstance(executor, ThreadPoolExecutor) else 0

    def _wait_for_inflight(self, *, announce: bool) -> bool:
        """Take in the interrupted runs as they come back; say so if it takes long.

        Return False when ``cancel(unwind=...)``'s time ran out first.
        """
        timeout = _SLOW_STOP if announce else None
        limit = None if announce or self._unwind is None else self._unwind
        deadline = None if limit is None else time.monotonic() + limit
        while self._inflight:
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    logger.warning(
                        "stopping: %d task(s) did not stop within %g s of their "
                        "interrupt; giving up on them",
                        len(self._inflight),
                        limit,
                    )
                    return False
            try:
                message = self._inbox.get(timeout=timeout)
            except queue.Empty:
                if deadline is None:
                    logger.warning(
                        "interrupted: waiting for %d running task(s) to stop; "
                        "press Ctrl-C again to quit now",
                        len(self._inflight),
                    )
                    timeout = None
                continue
            if not isinstance(message, CancelRequested):
                self._receive(message)
        return True

    def _cancellations(
        self, members: tuple[str, ...], reason: str
    ) -> list[TaskFailed] | list[TaskHandedBack]:
        now = time.time()
        if self._remote is not None:  # pending again on the server, for anyone
            return [TaskHandedBack(m, at=now) for m in members]
        return [TaskFailed(m, reason, at=now, kind="cancelled") for m in members]

    # --- runtime reports ------------------------------------------------------------

    def _put_report(self, task_id: str, kind: str, value: Any) -> None:
        report = to_report(task_id, kind, value)
        remote = self._remote
        if isinstance(report, OutputReported) and report.delta and remote is not None:
            # straight to the server's client: the loop may be busy running the task
            # (the sync executor); a task's own thread reports here (reads are atomic)
            running = self._inflight.get(self._aliases.get(task_id, task_id))
            for member in running.members if running is not None else (task_id,):
                remote.add_log(member, report.delta)
            report = dataclasses.replace(report, delta=None)
        self._inbox.put(report)

    def _report(self, report: Report) -> None:
        task_id = self._aliases.get(report.task_id, report.task_id)
        if task_id not in self._inflight:
            return
        if task_id != report.task_id:
            report = dataclasses.replace(report, task_id=task_id)
        self._feed(report)

    def _make_executor(self) -> Executor:
        name = self.options.executor
        if name == "auto":
            name = "sync" if self.options.workers <= 1 else "threads"
        return make_executor(name, self.options.workers)

    def _process_bridge(self) -> ProcessBridge:
        if self._bridge is None:
            self._bridge = ProcessBridge(self._inbox, self.options.capture_output)
        return self._bridge


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


def _with_details(
    action: Action, members: tuple[str, ...], details: dict[str, Any]
) -> Action:
    """Return ``action`` with ``details`` on the status change of one of ``members``."""
    if not isinstance(action, Notify):
        return action
    notification = action.notification
    if type(notification) is TaskStatusChanged and notification.task_id in members:
        return Notify(notification._replace(**details))
    return action


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


__all__ = ["Worker", "WorkerOptions"]
