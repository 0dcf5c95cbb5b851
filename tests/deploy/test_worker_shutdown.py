"""A worker's graceful shutdown (a pod's SIGTERM), with real processes.

A real ``nbflow server`` on SQLite; a submitter adds a graph; ``nbflow worker`` A
(two slots, ``--grace-period``) takes its two tasks; A gets SIGTERM. The short task,
released after A said it is stopping, finishes within the grace and is DONE; the long
one (a single ``time.sleep`` that no interrupt reaches: the hardest case) is handed
back when the grace and the unwind time have passed, pending again, not failed, and A
exits 0 without waiting for it. Worker B then runs it. Every run leaves a marker file
named by task and pid, so "ran once here, once there" is counted, not assumed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.cli.worker import UNWIND_SECONDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.server, pytest.mark.slow]

TOKEN = "worker-shutdown-token-0123456789"  # noqa: S105  (a test server's)
GRACE = 6.0
PIPELINE = '''
import os, time
import nbflow

HERE = os.path.dirname(os.path.abspath(__file__))


def mark(task):
    open(os.path.join(HERE, "marks", f"{task.task_family}--{os.getpid()}"), "x").close()


class ShutdownShort(nbflow.Task):
    """Runs until the test creates the file 'release' (it does after the SIGTERM)."""

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "short"))

    def run(self):
        mark(self)
        while not os.path.exists(os.path.join(HERE, "release")):
            time.sleep(0.02)
        with self.output().open("w") as out:
            out.write("short")


class ShutdownLong(nbflow.Task):
    """The first run blocks in one sleep (no interrupt reaches it); later runs do not."""

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "long"))

    def run(self):
        first = not os.listdir(os.path.join(HERE, "marks-long"))
        open(os.path.join(HERE, "marks-long", str(os.getpid())), "x").close()
        mark(self)
        if first:
            time.sleep(3600)
        with self.output().open("w") as out:
            out.write(f"long by {os.getpid()}")


class ShutdownBoth(nbflow.WrapperTask):
    def requires(self):
        return [ShutdownShort(), ShutdownLong()]
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])
    env["NBFLOW_TOKEN"] = TOKEN
    return env


def _wait_for(
    condition: Callable[[], bool],
    what: str,
    *processes: subprocess.Popen[bytes],
    timeout: float = 60.0,
) -> None:
    """Poll ``condition``; fail saying what was awaited (no timed assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        for process in processes:
            if process.poll() is not None:
                pytest.fail(
                    f"{process.args!r} ended ({process.returncode}) before {what}"
                )
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """A server process and the workers started against it, all stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "nbflow", *args],
                cwd=self.folder, env=_env(self.folder), stdout=log, stderr=log,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(
            name, "worker", "--scheduler-url", self.url, "--module", "shutdown_pipeline",
            "--workers", "2", "--grace-period", str(GRACE),
        )  # fmt: skip

    def task(self, family: str) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/api/v1/tasks/{family}__99914b932b",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            page: dict[str, Any] = json.loads(reply.read())
        return dict(page.get("task", page))

    def is_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    for name in ("marks", "marks-long", "out"):
        (tmp_path / name).mkdir()
    (tmp_path / "shutdown_pipeline.py").write_text(PIPELINE)
    (tmp_path / "nbflow.toml").write_text(
        textwrap.dedent(
            """\
            [worker]
            ping_interval = 0.5
            """
        )
    )
    live = Cluster(tmp_path)
    server = live.start(
        "server", "server", "--port", live.url.rsplit(":", 1)[1],
        "--db", f"sqlite:///{tmp_path / 'server.db'}", "--token", TOKEN,
    )  # fmt: skip
    _wait_for(live.is_up, "the server's /readyz", server)
    yield live
    live.stop()


def _marks(folder: Path) -> list[str]:
    return sorted(marker.name for marker in (folder / "marks").iterdir())


def test_worker_sigterm_finishes_short_tasks_and_hands_long_ones_back(
    cluster: Cluster,
) -> None:
    folder = cluster.folder
    submit = (
        "import shutdown_pipeline\n"
        "from nbflow.core.remote import ServerScheduler\n"
        "from nbflow.core.worker import Worker\n"
        f"Worker(ServerScheduler({cluster.url!r})).add(shutdown_pipeline.ShutdownBoth())\n"
    )
    subprocess.run(
        [sys.executable, "-c", submit], cwd=folder, env=_env(folder), check=True,
        timeout=60,
    )  # fmt: skip
    first = cluster.worker("worker-a")
    _wait_for(lambda: len(_marks(folder)) == 2, "worker A to start both tasks", first)

    first.send_signal(signal.SIGTERM)
    _wait_for(
        lambda: "may finish within" in cluster.log("worker-a"), "A to stop", first
    )
    (folder / "release").touch()  # the short task ends now, inside the grace
    first.wait(GRACE + UNWIND_SECONDS + 60)  # far less than the long task's sleep

    short, long = cluster.task("ShutdownShort"), cluster.task("ShutdownLong")
    assert first.returncode == 0, cluster.log("worker-a")
    assert short["status"] == "DONE"
    assert long["status"] == "PENDING"  # handed back: not failed, not left running
    assert (folder / "out" / "short").read_text() == "short"
    assert not (folder / "out" / "long").exists()
    assert "did not stop within" in cluster.log("worker-a")

    second = cluster.worker("worker-b")
    _wait_for(lambda: cluster.task("ShutdownLong")["status"] == "DONE", "B", second)
    second.send_signal(signal.SIGTERM)
    second.wait(60)

    assert second.returncode == 0, cluster.log("worker-b")
    assert (folder / "out" / "long").read_text() == f"long by {second.pid}"
    assert _marks(folder) == sorted(
        [
            f"ShutdownLong--{first.pid}",
            f"ShutdownLong--{second.pid}",
            f"ShutdownShort--{first.pid}",
        ]
    )
    assert cluster.task("ShutdownBoth")["status"] == "DONE"
