"""Where the scheduler host keeps its events: the :class:`EventLog` protocol.

The server's durable state is the log of every event its scheduler applied plus
snapshots (see :mod:`nbflow.server.host`). :class:`nbflow.server.store.Store` keeps
them in a database; :class:`MemoryEventLog` keeps them in memory, for tests and for
servers that need no durability.

Imports: stdlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


class EventLog(Protocol):
    """What the host needs from the store (nbflow.server.store.Store provides it)."""

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Append encoded events in one committed transaction; return the last position."""

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (position, encoded event) after ``position``, in order."""

    def save_snapshot(self, position: int, blob: bytes) -> None:
        """Keep the scheduler as of log ``position``."""

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the newest snapshot, if any."""


class MemoryEventLog:
    """An :class:`EventLog` in memory: for tests, and servers that need no durability."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[tuple[int, bytes]] = []

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Append encoded events; return the last position."""
        self.events.extend(events)
        return len(self.events)

    def events_after(self, position: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (position, encoded event) after ``position``."""
        for index in range(position, len(self.events)):
            yield index + 1, self.events[index]

    def save_snapshot(self, position: int, blob: bytes) -> None:
        """Keep a snapshot."""
        self.snapshots.append((position, blob))

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """Return the newest snapshot, if any."""
        return self.snapshots[-1] if self.snapshots else None
