"""Helpers of the Lab tests: a jupyter server's address, a kernel, waiting.

The server runs on a free port of 127.0.0.1 with a random token, a temporary root
directory and a temporary runtime directory (``JUPYTER_RUNTIME_DIR``, where kernels
write their run boards); the extension is enabled by the checkout's own
``jupyter-config`` (``JUPYTER_CONFIG_PATH``), as the installed wheel enables it. A
notebook session (``work/pipeline.ipynb``) gives a kernel with ``%load_ext nbflow``,
driven over its connection file with jupyter_client. The server is stopped by its PID.
"""

from __future__ import annotations

import http.client
import json
import queue
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Iterator

#: The checkout under test.
REPOSITORY = Path(__file__).resolve().parents[2]
#: Seconds anything in these tests may take before it counts as hung.
PATIENCE = 60.0


def wait_for(what: str, check: Callable[[], Any], timeout: float = PATIENCE) -> Any:
    """Return ``check()``'s first true value; fail (naming ``what``) if none comes."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Jupyter:
    """A running jupyter server: address, token, root and runtime directories."""

    port: int
    token: str
    root: Path
    runtime: Path
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "",
    ) -> Reply:
        """Send a request; ``token=None`` sends none, ``""`` the server's own."""
        headers = {"Content-Type": "application/json"}
        sent = self.token if token == "" else token
        if sent is not None:
            headers["Authorization"] = f"token {sent}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            return Reply(answer.status, answer.read())
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)


@dataclass
class Kernel:
    """A kernel of the server, driven over its connection file."""

    kernel_id: str
    client: Any
    board: Path
    pending: list[str] = field(default_factory=list)
    #: the server's session of the kernel's notebook
    session_id: str = ""

    def execute(self, code: str, timeout: float = PATIENCE) -> dict[str, Any]:
        """Run ``code``; return its stdout, stderr, results and errors."""
        seen: dict[str, Any] = {"stdout": "", "stderr": "", "results": [], "error": []}

        def hook(message: dict[str, Any]) -> None:
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                seen[content["name"]] += content["text"]
            elif kind == "execute_result":
                seen["results"].append(content["data"])
            elif kind == "error":
                seen["error"].append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(
            code, timeout=timeout, output_hook=hook, store_history=False
        )
        seen["status"] = reply["content"]["status"]
        return seen

    def send(self, code: str) -> str:
        """Start ``code`` and return at once (the kernel is busy until it ends)."""
        message_id: str = self.client.execute(code, store_history=False)
        self.pending.append(message_id)
        return message_id

    def finish(self, message_id: str, timeout: float = PATIENCE) -> dict[str, Any]:
        """Wait for the reply to ``send``'s code; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == message_id:
                self.pending.remove(message_id)
                content: dict[str, Any] = reply["content"]
                return content
        pytest.fail("the kernel did not answer")

    def read_board(self) -> dict[str, Any] | None:
        try:
            board: dict[str, Any] = json.loads(self.board.read_text())
        except FileNotFoundError:
            return None
        return board


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(server: Jupyter, process: subprocess.Popen[bytes]) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"jupyter server exited:\n{server.log.read_text()[-3000:]}")
        try:
            return server.get("/api/status").status == 200
        except OSError:
            return False

    wait_for("the jupyter server to answer", ready)


@contextmanager
def open_kernel(jupyter: Jupyter, path: str) -> Iterator[Kernel]:
    """Start a notebook session for ``path`` on the server; yield its kernel."""
    reply = jupyter.request(
        "POST",
        "/api/sessions",
        {"path": path, "type": "notebook", "kernel": {"name": "python3"}},
    )
    assert reply.status == 201, reply.body
    kernel_id = reply.json()["kernel"]["id"]
    connection = jupyter.runtime / f"kernel-{kernel_id}.json"
    wait_for("the kernel's connection file", connection.exists)
    client = BlockingKernelClient()
    client.load_connection_file(str(connection))
    client.start_channels()
    try:
        wait_for("the kernel to answer", lambda: _answers(client))
        live = Kernel(kernel_id, client, jupyter.runtime / "nbflow" / connection.name)
        live.session_id = reply.json()["id"]
        setup = live.execute("%load_ext nbflow\nimport nbflow, os, pathlib, time")
        assert setup["status"] == "ok", setup
        yield live
    finally:
        client.stop_channels()


def _answers(client: BlockingKernelClient) -> bool:
    """Ask for the kernel's info; return whether it answered within 2 s.

    (``wait_for_ready`` takes a heartbeat not yet beating for a dead kernel.)
    """
    asked = client.kernel_info()
    try:
        while True:
            reply = client.get_shell_msg(timeout=2)
            if reply["parent_header"].get("msg_id") == asked:
                return True
    except queue.Empty:
        return False


__all__ = [
    "PATIENCE",
    "REPOSITORY",
    "Jupyter",
    "Kernel",
    "Reply",
    "free_port",
    "open_kernel",
    "wait_for",
    "wait_ready",
]
