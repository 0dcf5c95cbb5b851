"""How a worker notices task processes that died, and what it does then.

:class:`ProcessWatch` is the part of :class:`~nbflow.core.worker.Worker` that deals
with runs in other processes (the process executor): it fails a run whose process
died, says which process and how it ended, and replaces a broken pool for the tasks
still to come. The worker's loop calls :meth:`ProcessWatch._find_dead_processes` while
tasks run, and :meth:`ProcessWatch._process_died` when a run's pool broke.

Threads: the worker loop's thread only, like the rest of the worker.

Imports: stdlib, nbflow.core.{executor, inbox, task}.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.core.executor import (
    ProcessDiedError,
    ProcessExecutor,
    describe_exit,
    is_gone,
    is_in_process,
    process_died,
)
from nbflow.core.task import Event

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from nbflow.core.graph import GraphBuilder
    from nbflow.core.inbox import ProcessBridge
    from nbflow.core.task import Task


@dataclass
class RunningTask:
    """A run the worker started and has not heard the end of."""

    task: Task
    members: tuple[str, ...]
    started: float
    deadline: float | None
    token: int
    #: The executor running it (a broken process pool is replaced, not this record's).
    executor: Executor | None = None


def _how_it_ended(executors: set[Executor | None], pid: int) -> str:
    """Say how process ``pid`` of one of ``executors`` ended, as far as it is known."""
    for executor in executors:
        if isinstance(executor, ProcessExecutor):
            code = executor.exit_code(pid)
            if code is not None:
                return f"pid {pid} {describe_exit(code)}"
    return f"pid {pid} ended without a result; the pool did not say how"


class ProcessWatch:
    """Fail runs whose process died; replace a broken process pool (a Worker part)."""

    _inflight: dict[str, RunningTask]
    _bridge: ProcessBridge | None
    _executor: Executor | None
    _owns_executor: bool
    _gone: set[int]
    graph: GraphBuilder

    def _make_executor(self) -> Executor:
        raise NotImplementedError  # the Worker's

    def _fail(
        self,
        task: Task,
        members: tuple[str, ...],
        error: str,
        trace: str,
        exception: BaseException,
        kind: str,
    ) -> None:
        raise NotImplementedError  # the Worker's

    def _find_dead_processes(self) -> None:
        """Fail runs whose process is gone though their pool did not notice.

        CPython's process pool sometimes misses a worker killed while another one runs
        (seen on 3.11 with SIGKILL, about 1 try in 5): the run's future then never
        completes. The pid each process reports on starting a task is checked instead,
        and the pool is replaced as if it had broken.
        """
        pids = self._bridge.pids() if self._bridge is not None else {}
        gone = {
            task_id: pid
            for task_id, running in self._inflight.items()
            if not is_in_process(running.executor)
            and (pid := pids.get(task_id)) is not None
            and is_gone(pid)
        }
        # seen gone twice: the pool had a check's time to report it (it says how)
        dead = {task_id: pid for task_id, pid in gone.items() if pid in self._gone}
        self._gone = set(gone.values())
        if not dead:
            return
        broken = {self._inflight[task_id].executor for task_id in dead}
        how = {pid: _how_it_ended(broken, pid) for pid in dead.values()}
        culprits = "; ".join(
            f"the process running {self._label(task_id)} ({how[pid]})"
            for task_id, pid in dead.items()
        )
        victims = [
            (task_id, self._inflight.pop(task_id))
            for task_id, running in list(self._inflight.items())
            if running.executor in broken
        ]
        if self._executor in broken and self._owns_executor:  # before any task starts
            if isinstance(self._executor, ProcessExecutor):
                self._executor.terminate()
            self._replace_executor()
        for task_id, running in victims:
            own = task_id in dead
            got = how[dead[task_id]] if own else culprits
            self._report_death(
                running, ProcessDiedError(repr(running.task), got, own=own)
            )

    def _process_died(
        self, task_id: str, running: RunningTask, broken: BaseException
    ) -> None:
        """Fail a run whose process died (or whose pool broke), saying which and how."""
        error: BaseException = broken
        if isinstance(broken, BrokenProcessPool):
            pids = self._bridge.pids() if self._bridge is not None else {}
            error = process_died(
                repr(running.task),
                pids.get(task_id),
                getattr(running.executor, "deaths", None) or {},
                {pid: self._label(other) for other, pid in pids.items()},
            )
            if running.executor is self._executor and self._owns_executor:
                self._replace_executor()
        self._report_death(running, error)

    def _report_death(self, running: RunningTask, error: BaseException) -> None:
        message = f"{type(error).__name__}: {error}"
        running.task.trigger_event(Event.PROCESS_FAILURE, running.task, message)
        self._fail(running.task, running.members, message, "", error, "process")

    def _replace_executor(self) -> None:
        """Shut a broken process pool down and make a fresh one for the tasks to come."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._make_executor()

    def _label(self, task_id: str) -> str:
        task = self.graph.tasks.get(task_id)
        return repr(task) if task is not None else task_id
