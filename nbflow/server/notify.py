"""The server's failure notifications: batched e-mails, chat and webhook messages.

:class:`ServerNotifier` subscribes to the :class:`~nbflow.server.host.SchedulerHost`.
On the host thread it only looks at each notification's type and status (O(1)) and
queues failures; its own thread does the rest:

- with ``[scheduler] batch_emails = true``, each failure, disable and scheduling
  failure goes to a :class:`~nbflow.core.batch_notifier.BatchNotifier`
  (``[batch_notifier]`` settings), whose e-mails go out once per ``email_interval``
  minutes, to ``[email] receiver``. Without it, workers mail their own failures, as
  Luigi's do, and the server mails only the tasks it disables after too many failures;
- every failure goes to the ``[notify]`` targets (apprise URLs, the JSON webhook),
  a burst of failures as one message per target.

Links point to the visualiser at ``[notify] public_url``, by default the server's
own address (``http://<bind host>:<port>/``). Sending happens on a
:class:`~nbflow.core.notify_sender.BackgroundSender`: a dead mail server or webhook
is logged once, never felt by the scheduler. :meth:`ServerNotifier.stop` sends the
batch gathered so far and waits a bounded time for what is queued.

Threads: ``on_notification`` runs on the host thread; everything else in the
notifier's thread (``tick`` and ``handle`` are public for tests, which drive them
with an injected clock instead of starting the thread).

Imports: stdlib, nbflow.core, nbflow.server.host (types only).
"""

from __future__ import annotations

import contextvars
import logging
import queue
import socket
import threading
import time
from typing import TYPE_CHECKING

from nbflow.core.batch_notifier import BatchNotifier, BatchSettings
from nbflow.core.config import current_settings
from nbflow.core.errors import UnknownTaskIdError
from nbflow.core.events import TaskStatusChanged
from nbflow.core.failure_notifier import (
    ChatTargets,
    error_text,
    host_name,
    mail_batch,
    mail_disabled,
)
from nbflow.core.notifications import email
from nbflow.core.notify_sender import EXIT_WAIT, BackgroundSender
from nbflow.core.notify_targets import (
    FailureNote,
    failure_kind,
    first_line,
    notify,
    task_link,
)
from nbflow.core.progress import task_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Notification
    from nbflow.core.scheduler import Scheduler
    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.server.host import SchedulerHost

__all__ = ["ServerNotifier", "default_public_url"]

logger = logging.getLogger(__name__)

#: Seconds between checks whether the batch's interval has passed.
_TICK = 1.0


class ServerNotifier:
    """Notify the failures the server's scheduler reports (see the module docstring)."""

    def __init__(
        self,
        host: SchedulerHost,
        *,
        public_url: str = "",
        clock: Callable[[], float] = time.time,
        sender: BackgroundSender | None = None,
    ) -> None:
        self._host = host
        #: the settings of whoever made the notifier (the server's, or a test's)
        self._context = contextvars.copy_context()
        self._clock = clock
        self._sender = sender or BackgroundSender(name="nbflow-server-notify")
        self._chat = ChatTargets(self._sender)
        self._queue: queue.SimpleQueue[tuple[str, TaskStatusChanged] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self.public_url = self._context.run(lambda: notify().public_url) or public_url
        self.batching = self._context.run(_batching)
        self.batch: BatchNotifier | None = None
        if self.batching:
            settings = self._context.run(BatchSettings.from_config)
            self.batch = BatchNotifier(settings, send=self._send_batch, clock=clock)

    # --- the host thread --------------------------------------------------------------

    def on_notification(self, notification: Notification) -> None:
        """Queue a failure for the notifier's thread (host thread; O(1))."""
        kind = failure_kind(notification)
        if kind is not None and type(notification) is TaskStatusChanged:
            self._queue.put((kind, notification))

    # --- the notifier's thread --------------------------------------------------------

    def start(self) -> None:
        """Start the notifier's thread."""
        self._thread = threading.Thread(
            target=self._context.run,
            args=(self._serve,),
            name="nbflow-server-notifier",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = EXIT_WAIT) -> None:
        """Handle what is queued, send the batch so far, wait for the sends (bounded)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        else:
            self._context.run(self.drain)
        if self.batch is not None and self.batch.pending:
            self._context.run(self.batch.send_now)
        self._sender.close(timeout)

    def _serve(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_TICK)
            except queue.Empty:
                self.tick()
                continue
            if item is None:
                return
            self.handle(*item)
            self.tick()

    def drain(self) -> int:
        """Handle every failure queued now; return how many (tests drive this)."""
        handled = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return handled
            if item is None:  # the thread's stop signal: leave it for the thread
                self._queue.put(None)
                return handled
            self.handle(*item)
            handled += 1

    def tick(self) -> None:
        """Send the batched e-mails if their interval has passed."""
        if self.batch is not None:
            self.batch.update()

    def handle(self, kind: str, notification: TaskStatusChanged) -> None:
        """Notify one failure: the chat targets now, e-mail batched or (disables) now."""
        info = self._task_info(notification.task_id)
        note = self._note(kind, notification, info)
        self._chat.add(note, notify())
        trace = error_text(notification)
        if self.batch is None:
            if kind == "disable" and email().receiver:
                self._sender.submit("email", mail_disabled, note, trace)
            return
        args = (note.name, note.family, note.params)
        if kind == "scheduling":
            self.batch.add_scheduling_fail(*args, trace, link=note.link)
            return
        self.batch.add_failure(*args, trace, link=note.link)
        if kind == "disable":
            self.batch.add_disable(*args, link=note.link)

    def _task_info(self, task_id: str) -> TaskInfo | None:
        def find(scheduler: Scheduler) -> TaskInfo | None:
            try:
                return scheduler.task_info(task_id)
            except UnknownTaskIdError:  # pruned since
                return None

        return self._host.read(find)

    def _note(
        self, kind: str, notification: TaskStatusChanged, info: TaskInfo | None
    ) -> FailureNote:
        family, params = (info.family, info.params) if info else ("", ())
        name = task_label(family, params) if info else ""
        return FailureNote(
            kind=kind,
            task_id=notification.task_id,
            name=name or notification.task_id,
            family=family,
            params=params,
            error=first_line(notification.error or notification.traceback),
            link=task_link(self.public_url, notification.task_id),
            host=_worker_host(notification.worker_id) or host_name(),
            worker_id=notification.worker_id or "",
            at=notification.at,
        )

    def _send_batch(self, subject: str, body: str, recipients: tuple[str, ...]) -> None:
        self._sender.submit("email", mail_batch, subject, body, recipients)


def _batching() -> bool:
    return current_settings().get_bool("scheduler", "batch_emails", False)


def _worker_host(worker_id: str | None) -> str:
    """Return the host in a worker id (``host:pid``, or Luigi's ``..., host=H, ...``)."""
    if not worker_id:
        return ""
    if "host=" in worker_id:
        return worker_id.split("host=", 1)[1].split(",", 1)[0].strip()
    return worker_id.rsplit(":", 1)[0]


def default_public_url(bind_host: str, port: int) -> str:
    """Return the visualiser's URL as the server's bind address gives it.

    An address that binds every interface names no host people can reach: this
    machine's fully qualified name stands in for it.

    >>> default_public_url("127.0.0.1", 8082), default_public_url("::1", 80)
    ('http://127.0.0.1:8082/', 'http://[::1]:80/')
    """
    host = socket.getfqdn() if bind_host in {"", "0.0.0.0", "::"} else bind_host  # noqa: S104
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
