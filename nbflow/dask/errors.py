"""What can go wrong on a Dask cluster, said clearly (stdlib only: no Dask needed).

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

from nbflow.core.errors import NbflowError, PluginError

#: The command that installs what the executor needs.
INSTALL = "pip install 'nbflow[dask]'"


class DaskNotInstalledError(PluginError, ImportError):
    """``--executor dask`` was asked for, but Dask's ``distributed`` cannot be imported."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        #: The import error, as text.
        self.problem = problem

    def __str__(self) -> str:
        return (
            f"executor 'dask': Dask cannot be imported (got {self.problem}). "
            "Expected dask[distributed] installed here (and on every Dask worker). "
            f"Fix: {INSTALL}, or run with --executor threads or processes."
        )


class DaskSchedulerUnreachableError(NbflowError, ConnectionError):
    """No Dask scheduler answered at the address given."""

    def __init__(self, address: str, problem: str) -> None:
        super().__init__(address, problem)
        #: The address tried, and what connecting to it raised.
        self.address, self.problem = address, problem

    def __str__(self) -> str:
        return (
            f"--dask-scheduler: no Dask scheduler answered at {self.address!r} "
            f"(got {self.problem}). Expected a running scheduler (`dask scheduler`, "
            "tcp://HOST:8786). Fix: start it or correct the address ([dask] "
            "scheduler_address); without an address, --executor dask starts a "
            "LocalCluster of its own."
        )


class DaskWorkerDiedError(NbflowError):
    """The Dask worker running a task died before the task returned."""

    def __init__(self, task: str, worker: str, how: str = "") -> None:
        super().__init__(task, worker, how)
        #: The task, the address of the worker that died, and what Dask said.
        self.task, self.worker, self.how = task, worker, how

    def __str__(self) -> str:
        how = f"; {self.how}" if self.how else ""
        return (
            f"{self.task}: the Dask worker running it died (got worker "
            f"{self.worker}{how}). Expected the worker to live until run() returns. "
            "Fix: read that worker's log (a nanny restarts a worker past its memory "
            "limit; the OOM killer: `dmesg`; a crash in native code). nbflow's retry "
            "policy ([scheduler] retry_count) decides whether it runs again; Dask "
            "does not rerun it by itself."
        )
