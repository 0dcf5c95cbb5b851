"""The server's recent notifications, held for the event stream and workers' replies.

A :class:`NotificationFeed` keeps the last ``capacity`` notifications the scheduler
made, in ``seq`` order. Readers on any thread ask for what came after a seq they saw
(:meth:`NotificationFeed.since`) or wait for something new (:meth:`NotificationFeed.wait`).
The host thread is the only writer. A reader whose seq is older than the oldest held
must reload the state it mirrors (the event stream sends a ``reset`` then).

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Notification

DEFAULT_CAPACITY = 100_000


class NotificationFeed:
    """A bounded, seq-ordered buffer of notifications with blocking reads.

    Examples
    --------
    >>> from nbflow.core.events import TaskProgressed
    >>> feed = NotificationFeed(capacity=2)
    >>> feed.extend([TaskProgressed(s, 0.0, "a", s * 10.0) for s in (1, 2, 3)])
    >>> [n.seq for n in feed.since(0)], feed.oldest, feed.last
    ([2, 3], 2, 3)
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._items: deque[Notification] = deque(maxlen=capacity)
        self._seqs: deque[int] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        #: seq of the newest notification ever added (0: none)
        self.last = 0

    @property
    def oldest(self) -> int:
        """The seq of the oldest notification held (``last + 1`` when empty)."""
        with self._changed:
            return self._seqs[0] if self._seqs else self.last + 1

    def extend(self, notifications: list[Notification]) -> None:
        """Add notifications (host thread only), waking every waiting reader."""
        if not notifications:
            return
        with self._changed:
            for notification in notifications:
                self._items.append(notification)
                self._seqs.append(notification.seq)
            self.last = max(self.last, notifications[-1].seq)
            self._changed.notify_all()

    def since(
        self,
        seq: int,
        *,
        limit: int = 10_000,
        keep: Callable[[Notification], bool] | None = None,
    ) -> list[Notification]:
        """Return up to ``limit`` notifications with a seq above ``seq``, oldest first."""
        with self._changed:
            start = bisect.bisect_right(self._seqs, seq)
            found: list[Notification] = []
            for index in range(start, len(self._items)):
                item = self._items[index]
                if keep is None or keep(item):
                    found.append(item)
                    if len(found) >= limit:
                        break
            return found

    def wait(self, seq: int, timeout: float) -> bool:
        """Wait until a notification newer than ``seq`` exists; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.last > seq, timeout=timeout)
