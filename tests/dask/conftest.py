"""One LocalCluster of two worker processes, shared by the Dask tests that allow it.

It is started as the ``dask`` executor starts its own (no failures allowed: a task
whose worker dies fails at once). Task files live at absolute paths: the workers'
current directory is the one they started in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from distributed import Client

from tests.dask.support import PATIENCE


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Client]:
    """A client of a shared LocalCluster of 2 processes (one thread each)."""
    from distributed import Client

    from nbflow.dask.cluster import start_local_cluster

    cluster = start_local_cluster(2)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def full_cluster(dask_client: Client) -> Client:
    """The shared cluster with both its workers up (a killed one is restarted)."""
    dask_client.wait_for_workers(2, timeout=PATIENCE)
    return dask_client
