"""The Dask cluster a run uses: made and closed here, or given and left running.

:func:`open_cluster` returns a :class:`ClusterLink`: a ``distributed.Client`` and, for
an embedded cluster, the ``LocalCluster`` it started (worker processes, one thread
each, the dashboard on 127.0.0.1 at a free port). :meth:`ClusterLink.close` closes
what the link started and nothing else: a cluster given by address keeps running,
and a client passed in by the caller stays open.

The embedded cluster's scheduler allows no failures (``allowed_failures=0``): a task
whose worker dies fails at once (``KilledWorker``) instead of being rerun by Dask
behind nbflow's back. A cluster given by address may allow some: then each run
checks it was not started before (:mod:`nbflow.dask.remote`).

Imports: stdlib, nbflow.dask.errors, distributed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from distributed import Client, LocalCluster

from nbflow.dask.errors import DaskSchedulerUnreachableError

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)

#: Seconds to wait for a scheduler given by address to answer.
CONNECT_TIMEOUT = 10.0


@dataclass
class ClusterLink:
    """A client of a Dask cluster, and what of it this link must close."""

    client: Client
    #: The embedded cluster this link started (closed with it), else None.
    cluster: LocalCluster | None = None
    #: Whether the client was made here (closed with the link; never a caller's).
    owns_client: bool = False
    #: The scheduler's allowed failures: above 0, Dask reruns a task whose worker died.
    allowed_failures: int = 0
    #: Resource names the cluster's workers declare (``dask worker --resources``).
    resources: frozenset[str] = field(default_factory=frozenset)
    #: The dashboard's address (``http://host:port/``), if the scheduler serves one.
    dashboard: str | None = None

    def task_url(self, key: str) -> str | None:
        """Return the dashboard's page of the task ``key`` (None: no dashboard)."""
        if self.dashboard is None:
            return None
        return f"{self.dashboard}info/task/{quote(key, safe='')}.html"

    def close(self) -> None:
        """Close the client if made here, and the embedded cluster if any."""
        if self.owns_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_cluster(
    workers: int, *, address: str | None = None, client: Client | None = None
) -> ClusterLink:
    """Return a link to the cluster to run on: ``client``'s, ``address``'s, or a new one.

    Raises
    ------
    DaskSchedulerUnreachableError
        Nothing answered at ``address``.
    """
    if client is not None:
        link = ClusterLink(client)
    elif address:
        link = ClusterLink(_connect(address), owns_client=True)
    else:
        cluster = start_local_cluster(workers)
        try:
            link = ClusterLink(Client(cluster), cluster=cluster, owns_client=True)
        except BaseException:
            cluster.close()
            raise
    link.allowed_failures = _allowed_failures(link.client)
    link.dashboard = _dashboard(link.client)
    link.resources = declared_resources(link.client.scheduler_info(n_workers=-1))
    return link


def start_local_cluster(workers: int) -> LocalCluster:
    """Start a LocalCluster of ``workers`` processes, one thread each, no retries.

    The dashboard listens on 127.0.0.1 at a free port (where the dashboard's
    packages are installed; the task pages need none).
    """
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"allowed_failures": 0},
    )


def _connect(address: str) -> Client:
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DaskSchedulerUnreachableError(
            address, f"{type(exc).__name__}: {exc}"
        ) from exc


def _dashboard(client: Client) -> str | None:
    """Return the dashboard's address (``http://host:port/``), if there is one."""
    try:
        link: str | None = client.dashboard_link
    except (AttributeError, KeyError, OSError):  # no dashboard on this scheduler
        return None
    return link.rpartition("/")[0] + "/" if link else None


def _allowed_failures(client: Client) -> int:
    """Return how many worker deaths the scheduler lets a task survive (rerun)."""

    def read(dask_scheduler: Any) -> int:
        return int(dask_scheduler.allowed_failures)

    try:
        return int(client.run_on_scheduler(read))
    except Exception:
        logger.debug("cannot read the scheduler's allowed failures", exc_info=True)
        return 1


def declared_resources(info: Mapping[str, Any]) -> frozenset[str]:
    """Return the resource names any worker declares, from ``scheduler_info()``.

    Examples
    --------
    >>> declared_resources({"workers": {"tcp://a": {"resources": {"GPU": 2}}}})
    frozenset({'GPU'})
    """
    return frozenset(
        name
        for worker in info.get("workers", {}).values()
        for name in (worker.get("resources") or {})
    )
