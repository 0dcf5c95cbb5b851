"""The background sender: jobs off the caller's thread, failures logged once per kind,
a bounded queue, and a bounded wait at the end; plus the targets' own checks."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

import nbflow
from nbflow.core import notifications
from nbflow.core.config import Settings, current_settings, use_settings
from nbflow.core.events import Status, TaskAdded, TaskStatusChanged
from nbflow.core.failure_notifier import ChatTargets
from nbflow.core.notify_sender import BackgroundSender
from nbflow.core.notify_targets import (
    FailureNote,
    NotifyTargetError,
    chat_text,
    failure_kind,
    notify,
    post_webhook,
    send_apprise,
)


@pytest.fixture
def sender() -> Iterator[BackgroundSender]:
    sender = BackgroundSender(capacity=3)
    yield sender
    sender.close(5.0)


def _hold(started: threading.Event, gate: threading.Event) -> None:
    """A job that holds the sender's thread until ``gate`` is set."""
    started.set()
    gate.wait()


def _refused() -> None:
    raise ConnectionRefusedError(111, "Connection refused")


def test_sender_runs_jobs_in_its_own_thread_with_the_callers_settings(
    sender: BackgroundSender,
) -> None:
    seen: list[tuple[str, str | None]] = []

    def job() -> None:
        name = threading.current_thread().name
        seen.append((name, current_settings().get("notify", "webhook")))

    with use_settings(Settings.from_mapping({"notify": {"webhook": "http://h/x"}})):
        sender.submit("webhook", job)
    assert sender.flush(10.0)

    assert seen == [("nbflow-notify", "http://h/x")]


def test_sender_logs_a_failing_kind_once_then_says_when_it_works_again(
    sender: BackgroundSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nbflow.core.notify_sender")
    results = [_refused, _refused, _refused, lambda: None]

    for job in results:
        sender.submit("webhook", job)
        assert sender.flush(10.0)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in warnings] == [
        "could not send a notification (webhook)",
        "notifications (webhook) work again (3 could not be sent)",
    ]
    assert "ConnectionRefusedError" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)


def test_sender_drops_jobs_beyond_its_capacity_with_one_warning(
    sender: BackgroundSender, caplog: pytest.LogCaptureFixture
) -> None:
    started, gate = threading.Event(), threading.Event()
    sender.submit("slow", _hold, started, gate)
    assert started.wait(10.0)  # the slow job holds the thread

    accepted = [sender.submit("slow", lambda: None) for _ in range(6)]
    gate.set()

    assert accepted == [True, True, True, False, False, False]
    dropped = [r for r in caplog.records if "dropping" in r.getMessage()]
    assert len(dropped) == 1
    assert sender.flush(10.0)


def test_sender_close_gives_up_after_its_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = BackgroundSender()
    gate = threading.Event()
    sender.submit("slow", gate.wait)

    sender.close(0.2)
    gate.set()

    assert any("given up" in r.getMessage() for r in caplog.records)


def test_failure_kind_names_failures_disables_and_scheduling_failures() -> None:
    def changed(status: Status, previous: Status) -> TaskStatusChanged:
        return TaskStatusChanged(1, 0.0, "T", status, previous)

    assert failure_kind(changed(Status.FAILED, Status.RUNNING)) == "failure"
    assert failure_kind(changed(Status.FAILED, Status.BATCH_RUNNING)) == "failure"
    assert failure_kind(changed(Status.DISABLED, Status.RUNNING)) == "disable"
    assert failure_kind(changed(Status.FAILED, Status.PENDING)) == "scheduling"
    assert failure_kind(changed(Status.DISABLED, Status.PENDING)) is None
    assert failure_kind(changed(Status.CANCELLED, Status.RUNNING)) is None
    assert failure_kind(changed(Status.DONE, Status.RUNNING)) is None
    added = TaskAdded(1, 0.0, "T", "T", (), (), Status.FAILED)
    assert failure_kind(added) is None


def _note(n: int) -> FailureNote:
    return FailureNote(
        "failure", f"T{n}", f"T(n={n})", "T", (), "E: x", "", "h", "w", 0
    )


def test_chat_text_lists_many_failures_in_one_message() -> None:
    title, body = chat_text([_note(n) for n in range(25)])

    assert title == "nbflow: 25 task failures"
    assert body.splitlines()[0] == "T(n=0) failed on h: E: x"
    assert body.splitlines()[-1] == "... and 5 more"


def test_webhook_that_is_not_http_says_how_to_fix_it() -> None:
    with pytest.raises(NotifyTargetError) as caught:
        post_webhook("file:///etc/passwd", {}, 1.0)

    message = str(caught.value)
    assert "[notify] webhook" in message
    assert "Expected an http:// or https:// URL" in message
    assert "Fix: correct [notify] webhook" in message


def test_apprise_url_it_does_not_know_says_how_to_fix_it() -> None:
    with pytest.raises(NotifyTargetError) as caught:
        send_apprise(["nosuchservice://token"], "t", "b")

    assert "got 'nosuchservice://...'" in str(caught.value)
    assert "Fix: correct [notify] urls" in str(caught.value)


class NotifyHtmlTask(nbflow.Task):
    label = nbflow.Parameter(default="<b>")


def test_error_email_links_to_the_task_escaped_in_html() -> None:
    link = 'http://s/#/task/A?x="1"&y=<2>'
    task = NotifyHtmlTask()

    with use_settings(Settings.from_mapping({"email": {"format": "html"}})):
        html_body = notifications.format_task_error("boom", task, "cmd", "E", link=link)
    plain_body = notifications.format_task_error("boom", task, "cmd", "E", link=link)

    assert f"In the visualiser: {link}\n" in plain_body
    assert 'href="http://s/#/task/A?x=&quot;1&quot;&amp;y=&lt;2&gt;"' in html_body
    assert "<2>" not in html_body
    assert "<th>label</th><td>&lt;b&gt;</td>" in html_body


def test_chat_targets_start_again_after_the_sender_dropped_their_job() -> None:
    sender = BackgroundSender(capacity=1)
    started, gate = threading.Event(), threading.Event()
    sender.submit("slow", _hold, started, gate)
    assert started.wait(10.0)
    assert sender.submit("slow", lambda: None)  # the queue is full now
    chat = ChatTargets(sender)
    delivered: list[list[str]] = []
    chat._deliver = lambda target: delivered.append(  # type: ignore[method-assign]
        [n.task_id for n in chat._waiting.pop(target)]
    )
    targets = notify(webhook="http://127.0.0.1:9/x")

    chat.add(_note(1), targets)  # dropped with its job
    gate.set()
    assert sender.flush(10.0)
    chat.add(_note(2), targets)
    assert sender.flush(10.0)
    sender.close(1.0)

    assert delivered == [["T2"]]
