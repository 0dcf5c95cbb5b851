"""Views of a run, throttled once for all of them: :class:`ViewThrottle`.

A run's views (the CLI's live display, the notebook widget, later the server's feed)
do not each poll or throttle: the run calls them with what changed in its
:class:`~nbflow.core.progress.RunProgress`, at most once per interval, from one thread
per run, and a last time in the run's own thread as it ends.

Threads: the run thread only sets an event per notification (once per cycle); the view
thread takes the changes under the run's lock and calls the views outside it, so a
slow view never slows the run.

Imports: stdlib, nbflow.core.{events, progress}.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from nbflow.core.events import RunFinished, RunStarted
from nbflow.core.progress import Changes

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Notification
    from nbflow.core.run import Run

logger = logging.getLogger(__name__)

#: Seconds between view updates when nothing happened but tasks run (elapsed times).
IDLE_TICK = 1.0


class ViewThrottle:
    """Call a run's views with what changed, at most once per interval, from one thread.

    RunStarted and RunFinished cut the pause short; a view added after the run ended
    is called once, at once, with everything.
    """

    def __init__(self, run: Run) -> None:
        self._run = run
        self._callbacks: dict[Callable[[Changes], None], bool] = {}  # -> wants all
        self._interval = 0.1
        self._wake = threading.Event()
        #: whether _wake was set since the view thread last cleared it (a plain flag:
        #: Event.is_set per notification costs a call)
        self._poked = False
        self._hurry = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial = threading.Lock()  # one delivery at a time

    def add(
        self, callback: Callable[[Changes], None], interval: float
    ) -> Callable[[], None]:
        """Call ``callback`` with changes from now on; return what stops the calls."""
        run = self._run
        with run.lock:
            self._callbacks[callback] = True
            self._interval = min(self._interval, interval)
            ended = run.done()
            if not ended and self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="nbflow-views", daemon=True
                )
                self._thread.start()
        if ended:  # no more changes will come: draw it all once, here
            self._deliver()
        else:
            self._wake.set()

        def remove() -> None:
            with run.lock:
                self._callbacks.pop(callback, None)

        return remove

    def poke(self, notification: Notification) -> None:
        """Note that ``notification`` was applied (run thread): wake the view thread."""
        if not self._callbacks:
            return
        kind = type(notification)
        if kind is RunStarted or kind is RunFinished:
            self._hurry.set()
        if not self._poked:  # Event.set takes a lock: once per cycle
            self._poked = True
            self._wake.set()

    def finish(self) -> None:
        """Stop the view thread and deliver the last changes (run thread)."""
        self._stop.set()
        self._hurry.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        if self._callbacks:
            self._deliver()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=IDLE_TICK)  # elapsed times move while tasks run
            if self._stop.is_set():
                return
            self._wake.clear()
            self._poked = False  # after the clear: a poke from now on sets it again
            self._deliver()
            if self._hurry.wait(self._interval):
                self._hurry.clear()

    def _deliver(self) -> None:
        run = self._run
        with self._serial:
            with run.lock:
                progress = run.progress
                if progress is None:
                    return
                changes = progress.take_changes()
                everything = changes
                if any(self._callbacks.values()):  # a view attached since: all of it
                    everything = Changes(True, set(progress.tasks), True)
                calls = [
                    (callback, everything if wants_all else changes)
                    for callback, wants_all in self._callbacks.items()
                ]
                self._callbacks = dict.fromkeys(self._callbacks, False)
                busy = bool(progress.running)
            for callback, seen in calls:
                if not (seen.grown or seen.changed or seen.panel or busy):
                    continue
                try:
                    callback(seen)
                except Exception:
                    logger.exception("view %r raised and was detached", callback)
                    with run.lock:
                        self._callbacks.pop(callback, None)
