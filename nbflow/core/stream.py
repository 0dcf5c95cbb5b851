"""The event stream: ordered notifications fanned out to subscribed listeners.

Widgets, progress displays, the server's live feed and history stores all subscribe
here; none of them polls the scheduler. A listener that raises is logged and detached
(the one sanctioned catch-all in nbflow), so a broken view never breaks a run.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Listener, Notification

logger = logging.getLogger(__name__)


class EventStream:
    """Deliver each published notification to every listener, in order.

    Examples
    --------
    >>> from nbflow.core.events import TaskProgressed
    >>> stream, seen = EventStream(), []
    >>> class Recorder:
    ...     def on_notification(self, n):
    ...         seen.append(n.percentage)
    >>> unsubscribe = stream.subscribe(Recorder())
    >>> stream.publish(TaskProgressed(1, 0.0, "a", 50.0))
    >>> unsubscribe(); stream.publish(TaskProgressed(2, 0.0, "a", 60.0))
    >>> seen
    [50.0]
    """

    def __init__(self) -> None:
        #: replaced, never changed in place: publish iterates it without a copy
        self._listeners: tuple[Listener, ...] = ()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; return a function that removes it again."""
        self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._remove(listener)

        return unsubscribe

    def _remove(self, listener: Listener) -> None:
        listeners = list(self._listeners)
        if listener in listeners:
            listeners.remove(listener)
            self._listeners = tuple(listeners)

    @property
    def listeners(self) -> tuple[Listener, ...]:
        """The listeners currently subscribed."""
        return self._listeners

    def publish(self, notification: Notification) -> None:
        """Deliver ``notification``; detach (and log) any listener that raises."""
        for listener in self._listeners:
            try:
                listener.on_notification(notification)
            except Exception:
                logger.exception("listener %r raised and was detached", listener)
                self._remove(listener)


class RecordingListener:
    """A listener that keeps every notification it receives (a fake for tests)."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []

    def on_notification(self, notification: Notification) -> None:
        """Keep ``notification``."""
        self.notifications.append(notification)
