"""Failure notifications of a run: Luigi's error e-mails, chat and webhook messages.

Every :class:`~nbflow.core.worker.Worker` subscribes a :class:`FailureNotifier` to its
event stream, so ``nbflow run``, ``%nbflow run``, ``build()`` and ``nbflow worker``
all notify. What it does for a task that failed (:func:`failure_kind`):

- E-mail, with Luigi's semantics: a failed run, or a task that could not be scheduled,
  is mailed to ``[email] receiver`` and the task's ``owner_email`` when ``[worker]
  send_failure_email`` is true (the default); a task disabled after too many failures
  is mailed too (by the scheduler: here for an embedded one, else by the server).
  With ``[scheduler] batch_emails = true`` nothing is mailed one by one: the server
  batches (:mod:`nbflow.core.batch_notifier`), or, for an embedded scheduler, the run
  itself, sending its batch when it ends.
- Chat and webhook messages to ``[notify] urls`` and ``[notify] webhook``
  (:mod:`nbflow.core.notify_targets`): failures that come close together are sent as
  one message per target.

Nothing is sent from the run's thread: messages are built and sent on the process's
:func:`~nbflow.core.notify_sender.shared_sender`, so a slow or dead mail server never
delays a task or fails a run, and its exit code stays what the tasks made it. Only
the run's end waits, at most ``RUN_END_WAIT`` (1 s), for what the run queued: so
``build()`` returns with its e-mails sent (as Luigi's does) unless a target is slow,
and what is left goes on in the background (and gets a bounded wait at process exit).
E-mails go through ``notifications.send_error_email`` looked up when sent, so a test's
``mock.patch("luigi.notifications.send_error_email")`` reaches them.

Threads: ``on_notification`` runs in the run's thread; :class:`ChatTargets` is
thread-safe (the server's notifier shares it).

Imports: stdlib, nbflow.core.*.
"""

from __future__ import annotations

import functools
import logging
import shlex
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core import notifications
from nbflow.core.config import current_settings
from nbflow.core.events import RunFinished, TaskStatusChanged
from nbflow.core.notify_sender import BackgroundSender, shared_sender
from nbflow.core.notify_targets import (
    FailureNote,
    chat_text,
    failure_kind,
    first_line,
    notify,
    post_webhook,
    send_apprise,
    split_urls,
    task_link,
    webhook_payload,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.batch_notifier import BatchNotifier
    from nbflow.core.config import Settings
    from nbflow.core.events import Notification
    from nbflow.core.task import Task

logger = logging.getLogger(__name__)

#: Seconds the end of a run waits for its notifications to be sent (then they go on in
#: the background): ``build()`` returns with its e-mails sent, unless a target is slow.
RUN_END_WAIT = 1.0

__all__ = [
    "ChatTargets",
    "FailureNotifier",
    "error_text",
    "host_name",
    "mail_batch",
    "mail_disabled",
]

#: Luigi's subjects and headlines of error e-mails, by failure kind.
SUBJECTS = {
    "failure": "nbflow: {task} FAILED. Host: {host}",
    "disable": "nbflow: {task} FAILED. Host: {host}",
    "scheduling": "nbflow: {task} failed scheduling. Host: {host}",
}
HEADLINES = {
    "failure": "A task failed when running. Most likely run() raised an exception.",
    "disable": "A task failed when running. Most likely run() raised an exception.",
    "scheduling": "Will not run {task} or any dependencies due to an error in its "
    "complete() or requires() method.",
}


@functools.cache
def host_name() -> str:
    """Return this machine's name, as messages say where a task failed."""
    return socket.gethostname()


def error_text(notification: TaskStatusChanged) -> str:
    """Return the failure's traceback ending with its error (the e-mail's body part)."""
    trace = (notification.full_traceback or notification.traceback).rstrip()
    error = notification.error.strip()
    if error and error not in trace:
        trace = f"{trace}\n{error}".strip()
    return trace


class ChatTargets:
    """Send failure notes to apprise URLs and webhooks, coalescing bursts.

    Notes for one target wait in a list; the first one queues a job on the sender,
    which sends every note waiting by then as one message. A burst of failures
    becomes a few messages, not one each.
    """

    def __init__(self, sender: BackgroundSender | None = None) -> None:
        self._sender = sender
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str, float], list[FailureNote]] = {}

    def add(self, note: FailureNote, settings: notify) -> None:
        """Queue ``note`` for every target ``settings`` (``[notify]``) names."""
        urls = split_urls(settings.urls)
        if urls:
            self._queue(("apprise", " ".join(urls), settings.timeout), note)
        if settings.webhook:
            self._queue(("webhook", settings.webhook, settings.timeout), note)

    def _queue(self, target: tuple[str, str, float], note: FailureNote) -> None:
        with self._lock:
            notes = self._waiting.setdefault(target, [])
            notes.append(note)
            first = len(notes) == 1
        sender = self._sender or shared_sender()
        if first and not sender.submit(target[0], self._deliver, target):
            with self._lock:  # the sender is full (and said so): these are dropped
                self._waiting.pop(target, None)

    def _deliver(self, target: tuple[str, str, float]) -> None:
        with self._lock:
            notes = self._waiting.pop(target, [])
        kind, address, timeout = target
        if not notes:
            return
        if kind == "webhook":
            post_webhook(address, webhook_payload(notes), timeout)
        else:
            send_apprise(address.split(" "), *chat_text(notes))


class FailureNotifier:
    """A run's listener that notifies failures (see the module docstring)."""

    def __init__(
        self,
        task_of: Callable[[str], Task | None],
        *,
        server_url: str = "",
        sender: BackgroundSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        #: finds the task object of a task id (None: not known here)
        self._task_of = task_of
        #: the scheduler server's URL, when the run has one (it batches, links there)
        self._server_url = server_url
        self._sender = sender
        self._clock = clock
        self._chat = ChatTargets(sender)
        self._batch: BatchNotifier | None = None
        #: whether this run queued anything (its end then waits a little for it)
        self._sending = False
        #: the settings last read, and what they say (see _config)
        self._config_of: Settings | None = None
        self._run_config: _RunConfig | None = None

    def on_notification(self, notification: Notification) -> None:
        """Notify a failure; at the run's end, send a batch gathered here."""
        kind = failure_kind(notification)
        if kind is not None and type(notification) is TaskStatusChanged:
            self._failed(kind, notification)
        elif self._sending and type(notification) is RunFinished:
            self._run_finished()

    def _run_finished(self) -> None:
        """Send the run's batch; give what is queued a short, bounded wait."""
        self._sending = False
        if self._batch is not None:
            self._batch.send_now()
        sender = self._sender or shared_sender()
        if not sender.flush(RUN_END_WAIT):
            logger.info(
                "failure notifications are still being sent after the run's end; "
                "they go on in the background"
            )

    def _failed(self, kind: str, notification: TaskStatusChanged) -> None:
        config = self._config()
        task = self._task_of(notification.task_id)
        owner = task.owner_email if task is not None else None
        mail = bool(config.receiver or owner) and not (
            config.batch_emails and self._server_url  # the server batches
        )
        if not (mail or config.chat):
            return  # nothing to tell anyone: cheap, as runs may fail by thousands
        self._sending = True
        base = config.targets.public_url or self._server_url
        note = _note(kind, notification, task, base)
        if config.chat:
            self._chat.add(note, config.targets)
        if not mail:
            return
        trace = error_text(notification)
        if config.batch_emails:  # an embedded scheduler batches here
            self._add_to_batch(note, trace, task)
            return
        sender = self._sender or shared_sender()
        if kind == "disable" and not self._server_url:  # a server mails its own
            sender.submit("email", mail_disabled, note, trace)
        if config.send_failure_email:
            sender.submit("email", _mail_failure, note, task, trace)

    def _config(self) -> _RunConfig:
        """Return the settings that decide what to send, read once per settings."""
        settings = current_settings()
        if self._config_of is not settings:
            self._config_of, self._run_config = settings, _RunConfig.read(settings)
        assert self._run_config is not None  # noqa: S101  (set with _config_of)
        return self._run_config

    def _add_to_batch(self, note: FailureNote, error: str, task: Task | None) -> None:
        if self._batch is None:
            from nbflow.core.batch_notifier import (  # noqa: PLC0415  (rarely used)
                BatchNotifier,
                BatchSettings,
            )

            self._batch = BatchNotifier(
                BatchSettings.from_config(), send=self._send_batch, clock=self._clock
            )
        owners = [task.owner_email] if task is not None and task.owner_email else []
        args = (note.name, note.family, note.params)
        if note.kind == "scheduling":
            self._batch.add_scheduling_fail(*args, error, owners, note.link)
            return
        self._batch.add_failure(*args, error, owners, note.link)
        if note.kind == "disable":
            self._batch.add_disable(*args, owners, note.link)
        self._batch.update()

    def _send_batch(self, subject: str, body: str, recipients: tuple[str, ...]) -> None:
        sender = self._sender or shared_sender()
        sender.submit("email", mail_batch, subject, body, recipients)


class _RunConfig(NamedTuple):
    """What the settings say a failure deserves."""

    targets: notify
    #: whether ``targets`` names any chat or webhook target
    chat: bool
    receiver: str
    batch_emails: bool
    send_failure_email: bool

    @classmethod
    def read(cls, settings: Settings) -> _RunConfig:
        targets = notify()
        return cls(
            targets=targets,
            chat=bool(targets.urls.strip() or targets.webhook.strip()),
            receiver=notifications.email().receiver,
            batch_emails=settings.get_bool("scheduler", "batch_emails", False),
            send_failure_email=settings.get_bool("worker", "send_failure_email", True),
        )


def _note(
    kind: str, notification: TaskStatusChanged, task: Task | None, base: str
) -> FailureNote:
    if task is not None:
        family, params = task.task_family, tuple(task.to_str_params().items())
    else:
        family, params = notification.task_id.split("_", 1)[0], ()
    return FailureNote(
        kind=kind,
        task_id=notification.task_id,
        name=str(task) if task is not None else notification.task_id,
        family=family,
        params=params,
        error=first_line(notification.error or notification.traceback),
        link=task_link(base, notification.task_id),
        host=host_name(),
        worker_id=notification.worker_id or "",
        at=notification.at,
    )


def _mail_failure(note: FailureNote, task: Task | None, trace: str) -> None:
    """Send Luigi's error e-mail about one failure (in the sender's thread)."""
    subject = SUBJECTS[note.kind].format(task=note.name, host=note.host)
    headline = HEADLINES[note.kind].format(task=note.name)
    command = shlex.join(sys.argv)
    if task is not None:
        body = notifications.format_task_error(
            headline, task, command, trace, link=note.link
        )
        owner = task.owner_email
    else:
        body = "\n\n".join(filter(None, [headline, note.name, note.link, trace]))
        owner = None
    notifications.send_error_email(subject, body, owner)


def mail_disabled(note: FailureNote, trace: str) -> None:
    """Send the scheduler's e-mail about a task disabled after too many failures.

    As Luigi's scheduler does, it goes to ``[email] receiver`` only.
    """
    subject = f"nbflow scheduler: DISABLED {note.name} due to excessive failures"
    body = (
        f"{note.name} failed too many times within its disable window ([scheduler] "
        "retry_count, disable_window), so it is disabled: it will not run again "
        "until it is re-enabled or its disable_hard_timeout has passed."
    )
    body = "\n\n".join(filter(None, [body, note.link, trace]))
    notifications.send_error_email(subject, body)


def mail_batch(subject: str, body: str, recipients: tuple[str, ...]) -> None:
    """Send one batched e-mail (in the sender's thread)."""
    notifications.send_email(subject, body, notifications.email().sender, recipients)
