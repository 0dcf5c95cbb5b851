"""RemoteScheduler against a real luigid, and against small real HTTP servers."""

from __future__ import annotations

import http.server
import importlib.util
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, ClassVar

import pytest

import nbflow
from nbflow.core.config import Settings, use_settings
from nbflow.core.remote import ServerScheduler
from nbflow.core.rpc import (
    RemoteScheduler,
    RemoteSchedulerUnsupportedError,
    RPCError,
    SchedulerUrlError,
)
from nbflow.core.worker import Worker

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Seconds luigid may take to answer its first ping before the tests are skipped.
_LUIGID_START = 60.0
_LUIGID = "import sys; from luigi.cmdline import luigid; luigid(sys.argv[1:])"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _answers_ping(url: str) -> bool:
    body = urllib.parse.urlencode({"data": json.dumps({"worker": "probe"})}).encode()
    try:
        ping = f"{url}/api/ping"
        with urllib.request.urlopen(ping, body, timeout=2) as answer:  # noqa: S310
            status: int = answer.status
    except (urllib.error.URLError, OSError):
        return False
    return status == 200


@pytest.fixture(scope="module")
def luigid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a real luigid on a free port; yield its url; stop it by its pid."""
    if importlib.util.find_spec("luigi") is None:
        pytest.skip("luigid needs the luigi package: pip install 'nbflow[test]'")
    home: Path = tmp_path_factory.mktemp("luigid")
    config = home / "luigi.cfg"
    config.write_text(f"[scheduler]\nstate_path = {home / 'state.pickle'}\n")
    port = _free_port()
    command = [sys.executable, "-c", _LUIGID, "--port", str(port)]
    command += ["--address", "127.0.0.1"]
    log = (home / "luigid.log").open("w")
    process = subprocess.Popen(
        command,
        env={**os.environ, "LUIGI_CONFIG_PATH": str(config)},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + _LUIGID_START
    try:
        while not _answers_ping(url):
            if process.poll() is not None or time.monotonic() > deadline:
                output = (home / "luigid.log").read_text()[-2000:]
                pytest.skip(f"luigid did not start on port {port}: {output}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def quick_retries() -> Iterator[None]:
    """Two attempts, 10 ms apart, one second each."""
    core = {"rpc_retry_attempts": "2", "rpc_retry_wait": "0.01"}
    core["rpc_connect_timeout"] = "1"
    with use_settings(Settings.from_mapping({"core": core})):
        yield


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answer every POST with ``reply`` and keep what was asked."""

    reply: ClassVar[bytes] = b""
    seen: ClassVar[list[tuple[str, str | None, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        self.seen.append((self.path, self.headers.get("Authorization"), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


@pytest.fixture
def fake_server() -> Iterator[tuple[str, type[_Recorder]]]:
    """A real HTTP server on a free port answering with a chosen body."""
    handler = type("Recorder", (_Recorder,), {"reply": b"", "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- against luigid ------------------------------------------------------------------


def test_remote_scheduler_add_task_then_task_list_round_trips(luigid: str) -> None:
    scheduler = RemoteScheduler(luigid)

    scheduler.add_task(
        task_id="RpcListed_1", family="RpcListed", params={"n": "1"}, worker="w-list"
    )
    pending = scheduler.task_list(status="PENDING")

    assert pending["RpcListed_1"]["name"] == "RpcListed"
    assert pending["RpcListed_1"]["params"] == {"n": "1"}
    assert "RpcListed_1" in scheduler.task_search("RpcListed")["PENDING"]


def test_remote_scheduler_get_work_hands_out_the_pending_task(luigid: str) -> None:
    scheduler = RemoteScheduler(luigid)
    scheduler.add_task(task_id="RpcWork_1", family="RpcWork", worker="w-work")

    work = scheduler.get_work(worker="w-work", host="here")

    assert work["task_id"] == "RpcWork_1"
    assert work["task_family"] == "RpcWork"
    assert scheduler.task_list(status="RUNNING")["RpcWork_1"]["worker_running"] == (
        "w-work"
    )


def test_remote_scheduler_status_message_and_progress_round_trip(luigid: str) -> None:
    scheduler = RemoteScheduler(luigid)
    scheduler.add_task(task_id="RpcStatus_1", family="RpcStatus", worker="w-status")

    scheduler.set_task_status_message("RpcStatus_1", "half way")
    scheduler.set_task_progress_percentage("RpcStatus_1", 50)

    assert scheduler.get_task_status_message("RpcStatus_1") == {
        "taskId": "RpcStatus_1",
        "statusMessage": "half way",
    }
    progress = scheduler.get_task_progress_percentage("RpcStatus_1")
    assert progress["progressPercentage"] == 50


def test_remote_scheduler_ping_registers_the_worker(luigid: str) -> None:
    scheduler = RemoteScheduler(luigid)

    answer = scheduler.ping(worker="w-ping")

    assert answer == {"rpc_messages": []}
    assert "w-ping" in {worker["name"] for worker in scheduler.worker_list()}


def test_remote_scheduler_unknown_method_is_an_rpc_error_without_retries(
    luigid: str, quick_retries: None, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = RemoteScheduler(luigid)

    with pytest.raises(RPCError, match="HTTP 404") as raised:
        scheduler._request("/api/no_such_method", {})

    assert isinstance(raised.value.sub_exception, urllib.error.HTTPError)
    assert not [r for r in caplog.records if r.name == "nbflow.core.rpc"]


# --- against other real servers ------------------------------------------------------


def test_remote_scheduler_closed_port_raises_after_the_configured_attempts(
    quick_retries: None, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = RemoteScheduler(f"http://127.0.0.1:{_free_port()}")
    caplog.set_level(logging.WARNING, logger="nbflow.core.rpc")

    with pytest.raises(RPCError) as raised:
        scheduler.ping(worker="w-closed")

    message = str(raised.value)
    assert "no answer after 2 attempt(s)" in message
    assert "Expected a central scheduler" in message
    assert "Fix: start the scheduler" in message
    assert isinstance(raised.value.sub_exception, urllib.error.URLError)
    assert raised.value.__cause__ is raised.value.sub_exception
    retries = [r for r in caplog.records if r.name == "nbflow.core.rpc"]
    assert [r.args[1:3] for r in retries] == [(1, 2)]  # type: ignore[index]


def test_remote_scheduler_bad_json_raises_rpc_error(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b"<html>not a scheduler</html>"

    with pytest.raises(RPCError, match="not a scheduler's answer") as raised:
        RemoteScheduler(url).task_list()

    assert isinstance(raised.value.sub_exception, ValueError)


def test_remote_scheduler_json_without_response_raises_rpc_error(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b'{"result": 1}'

    with pytest.raises(RPCError, match="Expected JSON such as") as raised:
        RemoteScheduler(url).graph()

    assert raised.value.sub_exception is None


def test_remote_scheduler_get_work_asks_again_on_null(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b'{"response": null}'

    with pytest.raises(RPCError, match="null response 3 times"):
        RemoteScheduler(url).get_work(worker="w-null")

    assert len(handler.seen) == 3


def test_remote_scheduler_sends_luigids_form_encoding(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b'{"response": {"taskId": "A_1", "statusMessage": null}}'

    answer = RemoteScheduler(url + "/").get_task_status_message("A_1")

    assert answer == {"taskId": "A_1", "statusMessage": None}
    path, authorization, body = handler.seen[0]
    assert path == "/api/get_task_status_message"
    assert authorization is None
    form = urllib.parse.parse_qs(body)
    assert json.loads(form["data"][0]) == {"task_id": "A_1"}


def test_remote_scheduler_sends_the_configured_token_as_bearer(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b'{"response": true}'
    settings = Settings.from_mapping({"scheduler": {"token": "s3cret"}})

    with use_settings(settings):
        RemoteScheduler(url).has_task_history()

    assert handler.seen[0][1] == "Bearer s3cret"


def test_remote_scheduler_sends_url_credentials_as_basic(
    fake_server: tuple[str, type[_Recorder]],
) -> None:
    url, handler = fake_server
    handler.reply = b'{"response": null}'

    RemoteScheduler(url.replace("http://", "http://ann:pw@")).prune()

    assert handler.seen[0][1] == "Basic YW5uOnB3"


# --- errors and the worker ---------------------------------------------------------


def test_remote_scheduler_rejects_a_unix_socket_url() -> None:
    with pytest.raises(SchedulerUrlError) as raised:
        RemoteScheduler("http+unix://%2Ftmp%2Fluigid.sock")

    message = str(raised.value)
    assert "unsupported scheduler url" in message
    assert "Expected an http:// or https:// url" in message
    assert "Fix:" in message


def test_rpc_error_keeps_luigis_signature_and_pickles() -> None:
    cause = ConnectionRefusedError("refused")
    error = RPCError("could not connect", cause)

    copy = pickle.loads(pickle.dumps(error))

    assert str(copy) == "could not connect"
    assert isinstance(copy.sub_exception, ConnectionRefusedError)
    assert isinstance(copy, nbflow.NbflowError)


def test_worker_drives_nbflows_client_for_a_luigi_remote_scheduler() -> None:
    remote = RemoteScheduler("http://ann:T0k@scheduler.example:8082/")

    worker = Worker(scheduler=remote)

    assert isinstance(worker.scheduler, ServerScheduler)
    assert worker.scheduler.url == "http://scheduler.example:8082"
    assert worker.scheduler.worker_id == worker.id


def test_remote_scheduler_unsupported_error_is_kept_for_code_that_catches_it() -> None:
    error = RemoteSchedulerUnsupportedError("nbflow.Worker", "http://x:8082")

    assert isinstance(error, NotImplementedError)
    assert "http://x:8082" in str(error)


def test_remote_scheduler_is_luigis_names() -> None:
    assert nbflow.RemoteScheduler is RemoteScheduler
    assert nbflow.rpc.RPCError is RPCError
