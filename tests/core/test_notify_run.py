"""Runs notify failures: e-mail to a real SMTP server, a JSON webhook and apprise to a
real HTTP receiver on loopback; dead targets are logged once and change nothing."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import textwrap
import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core import notifications, notify_sender
from nbflow.core.config import Settings, use_settings
from nbflow.core.notify_sender import BackgroundSender
from nbflow.core.summary import RunStatus
from tests.notify_receivers import body_of, free_port, http_receiver, smtp_server

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

VISUALISER = "http://scheduler.example:8082"


class NotifyRunBoom(nbflow.Task):
    day = nbflow.Parameter()

    def run(self) -> None:
        raise ValueError(f"boom on {self.day}\nsecond line")


class NotifyRunOwned(NotifyRunBoom):
    owner_email = "owner@example.com"


class NotifyRunBadComplete(nbflow.Task):
    def complete(self) -> bool:
        raise OSError("the store cannot be listed")


class NotifyRunFine(nbflow.Task):
    def run(self) -> None:
        pass


@pytest.fixture(autouse=True)
def sender(monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundSender]:
    """A fresh process sender (and SMTP failure memory) for each test."""
    fresh = BackgroundSender()
    monkeypatch.setattr(notify_sender, "_SHARED", fresh)
    monkeypatch.setattr(notifications, "_SMTP_FAILING", set())
    yield fresh
    fresh.close(5.0)


@contextlib.contextmanager
def settings(**sections: Mapping[str, object]) -> Iterator[None]:
    with use_settings(Settings.from_mapping(sections)):
        yield


def mail_settings(port: int, **more: dict[str, object]) -> dict[str, dict[str, object]]:
    return {
        "email": {"receiver": "ops@example.com", "force_send": True},
        "smtp": {"host": "127.0.0.1", "port": port, "timeout": 5},
        "notify": {"public_url": VISUALISER},
        **more,
    }


def link_to(task: nbflow.Task) -> str:
    return f"{VISUALISER}/#/task/{urllib.parse.quote(task.task_id, safe='')}"


def test_run_failure_mails_the_task_its_error_and_its_link(
    sender: BackgroundSender,
) -> None:
    task = NotifyRunBoom(day="2024-01-31")

    with smtp_server() as (mailbox, port), settings(**mail_settings(port)):
        result = nbflow.build([task], detailed_summary=True)
        assert sender.flush(20.0)
        [(recipients, message)] = mailbox.wait_for(1)

    assert result.status is RunStatus.FAILED
    assert recipients == ("ops@example.com",)
    assert (
        message["Subject"]
        == f"nbflow: {task} FAILED. Host: {message['Subject'].split('Host: ')[1]}"
    )
    body = body_of(message)
    assert "Name: NotifyRunBoom" in body
    assert "ValueError: boom on 2024-01-31" in body
    assert link_to(task) in body


def test_run_failure_mails_the_owner_too(sender: BackgroundSender) -> None:
    with smtp_server() as (mailbox, port), settings(**mail_settings(port)):
        nbflow.build([NotifyRunOwned(day="d1")])
        assert sender.flush(20.0)
        [(recipients, _)] = mailbox.wait_for(1)

    assert recipients == ("ops@example.com", "owner@example.com")


def test_run_without_send_failure_email_mails_nothing(sender: BackgroundSender) -> None:
    with smtp_server() as (mailbox, port):
        given = mail_settings(port, worker={"send_failure_email": False})
        with settings(**given):
            nbflow.build([NotifyRunBoom(day="quiet")])
            assert sender.flush(20.0)

    assert mailbox.messages == []


def test_run_scheduling_failure_is_mailed(sender: BackgroundSender) -> None:
    task = NotifyRunBadComplete()

    with smtp_server() as (mailbox, port), settings(**mail_settings(port)):
        nbflow.build([task])
        assert sender.flush(20.0)
        [(_, message)] = mailbox.wait_for(1)

    assert f"nbflow: {task} failed scheduling" in message["Subject"]
    assert "the store cannot be listed" in body_of(message)


def test_run_with_batch_emails_sends_one_message_for_its_failures(
    sender: BackgroundSender,
) -> None:
    tasks = [NotifyRunBoom(day=f"batch-{n}") for n in range(3)]

    with smtp_server() as (mailbox, port):
        given = mail_settings(port, scheduler={"batch_emails": True})
        with settings(**given):
            nbflow.build(tasks)
            assert sender.flush(20.0)
        messages = mailbox.wait_for(1)

    assert len(messages) == 1
    recipients, message = messages[0]
    assert recipients == ("ops@example.com",)
    assert message["Subject"] == "nbflow: 3 failures in the last 60 minutes"
    body = body_of(message)
    for task in tasks:
        assert f"{task} (1 failure) {link_to(task)}" in body
    assert "ValueError: boom on batch-" in body


def test_run_failure_reaches_the_webhook_and_apprise(sender: BackgroundSender) -> None:
    task = NotifyRunBoom(day="hooked")

    with http_receiver() as (posts, port):
        targets = {
            "webhook": f"http://127.0.0.1:{port}/hook",
            "urls": f"json://127.0.0.1:{port}/apprise",
            "public_url": VISUALISER,
        }
        with settings(notify=targets):
            result = nbflow.build([task], detailed_summary=True)
            assert sender.flush(20.0)
        bodies = dict(posts.wait_for(lambda got: len(got) >= 2))

    assert result.status is RunStatus.FAILED
    [failure] = bodies["/hook"]["failures"]
    assert failure["task_id"] == task.task_id
    assert failure["task"] == str(task)
    assert failure["error"] == "ValueError: boom on hooked"
    assert failure["url"] == link_to(task)
    assert failure["params"] == {"day": "hooked"}
    chat = bodies["/apprise"]
    assert str(task) in chat["title"]
    assert "ValueError: boom on hooked" in chat["message"]
    assert link_to(task) in chat["message"]


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_dead_mail_server_and_webhook_are_logged_once_and_change_no_run(
    sender: BackgroundSender, caplog: pytest.LogCaptureFixture
) -> None:
    dead = free_port()
    given = mail_settings(dead, notify={"webhook": f"http://127.0.0.1:{dead}/x"})
    caplog.set_level(logging.INFO)

    with settings(**given):
        first = nbflow.build([NotifyRunBoom(day="dead-1")], detailed_summary=True)
        assert sender.flush(20.0)
        second = nbflow.build([NotifyRunBoom(day="dead-2")], detailed_summary=True)
        fine = nbflow.build([NotifyRunFine()], detailed_summary=True)
        assert sender.flush(20.0)

    assert (first.status, second.status) == (RunStatus.FAILED, RunStatus.FAILED)
    assert fine.status is RunStatus.SUCCESS
    smtp_logged = _messages(caplog, "could not send e-mail through the SMTP server")
    assert len(smtp_logged) == 1
    assert f"127.0.0.1:{dead}" in smtp_logged[0]
    webhook_logged = _messages(caplog, "could not send a notification (webhook)")
    assert len(webhook_logged) == 1
    assert "URLError" in webhook_logged[0]
    assert not any(r.exc_info for r in caplog.records)


def test_process_exit_sends_what_is_queued(tmp_path: Path) -> None:
    script = tmp_path / "exits.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import nbflow
            from nbflow.core import failure_notifier

            failure_notifier.RUN_END_WAIT = 0.0  # the run's end leaves it all queued

            class ExitBoom(nbflow.Task):
                def run(self):
                    raise RuntimeError("failed just before exit")

            nbflow.build([ExitBoom()])
            sys.exit(7)
            """
        )
    )

    with http_receiver() as (posts, port):
        config = tmp_path / "nbflow.toml"
        config.write_text(f'[notify]\nwebhook = "http://127.0.0.1:{port}/exit"\n')
        env: dict[str, Any] = {"NBFLOW_CONFIG_PATH": str(config)}
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env={**_environment(), **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        [(path, body)] = posts.wait_for(lambda got: len(got) >= 1)

    assert done.returncode == 7, done.stderr
    assert path == "/exit"
    assert body["failures"][0]["error"] == "RuntimeError: failed just before exit"


def _environment() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_notifications_debug_keeps_mail_from_being_sent_unless_forced(
    sender: BackgroundSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications, "DEBUG", True)

    with smtp_server() as (mailbox, port):
        quiet = mail_settings(port)
        quiet["email"] = {"receiver": "ops@example.com"}
        with settings(**quiet):
            nbflow.build([NotifyRunBoom(day="debug-quiet")])
            assert sender.flush(20.0)
        assert mailbox.messages == []
        with settings(**mail_settings(port)):  # force_send
            nbflow.build([NotifyRunBoom(day="debug-forced")])
            assert sender.flush(20.0)
        [(_, message)] = mailbox.wait_for(1)

    assert "debug-forced" in message["Subject"]


CLI_MODULE = """
import nbflow

class CliBoom(nbflow.Task):
    def run(self):
        raise RuntimeError("cli failure")
"""


def _cli_run(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "nbflow.toml").write_text(config)
    return subprocess.run(
        [sys.executable, "-m", "nbflow", "run", "--module", "clitasks", "CliBoom"],
        cwd=tmp_path,
        env={**_environment(), "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_exit_code_is_the_same_with_dead_targets(tmp_path: Path) -> None:
    (tmp_path / "clitasks.py").write_text(CLI_MODULE)
    dead = free_port()

    plain = _cli_run(tmp_path, "")
    notified = _cli_run(
        tmp_path,
        '[email]\nreceiver = "ops@example.com"\nforce_send = true\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {dead}\n'
        f'[notify]\nwebhook = "http://127.0.0.1:{dead}/hook"\n',
    )

    assert plain.returncode != 0
    assert notified.returncode == plain.returncode
    assert notified.stderr.count("could not send e-mail through the SMTP server") == 1
    assert notified.stderr.count("could not send a notification (webhook)") == 1
    assert "Traceback" not in notified.stderr.split("cli failure")[-1]


def test_build_returns_with_its_error_email_handed_over_as_luigis_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(notifications, "send_error_email", lambda *a: calls.append(a))
    task = NotifyRunBoom(day="patched")

    with settings(email={"receiver": "nowhere@example.com", "prefix": "[TEST]"}):
        nbflow.build([task])

    [(subject, body, owner)] = calls  # no flush: the run's end waited for it
    assert str(task) in subject
    assert "Name: NotifyRunBoom\n" in body
    assert "day: patched\n" in body
    assert owner is None
