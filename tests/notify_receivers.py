"""Real receivers on loopback for the notification tests: SMTP (aiosmtpd) and HTTP.

Waiting for a message uses a generous bound and fails the test when nothing came;
nothing here asserts on timing.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import EmailMessage

#: Seconds a test waits for a message before it fails.
PATIENCE = 20.0


def free_port() -> int:
    """Return a port nothing listens on now (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """What an aiosmtpd server received: each message with its envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[tuple[str, ...], EmailMessage]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append((tuple(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int) -> list[tuple[tuple[str, ...], EmailMessage]]:
        """Wait until ``count`` messages arrived; fail the test if they do not."""
        with self._arrived:
            arrived = self._arrived.wait_for(
                lambda: len(self.messages) >= count, PATIENCE
            )
        assert arrived, f"{len(self.messages)} of {count} e-mails arrived"
        return list(self.messages)


def body_of(message: EmailMessage) -> str:
    """Return the text of a message's first text part."""
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return str(part.get_content())


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """Run an aiosmtpd server on a free loopback port; yield its mailbox and port."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class Posts:
    """The JSON bodies an HTTP receiver got, by path."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self._arrived = threading.Condition()

    def add(self, path: str, body: Any) -> None:
        with self._arrived:
            self.bodies.append((path, body))
            self._arrived.notify_all()

    def wait_for(self, check: Any) -> list[tuple[str, Any]]:
        """Wait until ``check(bodies)`` holds; fail the test if it never does."""
        with self._arrived:
            held = self._arrived.wait_for(lambda: check(self.bodies), PATIENCE)
        assert held, f"the receiver got {self.bodies!r}"
        return list(self.bodies)


@contextlib.contextmanager
def http_receiver() -> Iterator[tuple[Posts, int]]:
    """Run an HTTP server on a free loopback port that records JSON POSTs."""
    posts = Posts()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            posts.add(self.path, json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield posts, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
