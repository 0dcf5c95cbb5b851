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
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

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


__all__ = [
    "PATIENCE",
    "REPOSITORY",
    "Jupyter",
    "Kernel",
    "Reply",
    "free_port",
    "wait_for",
    "wait_ready",
]
