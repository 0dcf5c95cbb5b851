"""The ``dask`` executor plugin: nbflow's task runs on a Dask cluster.

:func:`make_dask_executor` is the entry point (``nbflow.executors``: ``dask``). It
links to the cluster (:func:`nbflow.dask.cluster.open_cluster`): the one at
``[dask] scheduler_address`` (``--dask-scheduler``), a ``distributed.Client`` passed
from Python, or else an embedded ``LocalCluster`` of ``--workers`` processes.

:class:`DaskExecutor` is a ``concurrent.futures.Executor`` and a
:class:`~nbflow.core.executor.TaskRunner`: the worker submits each task with
:meth:`~DaskExecutor.submit_task`, which packs it (cloudpickle: notebook classes by
value), submits :func:`nbflow.dask.remote.run_task` under a fresh key, and returns a
plain future of the run's :class:`~nbflow.core.execution.Outcome`. Runtime reports
come back through :class:`~nbflow.dask.relay.Relay`.

Semantics:

- Dask retries nothing (``retries=0``; the embedded scheduler allows no failures):
  nbflow's retry policy decides reruns. A run whose worker died fails with
  :class:`~nbflow.dask.errors.DaskWorkerDiedError`, naming the worker's address.
- :meth:`~DaskExecutor.interrupt` (Ctrl-C, ``%nbflow cancel``, a server's cancel)
  cancels every future on the cluster; running tasks are interrupted there.
- A task's ``resources`` go to Dask only for the names the cluster's workers declare
  (``dask worker --resources GPU=1``); the others are counted by nbflow alone
  (``[resources]`` limits), since Dask would hold the task back forever.
- :meth:`~DaskExecutor.shutdown` closes the embedded cluster and a client made from
  an address; a cluster given by address, and a caller's client, are left running.

Imports: stdlib, nbflow.core.*, nbflow.dask.*, distributed (when an executor is made).
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import CancelledError, Executor, Future
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.core.config import current_settings
from nbflow.core.execution import pack
from nbflow.dask.errors import DaskNotInstalledError, DaskWorkerDiedError
from nbflow.dask.relay import ExpectedRun, Relay

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.execution import Outcome
    from nbflow.core.task import Task
    from nbflow.dask.cluster import ClusterLink

T = TypeVar("T")
logger = logging.getLogger(__name__)


def make_dask_executor(workers: int = 1, *, client: Any = None) -> DaskExecutor:
    """Return a Dask executor (the ``dask`` plugin's factory).

    It runs on ``client``'s cluster, else ``[dask] scheduler_address``'s, else a new
    LocalCluster of ``workers`` processes (closed on shutdown).

    Raises
    ------
    DaskNotInstalledError
        ``distributed`` cannot be imported.
    DaskSchedulerUnreachableError
        Nothing answered at the scheduler address.
    """
    try:
        from nbflow.dask.cluster import open_cluster  # noqa: PLC0415  (imports Dask)
    except ImportError as exc:
        raise DaskNotInstalledError(f"{type(exc).__name__}: {exc}") from exc
    address = current_settings().get("dask", "scheduler_address") or None
    return DaskExecutor(open_cluster(workers, address=address, client=client))


class DaskExecutor(Executor):
    """Run nbflow tasks (and any call) on the Dask cluster of ``link``.

    Parameters
    ----------
    link
        The cluster and what of it to close on shutdown (see
        :func:`nbflow.dask.cluster.open_cluster`).

    Examples
    --------
    With a client of your own (left open; its cluster keeps running)::

        from distributed import Client
        nbflow.build([Report()], executor=Client("tcp://sched:8786"), workers=8)
    """

    def __init__(self, link: ClusterLink) -> None:
        self.link = link
        self.client = link.client
        self._relay = Relay(self.client)
        self._lock = threading.Lock()
        #: Dask key -> (the Dask future, the future handed to the worker)
        self._runs: dict[str, tuple[Any, Future[Any]]] = {}
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on the cluster; return a plain future of it."""
        key = f"{getattr(fn, '__name__', 'call')}-{uuid.uuid4().hex}"
        dask_future = self.client.submit(fn, *args, key=key, pure=False, **kwargs)
        return self._bridge(key, dask_future, None)

    def submit_task(
        self,
        task_id: str,
        task: Task,
        report: Callable[[str, str, Any], None],
        capture: str,
    ) -> Future[Outcome]:
        """Start running ``task`` on the cluster (see the module's doc)."""
        from nbflow.dask.remote import RemoteCall, run_task  # noqa: PLC0415

        key = f"{task_id}-{uuid.uuid4().hex[:12]}"
        call = RemoteCall(
            key,
            task_id,
            pack(task),
            self._relay.topic,
            capture,
            guard=self.link.allowed_failures > 0,
        )
        self._relay.expect(key, ExpectedRun(task_id, report, self.link.task_url(key)))
        dask_future = self.client.submit(
            run_task,
            call,
            key=key,
            pure=False,
            retries=0,
            resources=self._resources(task),
        )
        return self._bridge(key, dask_future, task)

    def interrupt(self) -> int:
        """Cancel every run on the cluster; return how many there were.

        Their futures fail with ``CancelledError`` at once; the runs themselves are
        interrupted on their workers (:mod:`nbflow.dask.remote`).
        """
        with self._lock:
            runs = list(self._runs.items())
            self._runs.clear()
        if not runs:
            return 0
        self.client.cancel([dask_future for _, (dask_future, _) in runs], force=True)
        for key, (_, future) in runs:
            self._relay.forget(key)
            if not future.done():
                future.set_exception(CancelledError())
        return len(runs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Close the embedded cluster (or the client made from an address).

        A cluster given by address keeps running; a caller's client stays open.
        With ``cancel_futures``, runs still going are cancelled first; with
        ``wait``, they are waited for.
        """
        if self._closed:
            return
        if cancel_futures:
            self.interrupt()
        elif wait:
            with self._lock:
                pending = [future for _, future in self._runs.values()]
            for future in pending:
                future.exception()  # waits; the worker reads the outcome
        self._closed = True
        self._relay.close()
        self.link.close()

    def _resources(self, task: Task) -> dict[str, float] | None:
        """Return the task's resources the cluster declares (the others: nbflow's)."""
        wanted = getattr(task, "resources", None) or {}
        given = {
            name: float(amount)
            for name, amount in wanted.items()
            if name in self.link.resources
        }
        return given or None

    def _bridge(self, key: str, dask_future: Any, task: Task | None) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            self._runs[key] = (dask_future, future)
        dask_future.add_done_callback(lambda done: self._settle(key, done, task))
        return future

    def _settle(self, key: str, dask_future: Any, task: Task | None) -> None:
        """Hand a finished Dask future's result (or why it has none) on."""
        with self._lock:
            entry = self._runs.pop(key, None)
        worker = self._relay.forget(key)
        if entry is None:  # cancelled by interrupt(): its future is settled
            return
        future = entry[1]
        try:
            status = dask_future.status
            if status == "cancelled":
                future.set_exception(CancelledError())
            elif status == "error":
                future.set_exception(
                    _explained(dask_future.exception(), task, key, worker)
                )
            else:
                future.set_result(dask_future.result())
        except BaseException as exc:  # noqa: BLE001  (fetching failed: for the worker)
            if not future.done():
                future.set_exception(exc)


def _explained(
    error: BaseException, task: Task | None, key: str, worker: str | None
) -> BaseException:
    """Turn a dead worker's errors into :class:`DaskWorkerDiedError`."""
    from distributed import KilledWorker  # noqa: PLC0415  (imported with the cluster)

    from nbflow.dask.remote import RerunRefusedError  # noqa: PLC0415

    name = repr(task) if task is not None else key
    if isinstance(error, KilledWorker):
        address = getattr(error.last_worker, "address", None) or worker or "unknown"
        return DaskWorkerDiedError(name, address, f"Dask key {key}")
    if isinstance(error, RerunRefusedError):
        return DaskWorkerDiedError(name, error.first, f"Dask key {key}, not rerun")
    return error
