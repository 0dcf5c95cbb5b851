"""Sending notifications off the run: one background thread, bounded, never raising.

A failure e-mail or a chat message must never slow a run down or fail it. So the code
that learns of a failure (a run's listener, the server's notifier) only puts a job on
a :class:`BackgroundSender`; its thread does the network I/O, each job with its own
timeout (``[smtp] timeout``, ``[notify] timeout``). A job that raises is logged once
per kind of failure (``"smtp: ConnectionRefusedError"``), not once per message and
without a traceback: a dead mail server during a run of a thousand failing tasks makes
one warning, and a line saying it works again once it does.

Jobs run in the :mod:`contextvars` context of the code that submitted them, so they
read the same settings (``use_settings``) as the run that made them. The queue holds
at most ``capacity`` jobs; more are dropped with one warning. :func:`shared_sender`
is the process's sender; at process exit it gets a short, bounded wait
(``EXIT_WAIT`` seconds) to send what is queued.

Threads: ``submit`` and ``flush`` may be called from any thread; the jobs run in the
sender's own daemon thread.

Imports: stdlib only.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EXIT_WAIT", "BackgroundSender", "shared_sender"]

logger = logging.getLogger(__name__)

#: Seconds the process waits at exit for queued notifications to go out.
EXIT_WAIT = 5.0

_Job = tuple[str, contextvars.Context, "Callable[..., object]", tuple[Any, ...]]


class BackgroundSender:
    """Run sending jobs in one daemon thread; log their failures once per kind.

    Examples
    --------
    >>> sender = BackgroundSender()
    >>> sent = []
    >>> sender.submit("demo", sent.append, "hello")
    True
    >>> sender.flush(5.0), sent
    (True, ['hello'])
    >>> sender.close()
    """

    def __init__(self, capacity: int = 1000, name: str = "nbflow-notify") -> None:
        self._queue: queue.Queue[_Job | None] = queue.Queue(capacity)
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: kinds of failure already logged: "<job kind>: <exception class>"
        self._failing: dict[str, int] = {}
        self._dropped = 0
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, kind: str, job: Callable[..., object], *args: Any) -> bool:
        """Queue ``job(*args)`` to run in the sender's thread; False if dropped.

        ``kind`` names the target (``"smtp"``, ``"webhook"``) in what is logged.
        """
        item = (kind, contextvars.copy_context(), job, args)
        with self._lock:
            self._start()
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                self._dropped += 1
                if self._dropped == 1:
                    logger.warning(
                        "notifications are not sent fast enough: dropping some (the "
                        "queue holds %d). Check that the mail server and webhooks "
                        "answer quickly",
                        self._queue.maxsize,
                    )
                return False
            self._pending += 1
        return True

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until every queued job ran; True if all did."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = EXIT_WAIT) -> None:
        """Send what is queued (waiting at most ``timeout`` s), then stop the thread."""
        if not self.flush(timeout):
            logger.warning(
                "%d notification(s) were not sent within %g s and are given up",
                self._pending,
                timeout,
            )
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            with contextlib.suppress(
                queue.Full
            ):  # a full queue: the thread is a daemon
                self._queue.put_nowait(None)
            thread.join(timeout=1.0)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name=self._name, daemon=True
            )
            self._thread.start()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            kind, context, job, args = item
            try:
                context.run(job, *args)
            except Exception as error:  # noqa: BLE001  a target's failure is only logged
                self._failed(kind, error)
            else:
                self._worked(kind)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _failed(self, kind: str, error: Exception) -> None:
        key = f"{kind}: {type(error).__name__}"
        with self._lock:
            count = self._failing.get(key, 0)
            self._failing[key] = count + 1
        if count:
            logger.debug("could not send a notification (%s) again: %s", kind, error)
            return
        logger.warning(
            "could not send a notification (%s): %s: %s. Runs are not affected; further "
            "failures like this one are not logged until it works again. Check the "
            "[%s] settings",
            kind,
            type(error).__name__,
            error,
            _section(kind),
        )

    def _worked(self, kind: str) -> None:
        with self._lock:
            gone = [key for key in self._failing if key.startswith(f"{kind}: ")]
            missed = sum(self._failing.pop(key) for key in gone)
        if missed:
            logger.warning(
                "notifications (%s) work again (%d could not be sent)", kind, missed
            )


def _section(kind: str) -> str:
    """Return the config section whose settings a kind of target uses."""
    return {"smtp": "smtp", "email": "email"}.get(kind, "notify")


_SHARED: BackgroundSender | None = None
_SHARED_LOCK = threading.Lock()


def shared_sender() -> BackgroundSender:
    """Return the process's sender (made on first use; flushed at process exit)."""
    global _SHARED  # noqa: PLW0603  one sender per process, made lazily
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = BackgroundSender()
            atexit.register(_SHARED.close, EXIT_WAIT)
        return _SHARED
