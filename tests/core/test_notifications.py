from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import sys
import threading
from email import message_from_string
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core import notifications
from nbflow.core.config import Settings, use_settings

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def _settings(**sections: dict[str, object]) -> Iterator[None]:
    with use_settings(Settings.from_mapping(sections)):
        yield


class NotifyFailing(nbflow.Task):
    day = nbflow.Parameter()
    label = nbflow.Parameter(default="<b>&")


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


# --- a real SMTP server on a local port (the protocol's happy path only) -------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        while raw := self.rfile.readline():
            command = raw.decode().strip()
            verb = command.split(" ")[0].upper()
            if verb == "EHLO":
                self.server.helo = command  # type: ignore[attr-defined]
                self._reply("250 test")
            elif verb == "DATA":
                self._reply("354 go on")
                self.server.received.append(self._read_data())  # type: ignore[attr-defined]
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self.server.commands.append(command)  # type: ignore[attr-defined]
                self._reply("250 ok")

    def _read_data(self) -> str:
        lines = []
        while (line := self.rfile.readline().decode()) != ".\r\n":
            lines.append(line)
        return "".join(lines)


@pytest.fixture
def smtp_server() -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received, server.commands = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# --- settings-driven decisions --------------------------------------------------------


def test_prefix_is_added_only_when_configured() -> None:
    with _settings():
        assert notifications._prefix("subject") == "subject"
    with _settings(email={"prefix": "[etl]"}):
        assert notifications._prefix("subject") == "[etl] subject"
    old_name = pytest.warns(DeprecationWarning, match="email-prefix is deprecated")
    with _settings(core={"email-prefix": "[old]"}), old_name:  # Luigi's old name
        assert notifications._prefix("subject") == "[old] subject"


def test_recipients_are_the_receiver_then_the_additional_ones() -> None:
    with _settings(email={"receiver": "a@x.org"}):
        assert notifications._email_recipients() == ["a@x.org"]
        assert notifications._email_recipients("b@x.org") == ["a@x.org", "b@x.org"]
        assert notifications._email_recipients(["b@x.org", "c@x.org"]) == [
            "a@x.org",
            "b@x.org",
            "c@x.org",
        ]
    with _settings():
        assert notifications._email_recipients() == []


@pytest.mark.parametrize("method", ["smtp", "ses", "sendgrid", "sns"])
def test_send_email_dispatches_on_the_method_with_split_addresses(
    monkeypatch, method: str
) -> None:
    sender = _Recorder()
    monkeypatch.setattr(notifications, f"send_email_{method}", sender)

    with _settings(email={"method": method, "prefix": "[p]"}):
        notifications.send_email("Oops", "body", "me@x.org", ["a@x.org, b@x.org"])

    assert sender.calls == [
        ("me@x.org", "[p] Oops", "body", ["a@x.org", "b@x.org"], None)
    ]


def test_send_email_sends_nothing_without_recipients_or_with_format_none(
    monkeypatch,
) -> None:
    sender = _Recorder()
    monkeypatch.setattr(notifications, "send_email_smtp", sender)

    with _settings():
        notifications.send_email("s", "m", "me@x.org", [])
        notifications.send_email("s", "m", "me@x.org", (None,))
    with _settings(email={"format": "none"}):
        notifications.send_email("s", "m", "me@x.org", ["a@x.org"])

    assert sender.calls == []


def test_send_email_from_a_terminal_needs_force_send(monkeypatch, caplog) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    sender = _Recorder()
    monkeypatch.setattr(notifications, "send_email_smtp", sender)
    monkeypatch.setattr(sys, "stdout", Terminal())
    caplog.set_level(logging.INFO, logger=notifications.logger.name)

    with _settings():
        notifications.send_email("s", "m", "me@x.org", ["a@x.org"])
    skipped = len(sender.calls)
    with _settings(email={"force_send": "true"}):
        notifications.send_email("s", "m", "me@x.org", ["a@x.org"])

    assert skipped == 0
    assert len(sender.calls) == 1
    assert "running from a terminal" in caplog.text


def test_send_error_email_goes_to_the_receiver_from_the_sender(monkeypatch) -> None:
    sender = _Recorder()
    monkeypatch.setattr(notifications, "send_email_smtp", sender)

    with _settings(email={"receiver": "ops@x.org", "sender": "etl@x.org"}):
        notifications.send_error_email("failed", "details", "dev@x.org")

    assert sender.calls == [
        ("etl@x.org", "failed", "details", ["ops@x.org", "dev@x.org"], None)
    ]


def test_patching_the_luigi_module_path_reaches_the_dispatch(monkeypatch) -> None:
    sender = _Recorder()
    monkeypatch.setattr(nbflow.notifications, "send_email_smtp", sender)

    with _settings():
        notifications.send_email("s", "m", "me@x.org", ["a@x.org"])

    assert len(sender.calls) == 1


# --- senders --------------------------------------------------------------------------


def test_smtp_sends_through_a_real_server(smtp_server) -> None:
    host, port = smtp_server.server_address
    smtp_settings = {"host": host, "port": port, "local_hostname": "etl-box"}

    with _settings(smtp=smtp_settings):
        notifications.send_email_smtp(
            "me@x.org", "Sübject", "héllo\nworld", ["a@x.org", "b@x.org"], None
        )

    assert smtp_server.helo.lower() == "ehlo etl-box"
    assert [command.lower() for command in smtp_server.commands] == [
        "mail from:<me@x.org>",
        "rcpt to:<a@x.org>",
        "rcpt to:<b@x.org>",
    ]
    message = message_from_string(smtp_server.received[0])
    assert message["To"] == "a@x.org,b@x.org"
    body = message.get_payload()[0]
    assert body.get_content_type() == "text/plain"
    assert body.get_payload(decode=True).decode("utf-8") == "héllo\nworld"


def test_smtp_unreachable_server_is_logged_not_raised(caplog) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with _settings(smtp={"host": "127.0.0.1", "port": port, "timeout": 2}):
        notifications.send_email_smtp("me@x.org", "s", "m", ["a@x.org"], None)

    assert "could not send e-mail through the SMTP server" in caplog.text
    assert "Check the [smtp] settings" in caplog.text


def test_sns_publishes_to_the_topic_with_a_subject_of_at_most_100_chars(
    monkeypatch,
) -> None:
    published: list[dict[str, str]] = []

    class Topic:
        def __init__(self, arn: str) -> None:
            self.arn = arn

        def publish(self, **kwargs: str) -> dict[str, str]:
            published.append({"arn": self.arn, **kwargs})
            return {}

    class Resource:
        def Topic(self, arn: str) -> Topic:
            return Topic(arn)

    class Boto3:
        @staticmethod
        def resource(name: str) -> Resource:
            assert name == "sns"
            return Resource()

    monkeypatch.setitem(sys.modules, "boto3", Boto3)
    subject = "x" * 60 + "y" * 60

    notifications.send_email_sns("me", subject, "m", ["arn:topic"], None)

    assert published[0]["arn"] == "arn:topic"
    assert len(published[0]["Subject"]) <= 100
    assert published[0]["Subject"].startswith("x" * 48)
    assert published[0]["Subject"].endswith("y" * 48)


# --- message formatting ---------------------------------------------------------------


def test_generate_email_holds_unicode_and_headers() -> None:
    with _settings():
        message = notifications.generate_email(
            "me@x.org", "sübjéct", "你好", ["a@x.org", "b@x.org"], None
        )

    assert message["To"] == "a@x.org,b@x.org"
    assert message.get_payload()[0].get_payload(decode=True).decode() == "你好"


def test_format_task_error_plain_lists_name_parameters_and_traceback() -> None:
    task = NotifyFailing(day="2024-01-02")

    with _settings():
        body = notifications.format_task_error(
            "Failed", task, "nbflow run NotifyFailing", "Traceback\nValueError: Oops!"
        )

    assert "Name: NotifyFailing\n" in body
    assert "Parameters:\n  day  : 2024-01-02\n  label: <b>&\n" in body
    assert "ValueError: Oops!" in body


def test_format_task_error_html_escapes_values_and_cuts_long_tracebacks() -> None:
    task = NotifyFailing(day="2024-01-02")

    with _settings(email={"format": "html", "traceback_max_length": 20}):
        body = notifications.format_task_error(
            "<Failed>", task, "run", "Traceback " + "x" * 50
        )

    assert "<th>name</th><td>NotifyFailing</td>" in body
    assert "<th>label</th><td>&lt;b&gt;&amp;</td>" in body
    assert "<h2>&lt;Failed&gt;</h2>" in body
    assert "Traceback exceeds max length and has been truncated." in body
    assert "x" * 11 not in body


def test_test_notifications_task_fails_where_asked() -> None:
    with pytest.raises(ValueError, match="Testing notifications"):
        notifications.TestNotificationsTask().run()
    with pytest.raises(ValueError, match="Testing notifications"):
        notifications.TestNotificationsTask(raise_in_complete=True).complete()
    assert notifications.TestNotificationsTask().complete() is False
