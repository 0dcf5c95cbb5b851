"""Task logs kept by the server: real servers, real databases (SQLite and PostgreSQL).

The first half talks to an in-process server (host, store, tornado on a port) with
hand-made worker calls; the second runs real processes (`nbflow server`, `nbflow run
--scheduler-url`) whose tasks print and log.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import textwrap
import threading
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.core.events import TaskSucceeded
from tests.server.live_server import LiveServer, chain_specs, quote, submit
from tests.server.test_remote_workers import _env, _free_port, wait_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from nbflow.server.logs import TaskLogs

pytestmark = pytest.mark.server

MEGABYTE = 1024 * 1024


@pytest.fixture
def server(db_url: str) -> Iterator[LiveServer]:
    live = LiveServer(db_url).start()
    yield live
    live.stop()


def _keeper(server: LiveServer) -> TaskLogs:
    keeper: TaskLogs = server.app.settings["nbflow_context"].extras["logs"]
    return keeper


def _log(server: LiveServer, task_id: str) -> dict[str, Any]:
    assert _keeper(server).flush(timeout=30)
    reply = server.get(f"/api/v1/tasks/{quote(task_id)}/log")
    assert reply.status == 200, reply.body
    found: dict[str, Any] = reply.json()
    return found


def _send(server: LiveServer, *deltas: tuple[str, int, str], events: Any = ()) -> Any:
    logs = [{"task_id": t, "offset": o, "text": x} for t, o, x in deltas]
    reply = server.call("w1", list(events), logs=logs)
    assert reply.status == 200, reply.body
    return reply.json()


# --- in-process server ---------------------------------------------------------------


def test_logs_are_kept_per_run_once_each_and_served_with_the_history_run(
    server: LiveServer,
) -> None:
    submit(server, "w1", chain_specs("a", "b"))

    _send(server, ("a", 0, "one\n"))
    running = _log(server, "a")
    _send(server, ("a", 4, "two\n"), ("a", 0, "one\ntwo\n"))  # the second: sent again
    _send(server, ("a", 8, "three\n"), events=[TaskSucceeded("a")])
    ended = _log(server, "a")

    assert running["text"] == "one\n"
    assert running["running"] is True
    assert ended["text"] == "one\ntwo\nthree\n"
    assert (ended["offset"], ended["dropped"], ended["running"]) == (14, 0, False)
    assert ended["truncated"] is False
    assert server.writer.flush(timeout=30)
    runs = server.get("/api/v1/history/runs?task_id=a").json()["runs"]
    assert ended["run_id"] == runs[0]["id"]
    by_run = server.get(f"/api/v1/history/runs/{runs[0]['id']}/log").json()
    assert by_run == ended


def test_logs_of_a_second_run_replace_the_first_in_the_task_log(
    server: LiveServer,
) -> None:
    submit(server, "w1", chain_specs("a"))
    _send(server, ("a", 0, "first run\n"), events=[TaskSucceeded("a")])
    first = _log(server, "a")

    server.post(f"/api/v1/tasks/{quote('a')}/mark-done")
    assert server.writer.flush(timeout=30)
    first_again = server.get(f"/api/v1/history/runs/{first['run_id']}/log").json()

    assert first_again["text"] == "first run\n"


def test_logs_keep_the_last_megabyte_of_five_and_count_the_rest(
    server: LiveServer,
) -> None:
    submit(server, "w1", chain_specs("a"))
    lines = [f"{n:08d}".ljust(1023, ".") + "\n" for n in range(5 * 1024)]
    text = "".join(lines)
    step = 256 * 1024

    for start in range(0, len(text), step):
        _send(server, ("a", start, text[start : start + step]))
    found = _log(server, "a")

    assert found["text"] == text[-MEGABYTE:]
    assert found["dropped"] == 4 * MEGABYTE
    assert found["truncated"] is True
    assert found["offset"] == 5 * MEGABYTE


def test_logs_limit_is_the_servers_and_counts_utf8_bytes(server: LiveServer) -> None:
    _keeper(server).max_bytes = 10
    submit(server, "w1", chain_specs("a"))

    _send(server, ("a", 0, "ab"), ("a", 2, "cdéfghijk"))
    found = _log(server, "a")

    assert found["text"] == "cdéfghijk"  # 9 characters, 10 bytes
    assert found["dropped"] == 2
    assert found["offset"] == 11


def test_logs_after_a_gap_drop_what_came_before(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a"))

    _send(server, ("a", 0, "old\n"))
    _send(server, ("a", 100, "new\n"))
    found = _log(server, "a")

    assert (found["text"], found["dropped"], found["offset"]) == ("new\n", 100, 104)


def test_logs_of_a_task_that_printed_nothing_are_empty_and_unknown_ones_404(
    server: LiveServer,
) -> None:
    submit(server, "w1", chain_specs("a"))

    quiet = _log(server, "a")
    unknown = server.get(f"/api/v1/tasks/{quote('nope')}/log")
    no_run = server.get("/api/v1/history/runs/12345/log")

    assert quiet["text"] == ""
    assert quiet["running"] is True
    assert unknown.status == 404
    assert "no task 'nope'" in unknown.json()["error"]["message"]
    assert no_run.status == 404


@pytest.mark.parametrize(
    ("logs", "fragment"),
    [
        ({"a": 1}, "'logs' must be a list"),
        ([{"task_id": "a", "offset": -1, "text": "x"}], "logs[0]"),
        ([{"task_id": "a", "offset": 0, "text": 3}], "logs[0]"),
        ([{"task_id": "a", "offset": True, "text": "x"}], "logs[0]"),
        ([{"task_id": "a", "offset": 0, "text": "x", "more": 1}], "logs[0]"),
    ],
)
def test_logs_bad_field_is_a_400_that_applies_nothing(
    server: LiveServer, logs: Any, fragment: str
) -> None:
    submit(server, "w1", chain_specs("a"))

    reply = server.call("w1", [TaskSucceeded("a")], logs=logs)

    assert reply.status == 400
    assert fragment in reply.json()["error"]["message"]
    assert server.get(f"/api/v1/tasks/{quote('a')}").json()["task"]["status"] == (
        "RUNNING"
    )


def test_logs_survive_a_server_restart_and_runs_begun_before_it_go_on(
    db_url: str,
) -> None:
    first = LiveServer(db_url).start()
    try:
        submit(first, "w1", chain_specs("a", "b"))
        _send(first, ("a", 0, "before the restart\n"), events=[TaskSucceeded("a")])
        _send(first, ("b", 0, "b began\n"))
        assert _keeper(first).flush(timeout=30)
    finally:
        first.stop()

    second = LiveServer(db_url).start()
    try:
        _send(second, ("b", 8, "b goes on\n"))
        a_log, b_log = _log(second, "a"), _log(second, "b")
    finally:
        second.stop()

    assert a_log["text"] == "before the restart\n"
    assert a_log["running"] is False
    assert b_log["text"] == "b began\nb goes on\n"
    assert b_log["running"] is True


def test_logs_reach_the_event_stream_as_log_events(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/api/v1/events?log_task=a")
    reply = connection.getresponse()
    assert [reply.readline(), reply.readline()] == [b"retry: 2000\n", b"\n"]

    _send(server, ("b", 0, "not asked for\n"))
    _send(server, ("a", 0, "hello\n"))
    lines = [reply.readline() for _ in range(3)]
    connection.close()

    assert lines[0] == b"event: log\n"
    message = json.loads(lines[1].removeprefix(b"data: "))
    assert {k: message[k] for k in ("task_id", "offset", "text")} == {
        "task_id": "a",
        "offset": 0,
        "text": "hello\n",
    }
    assert lines[2] == b"\n"


def test_logs_from_a_worker_that_does_not_run_the_task_are_ignored(
    server: LiveServer,
) -> None:
    submit(server, "w1", chain_specs("a"))

    reply = server.call("w2", [], logs=[{"task_id": "a", "offset": 0, "text": "x"}])
    _send(server, ("a", 0, "mine\n"))

    assert reply.status == 200
    assert _log(server, "a")["text"] == "mine\n"


def test_logs_calls_without_the_field_still_work(server: LiveServer) -> None:
    first = submit(server, "w1", chain_specs("a", "b"))

    second = server.call("w1", [TaskSucceeded("a")])

    assert [a["task_id"] for a in first["actions"]] == ["a"]
    assert [a["task_id"] for a in second.json()["actions"]] == ["b"]


# --- real processes ---------------------------------------------------------------------

PIPELINE = '''
import logging, os, time
import nbflow

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = logging.getLogger("lg_pipeline")


class LgChatty(nbflow.Task):
    """Prints and logs a line every 0.1 s while the file 'hold' exists."""

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "chatty"))

    def run(self):
        n = 0
        while os.path.exists(os.path.join(HERE, "hold")) or n < 3:
            print(f"printed {n}")
            LOG.warning("logged %d", n)
            n += 1
            time.sleep(0.1)
        print("done")
        with self.output().open("w") as out:
            out.write("ok")


class LgFlood(nbflow.Task):
    """Prints 5 MB: 5,120 numbered lines of 1 KB."""

    def output(self):
        return nbflow.LocalTarget(os.path.join(HERE, "out", "flood"))

    def run(self):
        for n in range(5 * 1024):
            print(f"{n:08d}".ljust(1023, "."))
        with self.output().open("w") as out:
            out.write("ok")
'''
TOKEN = "remote-workers-token-0123"  # noqa: S105  (the token _env() gives clients)


class _Server:
    """An `nbflow server` process on ``db``, restartable on the same port."""

    def __init__(self, folder: Path, db: str) -> None:
        self.folder, self.db = folder, db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> _Server:
        command = [
            sys.executable, "-m", "nbflow", "server", "--port", str(self.port),
            "--db", self.db, "--token", TOKEN,
        ]  # fmt: skip
        with (self.folder / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.folder, env=_env(), stdout=log, stderr=log
            )
        wait_for(lambda: self._get("/healthz") is not None, "the server to answer")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(  # noqa: S310
            self.url + path, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310
                return json.loads(reply.read())
        except OSError:
            return None

    def log(self, task_id: str) -> dict[str, Any]:
        found = self._get(f"/api/v1/tasks/{task_id}/log")
        return found if found is not None else {"text": "", "running": None}


class _StreamReader:
    """Reads the server's event stream in a thread, keeping its `log` events."""

    def __init__(self, url: str) -> None:
        self.logs: list[dict[str, Any]] = []
        request = urllib.request.Request(  # noqa: S310
            f"{url}/api/v1/events", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        self._reply = urllib.request.urlopen(request, timeout=60)  # noqa: S310
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = ""
        try:
            for raw in self._reply:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "log":
                    self.logs.append(json.loads(line.removeprefix("data: ")))
                elif not line:
                    event = ""
        except (OSError, ValueError, AttributeError):  # closed by the test's thread
            return

    def close(self) -> None:
        self._reply.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "lg_pipeline.py").write_text(PIPELINE)
    (tmp_path / "luigi.cfg").write_text(
        textwrap.dedent(
            """\
            [scheduler]
            reconnect_timeout = 60
            [worker]
            ping_interval = 0.5
            """
        )
    )
    return tmp_path


@pytest.fixture
def real_server(folder: Path, db_url: str) -> Iterator[_Server]:
    live = _Server(folder, db_url).start()
    yield live
    live.stop()


def _run(folder: Path, server: _Server, task: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "nbflow", "run", "--no-progress", "--no-lock",
        "--scheduler-url", server.url, "--module", "lg_pipeline", task,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=folder, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _has(
    server: _Server, task_id: str, check: Callable[[dict[str, Any]], bool]
) -> bool:
    return check(server.log(task_id))


def test_logs_of_a_real_remote_worker_live_after_and_across_a_restart(
    folder: Path, real_server: _Server
) -> None:
    (folder / "hold").touch()
    stream = _StreamReader(real_server.url)
    client = _run(folder, real_server, "LgChatty")
    task_id = "LgChatty__99914b932b"
    try:
        wait_for(
            lambda: _has(
                real_server,
                task_id,
                lambda log: log["running"] is True and "logged 2" in log["text"],
            ),
            "the running task's log on the server",
            process=client,
        )
        wait_for(lambda: bool(stream.logs), "a log event on the stream", process=client)
        (folder / "hold").unlink()
        _out, err = client.communicate(timeout=60)
    finally:
        stream.close()
        if client.poll() is None:
            client.kill()
            client.communicate()

    assert client.returncode == 0, err
    after = real_server.log(task_id)
    real_server.stop()
    real_server.start()
    restarted = real_server.log(task_id)

    assert after["running"] is False
    assert "printed 0\nWARNING lg_pipeline: logged 0\nprinted 1\n" in after["text"]
    assert after["text"].endswith("done\n")
    assert after["dropped"] == 0
    assert restarted == after
    assert stream.logs[0]["task_id"] == task_id
    assert stream.logs[0]["offset"] == 0
    streamed = "".join(message["text"] for message in stream.logs)
    assert after["text"].startswith(streamed)


def test_logs_of_a_real_task_printing_five_megabytes_keep_the_last_one(
    folder: Path, real_server: _Server
) -> None:
    client = _run(folder, real_server, "LgFlood")
    _out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err.decode()

    wait_for(
        lambda: _has(
            real_server, "LgFlood__99914b932b", lambda log: not log["running"]
        ),
        "the flood's log to be complete",
    )
    found = real_server.log("LgFlood__99914b932b")

    lines = [f"{n:08d}".ljust(1023, ".") + "\n" for n in range(5 * 1024)]
    assert found["text"] == "".join(lines[-1024:])
    assert found["dropped"] == 4 * MEGABYTE
    assert found["offset"] == 5 * MEGABYTE
