"""Real clients and workers against a real `nbflow server` process on SQLite.

Every task run leaves a marker file (created atomically, one per run), so "ran
exactly once" is counted, not assumed. Processes are real: `nbflow server`,
`nbflow run --scheduler-url`, `nbflow worker`; kill -9 is real.
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
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "remote-workers-token-0123"  # noqa: S105  (a test server's)
PIPELINE = '''
import os, time, uuid
import nbflow

HERE = os.path.dirname(os.path.abspath(__file__))


def mark(task, what="run"):
    """One new file per run: creating an empty file is atomic."""
    name = f"{task.task_id}--{what}--{os.getpid()}-{uuid.uuid4().hex}"
    open(os.path.join(HERE, "marks", name), "x").close()


class RwLeaf(nbflow.Task):
    n = nbflow.IntParameter()
    delay = nbflow.FloatParameter(default=0.2)

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", f"leaf-{self.n}"))

    def run(self):
        mark(self)
        time.sleep(self.delay)
        with self.output().open("w") as out:
            out.write(f"leaf {self.n}")


class RwRoot(nbflow.Task):
    part = nbflow.Parameter(default="all")
    first = nbflow.IntParameter(default=0)
    count = nbflow.IntParameter(default=6)
    delay = nbflow.FloatParameter(default=0.2)

    def requires(self):
        return [RwLeaf(n=i, delay=self.delay) for i in range(self.first, self.first + self.count)]

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", f"root-{self.part}"))

    def run(self):
        mark(self)
        with self.output().open("w") as out:
            out.write("root")


class RwSlow(nbflow.Task):
    """Slow while the file 'slow' exists; writes its output in two halves."""

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "slow"))

    def run(self):
        mark(self)
        with self.output().open("w") as out:
            out.write("first half;")
            while os.path.exists(os.path.join(HERE, "slow")):
                time.sleep(0.05)
            out.write("second half")


class RwAfterSlow(nbflow.Task):
    def requires(self):
        return RwSlow()

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "after-slow"))

    def run(self):
        mark(self)
        with self.output().open("w") as out:
            out.write("after")
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """An `nbflow server` process on a SQLite file, restartable on the same port."""

    def __init__(self, folder: Path, *, disconnect_delay: float = 60.0) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.disconnect_delay = disconnect_delay
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        command = [
            sys.executable, "-m", "nbflow", "server", "--port", str(self.port),
            "--db", f"sqlite:///{self.folder / 'server.db'}", "--token", TOKEN,
            "--worker-disconnect-delay", str(self.disconnect_delay),
        ]  # fmt: skip
        with (self.folder / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.folder, env=_env(), stdout=log, stderr=log
            )
        wait_for(self._ready, "the server to answer /healthz", process=self.process)
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply:  # noqa: S310
                return bool(reply.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def task(self, task_id: str) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/api/v1/tasks/{task_id}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310
            page: dict[str, Any] = json.loads(reply.read())
        return page.get("task", page)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["NBFLOW_TOKEN"] = TOKEN
    env.pop("NBFLOW_DEBUG", None)
    return env


def wait_for(
    condition: Callable[[], bool],
    what: str,
    *,
    timeout: float = 30.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll ``condition``; fail saying ``what`` was awaited (never a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended ({process.returncode}) waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "marks").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "rw_pipeline.py").write_text(PIPELINE)
    (tmp_path / "luigi.cfg").write_text(
        textwrap.dedent(
            """\
            [scheduler]
            retry_delay = 0.5
            reconnect_timeout = 60
            [worker]
            ping_interval = 0.5
            """
        )
    )
    return tmp_path


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()  # waits, and closes its pipes


def runs(folder: Path) -> dict[str, int]:
    """How many times each task id ran (its markers)."""
    counted: dict[str, int] = {}
    for marker in (folder / "marks").iterdir():
        task_id = marker.name.split("--")[0]
        counted[task_id] = counted.get(task_id, 0) + 1
    return counted


def client(folder: Path, server: Server, *args: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "nbflow", "run", "--no-progress", "--no-lock",
        "--scheduler-url", server.url, "--module", "rw_pipeline", *args,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=folder, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def worker(folder: Path, server: Server, *args: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "nbflow", "worker", "--scheduler-url", server.url,
        "--module", "rw_pipeline", *args,
    ]  # fmt: skip
    with (folder / f"worker-{time.monotonic_ns()}.log").open("wb") as log:
        return subprocess.Popen(command, cwd=folder, env=_env(), stdout=log, stderr=log)


def finish(process: subprocess.Popen[bytes], timeout: float = 60) -> tuple[int, str]:
    _out, err = process.communicate(timeout=timeout)
    return process.returncode, (err or b"").decode()


@pytest.fixture
def server(folder: Path) -> Iterator[Server]:
    live = Server(folder).start()
    yield live
    live.kill()


def test_remote_two_clients_split_a_graph_and_run_each_task_once(
    folder: Path, server: Server, processes: list[subprocess.Popen[bytes]]
) -> None:
    # a: leaves 0..5, b: leaves 3..8; leaves 3..5 are shared
    processes += [
        client(folder, server, "RwRoot", "--part", "a", "--count", "6", "--workers", "2"),
        client(folder, server, "RwRoot", "--part", "b", "--first", "3", "--count", "6",
               "--workers", "2"),
    ]  # fmt: skip

    results = [finish(process) for process in processes]

    assert [code for code, _ in results] == [0, 0], results
    counted = runs(folder)
    assert len(counted) == 9 + 2
    assert set(counted.values()) == {1}, counted
    assert (folder / "out" / "root-a").read_text() == "root"
    assert (folder / "out" / "root-b").read_text() == "root"


def test_remote_ten_clients_submitting_one_graph_run_each_task_once(
    folder: Path, server: Server, processes: list[subprocess.Popen[bytes]]
) -> None:
    processes += [
        client(folder, server, "RwRoot", "--count", "8", "--delay", "0.1")
        for _ in range(10)
    ]

    results = [finish(process) for process in processes]

    assert [code for code, _ in results] == [0] * 10, results
    counted = runs(folder)
    assert len(counted) == 8 + 1
    assert set(counted.values()) == {1}, counted


def test_remote_killed_worker_task_is_retried_by_another_worker(
    folder: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    server = Server(folder, disconnect_delay=1.5).start()
    try:
        (folder / "slow").touch()
        doomed = client(folder, server, "RwAfterSlow")
        processes.append(doomed)
        wait_for(lambda: runs(folder).get("RwSlow__99914b932b") == 1, "RwSlow to start")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        assert not (folder / "out" / "slow").exists()  # atomic: no half-written output
        (folder / "slow").unlink()
        processes.append(worker(folder, server))

        wait_for(
            lambda: server.task("RwAfterSlow__99914b932b")["status"] == "DONE",
            "the other worker to finish the graph",
        )
    finally:
        server.kill()

    assert runs(folder) == {"RwSlow__99914b932b": 2, "RwAfterSlow__99914b932b": 1}
    assert (folder / "out" / "slow").read_text() == "first half;second half"


def test_remote_client_waits_for_a_restarted_server_and_finishes(
    folder: Path, server: Server, processes: list[subprocess.Popen[bytes]]
) -> None:
    running = client(folder, server, "RwRoot", "--count", "6", "--delay", "0.3")
    processes.append(running)
    wait_for(lambda: len(runs(folder)) >= 2, "two tasks to run", process=running)

    server.kill()
    time.sleep(1.0)  # the client meets a dead server for a while
    server.start()
    code, err = finish(running)

    assert code == 0, err
    assert "lost" in err
    assert "reconnected" in err
    counted = runs(folder)
    assert len(counted) == 6 + 1
    assert set(counted.values()) == {1}, counted


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_remote_assistant_worker_runs_the_tasks_of_its_module(
    folder: Path,
    server: Server,
    processes: list[subprocess.Popen[bytes]],
    executor: str,
) -> None:
    # a submitter adds the graph and stops without running anything: only an
    # assistant may run its tasks
    submit = textwrap.dedent(
        f"""\
        import rw_pipeline
        from nbflow.core.remote import ServerScheduler
        from nbflow.core.worker import Worker
        worker = Worker(ServerScheduler({server.url!r}))
        root = rw_pipeline.RwRoot(count=4, delay=0.0)
        worker.add(root)
        print(root.task_id)
        """
    )
    root_id = subprocess.run(
        [sys.executable, "-c", submit],
        cwd=folder,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assistant = worker(
        folder, server, "--workers", "2", "--grace-period", "5", "--executor", executor
    )
    processes.append(assistant)

    wait_for(
        lambda: server.task(root_id)["status"] == "DONE",
        "the assistant to run the graph",
        process=assistant,
    )
    assistant.send_signal(signal.SIGTERM)
    assistant.wait(30)

    assert assistant.returncode == 0
    assert set(runs(folder).values()) == {1}
    assert len(runs(folder)) == 4 + 1


def test_remote_stopped_worker_hands_its_running_task_back(
    folder: Path, server: Server, processes: list[subprocess.Popen[bytes]]
) -> None:
    (folder / "slow").touch()
    submit = textwrap.dedent(
        f"""\
        import rw_pipeline
        from nbflow.core.remote import ServerScheduler
        from nbflow.core.worker import Worker
        Worker(ServerScheduler({server.url!r})).add(rw_pipeline.RwSlow())
        """
    )
    subprocess.run([sys.executable, "-c", submit], cwd=folder, env=_env(), check=True)
    assistant = worker(folder, server, "--grace-period", "0.5")
    processes.append(assistant)
    wait_for(lambda: runs(folder).get("RwSlow__99914b932b") == 1, "RwSlow to start")

    assistant.send_signal(signal.SIGTERM)
    assistant.wait(30)

    assert assistant.returncode == 0
    assert server.task("RwSlow__99914b932b")["status"] == "PENDING"
    assert not (folder / "out" / "slow").exists()


def _post(server: Server, path: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310
        f"{server.url}{path}",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _workers(server: Server) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{server.url}/api/v1/workers", timeout=5) as reply:  # noqa: S310
        found: list[dict[str, Any]] = json.loads(reply.read())["workers"]
    return found


@pytest.mark.parametrize("executor", ["sync", "threads"])
def test_remote_cancelled_run_stops_its_worker_and_hands_its_task_back(
    folder: Path,
    server: Server,
    processes: list[subprocess.Popen[bytes]],
    executor: str,
) -> None:
    (folder / "slow").touch()
    running = client(folder, server, "RwAfterSlow", "--executor", executor)
    processes.append(running)
    wait_for(lambda: runs(folder).get("RwSlow__99914b932b") == 1, "RwSlow to start")
    (worker_id,) = [w["worker_id"] for w in _workers(server)]

    status, answer = _post(server, f"/api/v1/workers/{worker_id}/cancel")
    code, err = finish(running)

    assert (status, answer["cancelling"]) == (200, True)
    assert code == 130  # as Ctrl-C
    assert "asked worker" in err
    assert "cancel" in err
    assert not (folder / "out" / "slow").exists()  # stopped mid-write: nothing left
    assert server.task("RwSlow__99914b932b")["status"] == "PENDING"
    assert server.task("RwAfterSlow__99914b932b")["status"] == "PENDING"
    assert _workers(server) == []
    status, answer = _post(server, f"/api/v1/workers/{worker_id}/cancel")
    assert status == 404
    assert "no worker" in answer["error"]["message"]
