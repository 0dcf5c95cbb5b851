"""What runs on a Dask worker: the rerun guard; resources; the executor's own parts."""

from __future__ import annotations

import pickle
import sys
import types
import uuid
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.execution import pack
from nbflow.dask.errors import DaskWorkerDiedError
from nbflow.dask.executor import _explained, make_dask_executor
from nbflow.dask.remote import RemoteCall, RerunRefusedError, run_task
from tests.dask.support import wait_for

if TYPE_CHECKING:
    from distributed import Client

pytestmark = pytest.mark.dask


class DaskGuarded(nbflow.Task):
    def run(self) -> None:
        pass


def test_dask_run_started_again_by_dask_refuses_to_run(full_cluster: Client) -> None:
    task = DaskGuarded()
    key = f"{task.task_id}-{uuid.uuid4().hex[:12]}"
    call = RemoteCall(key, task.task_id, pack(task), "nbflow-test", "off", guard=True)
    first = full_cluster.submit(run_task, call, key=key, pure=False)
    assert first.result().status == "done"
    first_worker = full_cluster.who_has(first)[key][0]
    first.release()
    del first
    wait_for(lambda: not _on_scheduler(full_cluster, key), "Dask to forget the run")

    again = full_cluster.submit(run_task, call, key=key, pure=False)  # as Dask would

    with pytest.raises(RerunRefusedError) as caught:
        again.result()
    assert caught.value.first == first_worker
    explained = _explained(caught.value, task, key, None)
    assert isinstance(explained, DaskWorkerDiedError)
    assert explained.worker == first_worker


def _on_scheduler(client: Client, key: str) -> bool:
    def has(dask_scheduler: Any) -> bool:
        return key in dask_scheduler.tasks

    return bool(client.run_on_scheduler(has))


def test_dask_resources_go_to_dask_only_where_the_cluster_declares_them(
    full_cluster: Client,
) -> None:
    class DaskNeedsGpu(nbflow.Task):
        resources = {"GPU": 1, "db": 2}

    executor = make_dask_executor(client=full_cluster)
    try:
        undeclared = executor._resources(DaskNeedsGpu())
        executor.link.resources = frozenset({"GPU"})
        declared = executor._resources(DaskNeedsGpu())
    finally:
        executor.shutdown()

    assert undeclared is None  # the cluster declares none: nbflow's limits only
    assert declared == {"GPU": 1.0}
    assert full_cluster.status == "running"  # a caller's client stays open


def test_dask_task_with_undeclared_resources_still_runs(full_cluster: Client) -> None:
    class DaskNeedsDb(nbflow.Task):
        resources = {"db": 1}

        def run(self) -> None:
            pass

    assert nbflow.build([DaskNeedsDb()], executor=full_cluster)


def test_dask_worker_died_error_names_task_worker_and_fix() -> None:
    error = DaskWorkerDiedError("Report()", "tcp://10.0.0.5:40000", "Dask key k")

    message = str(error)

    assert message.startswith("Report(): the Dask worker running it died (got worker")
    assert "tcp://10.0.0.5:40000; Dask key k)" in message
    assert "Expected the worker to live until run() returns." in message
    assert "Fix: read that worker's log" in message


def test_dask_packed_notebook_task_does_not_carry_its_class_other_instances() -> None:
    module = types.ModuleType("dask_pack_cell")
    sys.modules[module.__name__] = module
    source = (
        "import nbflow\nclass DaskPacked(nbflow.Task):\n    n = nbflow.IntParameter()\n"
    )
    exec(compile(source, "<notebook cell>", "exec"), module.__dict__)
    try:
        first = module.DaskPacked(n=0)
        alone = pack(first)
        others = [module.DaskPacked(n=n) for n in range(1, 1000)]

        among_others = pack(first)
    finally:
        del sys.modules[module.__name__]

    assert len(among_others) == len(alone)  # not 1,000 instances' worth
    assert pickle.loads(among_others).n == 0
    del others  # alive (in the class's instance cache) until both packs were made


def test_dask_executor_is_a_concurrent_futures_executor(full_cluster: Client) -> None:
    executor = make_dask_executor(client=full_cluster)
    try:
        futures = [executor.submit(pow, 2, n) for n in range(5)]
        results = [future.result(timeout=60) for future in futures]
    finally:
        executor.shutdown()

    assert results == [1, 2, 4, 8, 16]
