"""``nbflow run --executor dask``: an embedded cluster, or one given by address."""

from __future__ import annotations

import socket
import sys
import textwrap
import uuid
from typing import TYPE_CHECKING

import pytest

from nbflow.cli import main
from nbflow.cli import worker as cli_worker
from nbflow.core.config import reset_settings_cache
from nbflow.core.executor import make_executor
from nbflow.dask import cluster as dask_cluster
from nbflow.dask.errors import DaskNotInstalledError, DaskSchedulerUnreachableError

if TYPE_CHECKING:
    from pathlib import Path

    from distributed import Client

pytestmark = pytest.mark.dask

PIPELINE = """
import nbflow

class {name}(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget({out!r})

    def run(self):
        from distributed import get_worker
        with self.output().open_atomic("w") as out:
            out.write(get_worker().scheduler.address)
"""


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Write a task module in ``tmp_path`` (importable here); return it and its task."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    module = f"dask_cli_pipeline_{uuid.uuid4().hex[:10]}"
    task = f"DaskCli{uuid.uuid4().hex[:8]}"
    source = PIPELINE.format(name=task, out=str(tmp_path / "out"))
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), "utf-8")
    yield module, task
    sys.modules.pop(module, None)
    reset_settings_cache()


def test_dask_cli_embedded_cluster_runs_the_task_and_is_closed_at_the_end(
    pipeline: tuple[str, str], tmp_path: Path
) -> None:
    module, task = pipeline
    argv = ["run", "--module", module, task, "--executor", "dask", "--workers", "1"]

    code = main([*argv, "--no-progress"])

    assert code == 0
    address = (tmp_path / "out").read_text()
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()


@pytest.mark.parametrize("before_the_task", [False, True])
def test_dask_cli_scheduler_address_runs_there_and_leaves_the_cluster_running(
    pipeline: tuple[str, str],
    tmp_path: Path,
    full_cluster: Client,
    before_the_task: bool,  # its value is not taken for the task's name
) -> None:
    module, task = pipeline
    full_cluster.upload_file(str(tmp_path / f"{module}.py"))  # as one would, remotely
    address = full_cluster.scheduler.address
    option = ["--dask-scheduler", address]

    argv = ["run", "--module", module, task, "--executor", "dask", "--no-progress"]
    if before_the_task:
        argv = ["run", *option, "--module", module, task, "--executor", "dask"]
        option = ["--no-progress"]

    code = main([*argv, *option])

    assert code == 0
    assert (tmp_path / "out").read_text() == address
    assert len(full_cluster.scheduler_info()["workers"]) == 2  # still running


def test_dask_unreachable_scheduler_is_a_clear_error(
    pipeline: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, task = pipeline
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"

    argv = ["run", "--module", module, task, "--executor", "dask", "--no-progress"]

    code = main([*argv, f"--dask-scheduler={address}"])

    err = capsys.readouterr().err
    assert code != 0
    assert f"no Dask scheduler answered at {address!r}" in err
    assert "Fix: start it or correct the address" in err


def test_dask_not_importable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "nbflow.dask.cluster")

    with pytest.raises(DaskNotInstalledError) as caught:
        make_executor("dask", 2)

    message = str(caught.value)
    assert message.startswith("executor 'dask': Dask cannot be imported (got ")
    assert "Expected dask[distributed] installed here" in message
    assert "Fix: pip install 'nbflow[dask]', or run with --executor threads" in message


def test_dask_scheduler_unreachable_error_names_address_and_fix() -> None:
    error = DaskSchedulerUnreachableError("tcp://h:1", "OSError: refused")

    assert str(error).startswith("--dask-scheduler: no Dask scheduler answered at")
    assert "(got OSError: refused)" in str(error)
    assert "[dask] scheduler_address" in str(error)


def test_dask_worker_command_option_names_the_cluster_its_executor_uses(
    full_cluster: Client,
) -> None:
    address = full_cluster.scheduler.address
    argv = ["--scheduler-url", "http://s:8082", "--executor", "dask"]
    args = cli_worker._parser().parse_args([*argv, "--dask-scheduler", address])

    with cli_worker._dask_scheduler(args.dask_scheduler):
        executor = make_executor(args.executor, 1)
    try:
        used = executor.link.client.scheduler.address
        made_here = executor.link.cluster
    finally:
        executor.shutdown()

    assert used == address
    assert made_here is None  # no LocalCluster of its own
    assert len(full_cluster.scheduler_info()["workers"]) == 2  # left running


def test_dask_magic_finds_the_task_after_a_scheduler_address() -> None:
    from nbflow.kernel.session import _task_position

    argv = ["--dask-scheduler-address", "tcp://127.0.0.1:8786", "--workers", "2", "T"]

    assert _task_position(argv) == 4
    assert _task_position(["--dask-scheduler-address=tcp://h:1", "T"]) == 1
