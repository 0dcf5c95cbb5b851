"""kill -9 the server half way through a run: nothing acknowledged is lost.

Real processes: ``nbflow server`` on a SQLite file, and an ``nbflow run
--scheduler-url`` client with two workers running 200 slow tasks. Half way, the server
is killed with SIGKILL and started again on the same database; the client keeps its
tasks going, reconnects, and finishes. Every task ran exactly once, and the server's
state and history say so.
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
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.server, pytest.mark.slow]

TOKEN = "crash-test-token-0123456789"  # noqa: S105
TASKS = 200

PIPELINE = """
import os
import time

import nbflow

OUT = os.environ["CRASH_OUT"]


class CrashSlow(nbflow.Task):
    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(os.path.join(OUT, f"slow-{self.n}.txt"))

    def run(self):
        time.sleep(0.1)
        with open(os.path.join(OUT, "runs.log"), "a") as log:
            log.write(f"{self.n}\\n")
        with self.output().open("w") as out:
            out.write("ok")


class CrashFan(nbflow.WrapperTask):
    def requires(self):
        return [CrashSlow(n=i) for i in range({tasks})]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nbflow",
                "server",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{db}",
                "--token",
                TOKEN,
                "--worker-disconnect-delay",
                "60",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process
        except OSError:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"the server did not become ready:\n{log.read_text()}")


def get(port: int, path: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


def history_runs(port: int) -> list[dict]:
    runs: list[dict] = []
    cursor = None
    while True:
        query = "/api/v1/history/runs?family=CrashSlow&limit=100"
        page = get(port, query + (f"&cursor={cursor}" if cursor else ""))
        runs.extend(page["runs"])
        cursor = page.get("next_cursor")
        if not cursor:
            return runs


def test_kill_9_of_the_server_half_way_loses_nothing_and_reruns_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "crashpipe.py").write_text(
        textwrap.dedent(PIPELINE).replace("{tasks}", str(TASKS))
    )
    db, port, log = tmp_path / "server.db", free_port(), tmp_path / "server.log"
    server = start_server(db, port, log)
    env = {**os.environ, "CRASH_OUT": str(out), "PYTHONPATH": str(tmp_path)}
    client = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nbflow",
            "run",
            "--module",
            "crashpipe",
            "CrashFan",
            "--workers",
            "2",
            "--scheduler-url",
            f"http://127.0.0.1:{port}",
            "--scheduler-token",
            TOKEN,
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(out.glob("slow-*.txt"))) < TASKS // 2:
            assert time.monotonic() < deadline, "the run did not get half way"
            assert client.poll() is None, client.stdout.read().decode()
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait()
        done_at_kill = len(list(out.glob("slow-*.txt")))
        time.sleep(1.0)  # the client notices and keeps trying
        server = start_server(db, port, log)
        output, _ = client.communicate(timeout=180)
    finally:
        if client.poll() is None:
            client.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    text = output.decode()
    assert client.returncode == 0, text
    assert done_at_kill < TASKS
    assert "reconnected" in text, text
    runs = (out / "runs.log").read_text().split()
    assert sorted(map(int, runs)) == list(range(TASKS)), (
        "a task ran twice or not at all"
    )

    server = start_server(
        db, port, log
    )  # the state and history, as a third life sees them
    try:
        state = get(port, "/api/v1/scheduler")
        history = history_runs(port)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert state["counts"].get("DONE") == TASKS + 1, state
    done = [run for run in history if run["status"] == "DONE"]
    assert sorted(run["task_id"] for run in done) == sorted(
        {run["task_id"] for run in done}
    )
    assert len(done) == TASKS
