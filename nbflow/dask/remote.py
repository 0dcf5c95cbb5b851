"""What runs on a Dask worker: one nbflow task, reporting through events, cancellable.

:func:`run_task` is the function the executor submits for each task run. It names
its worker (the relay's ``started`` event), rebuilds the task from its cloudpickle
bytes (classes defined in a notebook travel by value) and runs it with
:func:`nbflow.core.execution.execute`, whose :class:`~nbflow.core.execution.Outcome`
it returns: the task's own errors never fail the Dask future.

Cancelling: Dask cannot stop a running thread. When nbflow cancels a run's future,
the worker marks the run cancelled; a watcher thread (one per worker process, polling
every 0.1 s) then raises ``KeyboardInterrupt`` in the run's thread, as Ctrl-C would,
so the run unwinds: a rerun's previous outputs are put back and the run's
temporaries removed. A run blocked in one long C call stops when that call returns.

Reruns: Dask reruns a task whose worker died when the scheduler allows failures
(``allowed_failures`` > 0; nbflow's embedded cluster allows none). On such a cluster
each run first records its worker in the scheduler's metadata; a second start of the
same run refuses to run (:class:`RerunRefusedError`), so only nbflow's retry policy
reruns a task.

Imports: stdlib, nbflow.core.{capture, execution, executor, interruption, task},
nbflow.dask.relay, distributed (on the worker, when called).
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.core.capture import install_for_process
from nbflow.core.execution import Outcome, execute
from nbflow.core.executor import interrupt_thread
from nbflow.core.interruption import remove_own_temporaries
from nbflow.dask.relay import EventReporter

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.task import Task

#: Seconds between the watcher's looks at the worker's cancelled runs.
WATCH_INTERVAL = 0.1
#: The scheduler metadata under which runs record where they started (guard mode).
STARTED_METADATA = "nbflow-started"
#: Dask's states of a run that goes on (any other: cancelled, released, forgotten).
_LIVE_STATES = frozenset(["executing", "long-running"])


@dataclass(frozen=True, slots=True)
class RemoteCall:
    """One task run for a Dask worker: everything :func:`run_task` needs."""

    key: str
    task_id: str
    packed: bytes
    topic: str
    capture: str
    #: Refuse to run if this run started before (the scheduler allows failures).
    guard: bool = False


class RerunRefusedError(RuntimeError):
    """Dask started a run again after its first worker died; it was not run."""

    def __init__(self, key: str, first: str, again: str) -> None:
        super().__init__(key, first, again)
        #: The run's key, the worker that started it first, and the one that refused.
        self.key, self.first, self.again = key, first, again

    def __str__(self) -> str:
        return (
            f"{self.key}: started on {self.first}, whose worker died; Dask started it "
            f"again on {self.again}, which refused (nbflow's retry policy decides)"
        )


def run_task(call: RemoteCall) -> Outcome:
    """Run one task on this Dask worker and return its outcome.

    Raises
    ------
    RerunRefusedError
        Dask started this run before, on a worker that died (guard mode only).
    """
    from distributed import get_worker  # noqa: PLC0415  (on a Dask worker only)

    worker = get_worker()
    if call.guard:
        _refuse_rerun(call.key, worker.address)
    reporter = EventReporter(worker, call.topic, call.key)
    reporter.started()
    try:
        task = pickle.loads(call.packed)  # noqa: S301  (bytes made by our executor)
    except Exception as exc:  # noqa: BLE001  (the task's failure, said below)
        return _unloadable(call.task_id, worker.address, exc)
    if call.capture != "off":
        install_for_process()
    return _WATCH.run(
        worker, call.key, task, lambda: execute(task, reporter, call.capture)
    )


def _refuse_rerun(key: str, address: str) -> None:
    from distributed import get_client  # noqa: PLC0415  (on a Dask worker only)

    client = get_client()
    first = client.get_metadata([STARTED_METADATA, key], None)
    if first is not None:
        raise RerunRefusedError(key, str(first), address)
    client.set_metadata([STARTED_METADATA, key], address)


def _unloadable(task_id: str, address: str, exc: Exception) -> Outcome:
    error = (
        f"{type(exc).__name__}: {exc}\nThe Dask worker {address} cannot load the "
        "task. Fix: install the task's module (and what it imports) on every Dask "
        "worker, or define the task in the notebook (it then travels by value)."
    )
    return Outcome(task_id, "failed", error=error)


class _Watch:
    """The task runs of this worker process; interrupts those Dask cancelled."""

    def __init__(self) -> None:
        #: guards the runs' threads: the watcher raises only while holding it
        self._lock = threading.Lock()
        #: Dask key -> the thread running it, and its worker (several in one process
        #: with a cluster of threads)
        self._running: dict[str, tuple[int, Any]] = {}
        self._thread: threading.Thread | None = None

    def run(
        self, worker: Any, key: str, task: Task, call: Callable[[], Outcome]
    ) -> Outcome:
        """Run ``call`` (the task's run) in this thread until done or cancelled."""
        with self._lock:
            self._running[key] = (threading.get_ident(), worker)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch,
                    daemon=True,
                    name="nbflow-dask-cancel",
                )
                self._thread.start()
        try:
            try:
                return call()
            finally:
                # the watcher raises only while holding this lock: its exception
                # lands in this call (in the run or here), never in Dask's loop
                with self._lock:
                    self._running.pop(key, None)
        except KeyboardInterrupt:  # cancelled (its future is): nobody reads this
            remove_own_temporaries([task], outputs_only=True)
            return Outcome(task.task_id, "failed", error="cancelled")

    def _watch(self) -> None:
        while True:
            time.sleep(WATCH_INTERVAL)
            with self._lock:
                for key, (thread, worker) in list(self._running.items()):
                    state = worker.state.tasks.get(key)
                    if state is None or state.state not in _LIVE_STATES:
                        del self._running[key]  # interrupted once
                        interrupt_thread(thread)


_WATCH = _Watch()
