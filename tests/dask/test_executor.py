"""The dask executor on a real LocalCluster of processes (shared: see conftest)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.config import Settings
from nbflow.core.events import (
    Status,
    TaskMessage,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.summary import RunResult, RunStatus
from tests.dask.support import PATIENCE, Recorder, files, wait_for

if TYPE_CHECKING:
    from distributed import Client

pytestmark = pytest.mark.dask


def _build(tasks: list[Any], client: Client, **options: Any) -> RunResult:
    result = nbflow.build(
        tasks, executor=client, workers=2, detailed_summary=True, **options
    )
    assert isinstance(result, RunResult)
    return result


def _notebook_module(name: str, source: str) -> types.ModuleType:
    """Run ``source`` as a notebook's cell would: its module cannot be imported."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, "<notebook cell>", "exec"), module.__dict__)
    return module


def test_dask_notebook_defined_tasks_run_in_worker_processes(
    full_cluster: Client, tmp_path: Path
) -> None:
    module = _notebook_module(
        "dask_notebook_cell",
        "import os, nbflow\n"
        "class DaskCellPart(nbflow.Task):\n"
        "    n = nbflow.IntParameter()\n"
        "    def output(self):\n"
        f"        return nbflow.LocalTarget({str(tmp_path)!r} + f'/part{{self.n}}')\n"
        "    def run(self):\n"
        "        with self.output().open_atomic('w') as out:\n"
        "            out.write(str(os.getpid()))\n"
        "class DaskCellAll(nbflow.Task):\n"
        "    def requires(self):\n"
        "        return [DaskCellPart(n=n) for n in range(3)]\n"
        "    def run(self):\n"
        "        pass\n",
    )
    try:
        result = _build([module.DaskCellAll()], full_cluster)
    finally:
        del sys.modules[module.__name__]

    assert result.status is RunStatus.SUCCESS, result.summary_text
    pids = {int((tmp_path / f"part{n}").read_text()) for n in range(3)}
    workers = full_cluster.run(os.getpid)
    assert pids <= set(workers.values())
    assert os.getpid() not in pids


def test_dask_dynamic_requirements_are_run_then_the_task_resumes(
    full_cluster: Client, tmp_path: Path
) -> None:
    class DaskYielded(nbflow.Task):
        n = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(tmp_path / f"yielded{self.n}")

        def run(self):
            with self.output().open_atomic("w") as out:
                out.write(str(self.n * 10))

    class DaskYielder(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(tmp_path / "sum")

        def run(self):
            targets = yield [DaskYielded(n=1), DaskYielded(n=2)]
            total = sum(int(Path(t.path).read_text()) for t in targets)
            with self.output().open_atomic("w") as out:
                out.write(str(total))

    result = _build([DaskYielder()], full_cluster)

    assert result.status is RunStatus.SUCCESS, result.summary_text
    assert (tmp_path / "sum").read_text() == "30"


def test_dask_reports_reach_the_event_stream_while_the_task_runs(
    full_cluster: Client, tmp_path: Path
) -> None:
    go = tmp_path / "go"

    class DaskReporting(nbflow.Task):
        def run(self):
            print("printed on a Dask worker")  # noqa: T201
            self.set_progress_percentage(40)
            self.set_status_message("halfway")
            wait_for(go.exists, "the test to see the status message")

    def react(notification: Any) -> None:
        if type(notification) is TaskMessage and notification.message == "halfway":
            go.touch()  # the task finishes only once its message is seen here

    recorder = Recorder(react)
    task = DaskReporting()

    result = _build([task], full_cluster, listeners=[recorder])

    assert result.status is RunStatus.SUCCESS, result.summary_text
    assert [n.percentage for n in recorder.of(TaskProgressed, task.task_id)] == [40.0]
    (url,) = [n.url for n in recorder.of(TaskTrackingUrl, task.task_id)]
    assert url.startswith(full_cluster.dashboard_link.rpartition("/")[0])
    assert f"/info/task/{task.task_id}-" in url
    done = recorder.of(TaskStatusChanged, task.task_id)[-1]
    assert done.status is Status.DONE
    assert "printed on a Dask worker" in done.output
    assert recorder.seen.index(done) > recorder.seen.index(
        recorder.of(TaskMessage, task.task_id)[0]
    )


def test_dask_task_own_tracking_url_replaces_the_dashboard_link(
    full_cluster: Client,
) -> None:
    class DaskOwnUrl(nbflow.Task):
        def run(self):
            self.set_tracking_url("https://example.org/job/1")

    recorder = Recorder()
    task = DaskOwnUrl()

    result = _build([task], full_cluster, listeners=[recorder])

    assert result.status is RunStatus.SUCCESS, result.summary_text
    urls = [n.url for n in recorder.of(TaskTrackingUrl, task.task_id)]
    assert urls[-1] == "https://example.org/job/1"
    assert "/info/task/" in urls[0]


def test_dask_killed_worker_fails_its_task_with_the_address_and_a_retry_reruns_it(
    full_cluster: Client, tmp_path: Path
) -> None:
    out, first = tmp_path / "out", tmp_path / "first-attempt"

    class DaskKilledMidWrite(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(out)

        def run(self):
            from distributed import get_worker

            again = first.exists()
            with self.output().open_atomic("w") as target:
                target.write("partial ")
                if not again:  # the first attempt is killed mid-write
                    first.write_text(f"{os.getpid()} {get_worker().address}")
                    wait_for(lambda: False, "the test to kill this worker")
                target.write("complete")

    seen_at_failure: list[tuple[str, list[str]]] = []

    def react(notification: Any) -> None:
        if type(notification) is TaskStatusChanged and notification.error:
            seen_at_failure.append((notification.error, files(tmp_path)))

    def kill_when_started() -> None:
        text = wait_for(lambda: first.exists() and first.read_text(), "the first run")
        os.kill(int(text.split()[0]), signal.SIGKILL)

    killer = threading.Thread(target=kill_when_started, daemon=True)
    killer.start()
    settings = Settings.from_mapping(
        {"scheduler": {"retry_delay": 0, "retry_count": 3}}
    )

    result = _build(
        [DaskKilledMidWrite()],
        full_cluster,
        listeners=[Recorder(react)],
        keep_alive=True,
        settings=settings,
    )

    killer.join(PATIENCE)
    assert result.status is RunStatus.SUCCESS_WITH_RETRY, result.summary_text
    address = first.read_text().split()[1]
    ((error, present),) = seen_at_failure
    assert error.startswith(
        "DaskWorkerDiedError: DaskKilledMidWrite(): the Dask worker"
    )
    assert f"got worker {address}" in error
    assert "out" not in present  # nothing half-written at the output's path
    assert out.read_text() == "partial complete"
    assert files(tmp_path) == ["first-attempt", "out"]  # the rerun removed its leftover


def test_dask_cancel_cancels_the_future_and_interrupts_the_run_on_its_worker(
    full_cluster: Client, tmp_path: Path
) -> None:
    started, stopped = tmp_path / "started", tmp_path / "stopped"
    out = tmp_path / "out"

    class DaskCancelled(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(out)

        def run(self):
            try:
                with self.output().open_atomic("w") as target:
                    target.write("partial")
                    started.touch()
                    wait_for(lambda: False, "the test to cancel this run")
            except KeyboardInterrupt:
                stopped.touch()
                raise

    run = nbflow.build([DaskCancelled()], executor=full_cluster, wait=False)
    wait_for(started.exists, "the run to start")

    run.cancel()
    result = run.wait(PATIENCE)

    assert result.cancelled
    assert run.state == "cancelled"
    wait_for(stopped.exists, "the run on the Dask worker to be interrupted")
    wait_for(
        lambda: not any(full_cluster.processing().values()), "the cluster to drop it"
    )
    assert files(tmp_path) == ["started", "stopped"]  # no output, no temporary


def test_dask_notebook_task_runs_papermill_on_a_dask_worker(
    full_cluster: Client, tmp_path: Path
) -> None:
    notebook = tmp_path / "double.ipynb"
    notebook.write_text(json.dumps(_notebook_json()), "utf-8")

    class DaskDouble(nbflow.NotebookTask):
        notebook = str(tmp_path / "double.ipynb")
        executed_dir = str(tmp_path / "executed")
        n = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(tmp_path / f"double-{self.n}.txt")

    result = _build([DaskDouble(n=21)], full_cluster)

    assert result.status is RunStatus.SUCCESS, result.summary_text
    assert (tmp_path / "double-21.txt").read_text() == "42"
    assert list((tmp_path / "executed" / "DaskDouble").glob("*.ipynb"))


def _notebook_json() -> dict[str, Any]:
    def cell(source: str, tags: list[str]) -> dict[str, Any]:
        return {
            "cell_type": "code",
            "execution_count": None,
            "id": f"cell-{len(tags)}-{len(source)}",
            "metadata": {"tags": tags},
            "outputs": [],
            "source": source,
        }

    return {
        "cells": [
            cell("n = 1\nproduct = None", ["parameters"]),
            cell(
                "from pathlib import Path\nPath(product['output']).write_text(str(2 * n))",
                [],
            ),
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
