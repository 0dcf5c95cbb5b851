"""The server's notifier: failures from a real SchedulerHost, batched into e-mails for a
real SMTP server (fake clock), posted to a loopback webhook; and ``nbflow server`` as a
real process notifying a failure of a worker that talks to it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import urllib.parse
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.config import Settings, use_settings
from nbflow.core.events import (
    RetryPolicy,
    Status,
    TaskFailed,
    TasksDiscovered,
    TaskSpec,
    WorkerStarted,
)
from nbflow.core.notify_sender import BackgroundSender
from nbflow.core.remote import ServerScheduler
from nbflow.core.run import RunOptions, start_run
from nbflow.core.summary import RunStatus
from nbflow.server.host import SchedulerHost
from nbflow.server.notify import ServerNotifier, default_public_url
from tests.notify_receivers import body_of, free_port, http_receiver, smtp_server

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

pytestmark = pytest.mark.server

PUBLIC = "http://sched.example:8082/"
TRACE = 'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad {}'


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def settings(**sections: Mapping[str, object]) -> Iterator[None]:
    with use_settings(Settings.from_mapping(sections)):
        yield


@pytest.fixture
def host() -> Iterator[SchedulerHost]:
    host = SchedulerHost()
    host.start()
    yield host
    host.stop()


def fail(host: SchedulerHost, *days: str, retry: RetryPolicy | None = None) -> None:
    """Have worker w1 run one task per day and fail each."""
    specs = tuple(
        TaskSpec(f"Load_{day}", "Load", (("day", day),), retry=retry or RetryPolicy())
        for day in days
    )
    host.call("w1", [WorkerStarted("w1", len(days)), TasksDiscovered(specs)])
    host.call(
        "w1",
        [
            TaskFailed(f"Load_{day}", f"ValueError: bad {day}", TRACE.format(day))
            for day in days
        ],
    )


def link(task_id: str, base: str = PUBLIC) -> str:
    return f"{base}#/task/{urllib.parse.quote(task_id, safe='')}"


def mail(port: int, **more: Mapping[str, object]) -> dict[str, Mapping[str, object]]:
    return {
        "email": {"receiver": "ops@example.com", "force_send": True},
        "smtp": {"host": "127.0.0.1", "port": port, "timeout": 5},
        "scheduler": {"batch_emails": True},
        "batch_notifier": {"email_interval": 10},
        **more,
    }


def test_server_batches_failures_of_one_window_into_one_email(
    host: SchedulerHost,
) -> None:
    clock = FakeClock()
    sender = BackgroundSender()

    with smtp_server() as (mailbox, port), settings(**mail(port)):
        notifier = ServerNotifier(host, public_url=PUBLIC, clock=clock, sender=sender)
        host.subscribe(notifier.on_notification)
        fail(host, "d1", "d2")
        fail(host, "d3")
        assert notifier.drain() == 3
        notifier.tick()
        assert sender.flush(20.0)
        assert mailbox.messages == []  # the window is still open

        clock.now += 10 * 60
        notifier.tick()
        assert sender.flush(20.0)
        [(recipients, message)] = mailbox.wait_for(1)
        notifier.stop()

    assert recipients == ("ops@example.com",)
    assert message["Subject"] == "nbflow: 3 failures in the last 10 minutes"
    body = body_of(message)
    for day in ("d1", "d2", "d3"):
        assert f"Load(day={day}) (1 failure) {link(f'Load_{day}')}" in body
    assert "ValueError: bad d" in body


def test_server_posts_each_failure_and_mails_a_disable_without_batching(
    host: SchedulerHost,
) -> None:
    sender = BackgroundSender()
    once = RetryPolicy(retry_count=1)

    with smtp_server() as (mailbox, port), http_receiver() as (posts, web):
        given = mail(
            port,
            scheduler={"batch_emails": False},
            notify={"webhook": f"http://127.0.0.1:{web}/hook"},
        )
        with settings(**given):
            notifier = ServerNotifier(host, public_url=PUBLIC, sender=sender)
            host.subscribe(notifier.on_notification)
            fail(host, "x1", retry=once)
            fail(host, "x2")
            notifier.drain()
            assert sender.flush(20.0)
            [(_, message)] = mailbox.wait_for(1)
            bodies = posts.wait_for(
                lambda got: sum(len(body["failures"]) for _, body in got) >= 2
            )
            notifier.stop()

    assert message["Subject"] == (
        "nbflow scheduler: DISABLED Load(day=x1) due to excessive failures"
    )
    assert link("Load_x1") in body_of(message)
    failures = {f["task_id"]: f for _, body in bodies for f in body["failures"]}
    assert failures["Load_x1"]["kind"] == "disable"
    assert failures["Load_x2"]["kind"] == "failure"
    assert failures["Load_x2"]["error"] == "ValueError: bad x2"
    assert failures["Load_x2"]["url"] == link("Load_x2")
    assert failures["Load_x2"]["worker"] == "w1"


def test_server_with_dead_mail_server_and_webhook_logs_once_and_schedules_on(
    host: SchedulerHost, caplog: pytest.LogCaptureFixture
) -> None:
    dead = free_port()
    sender = BackgroundSender()
    caplog.set_level(logging.INFO)
    given = mail(
        dead,
        scheduler={"batch_emails": False},
        notify={"webhook": f"http://127.0.0.1:{dead}/hook"},
    )

    with settings(**given):
        notifier = ServerNotifier(host, public_url=PUBLIC, sender=sender)
        host.subscribe(notifier.on_notification)
        for day in ("y1", "y2", "y3"):
            fail(host, day, retry=RetryPolicy(retry_count=1))
            notifier.drain()
            assert sender.flush(20.0)
        notifier.stop()

    assert host.read(lambda s: s.counts().get(("Load", Status.DISABLED))) == 3
    messages = [r.getMessage() for r in caplog.records]
    assert (
        sum("could not send e-mail through the SMTP server" in m for m in messages) == 1
    )
    assert sum("could not send a notification (webhook)" in m for m in messages) == 1


def test_default_public_url_names_this_machine_for_a_wildcard_bind() -> None:
    assert default_public_url("127.0.0.1", 8082) == "http://127.0.0.1:8082/"
    wildcard = default_public_url("0.0.0.0", 80)  # noqa: S104
    assert "0.0.0.0" not in wildcard  # noqa: S104
    assert wildcard.endswith(":80/")


LAUNCHER = "import sys\nfrom nbflow.cli.main import main\nsys.exit(main(sys.argv[1:]))"


class NotifyServedBoom(nbflow.Task):
    def run(self) -> None:
        raise RuntimeError("served failure")


def test_nbflow_server_notifies_a_workers_failure(tmp_path: Path) -> None:
    task = NotifyServedBoom()

    with smtp_server() as (mailbox, smtp_port), http_receiver() as (posts, web):
        config = tmp_path / "nbflow.toml"
        config.write_text(
            "[notify]\n"
            f'webhook = "http://127.0.0.1:{web}/served"\n'
            "[scheduler]\nbatch_emails = true\n"
            '[email]\nreceiver = "ops@example.com"\nforce_send = true\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        )
        env = {**os.environ, "NBFLOW_CONFIG_PATH": str(config)}
        env["XDG_DATA_HOME"] = str(tmp_path / "data")
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                "server",
                "--port",
                "0",
                "--db",
                f"sqlite:///{tmp_path / 'served.db'}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            assert "listening on" in first, first + server.stderr.read()  # type: ignore[union-attr]
            url = first.split("listening on ", 1)[1].strip()
            token = server.stdout.readline().split("token ", 1)[1].strip()
            scheduler = ServerScheduler(url, token=token)
            with use_settings(Settings.from_mapping({})):  # the worker notifies nothing
                run = start_run([task], RunOptions(scheduler=scheduler))
            bodies = posts.wait_for(lambda got: len(got) >= 1)
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
            server.stdout.close()  # type: ignore[union-attr]
            server.stderr.close()  # type: ignore[union-attr]
        [(_, message)] = mailbox.wait_for(1)

    assert run.wait().status is RunStatus.FAILED
    assert code == 0
    [(path, body)] = bodies
    [failure] = body["failures"]
    assert path == "/served"
    assert failure["task_id"] == task.task_id
    assert failure["error"] == "RuntimeError: served failure"
    assert failure["url"] == link(task.task_id, url)
    assert message["Subject"] == "nbflow: 1 failure in the last 60 minutes"
    assert link(task.task_id, url) in body_of(message)
