"""Helpers of the Dask tests: waiting for the other side, recording notifications."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

#: Seconds a test (or a task) waits for something the other side does.
PATIENCE = 120.0


def wait_for(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check`` until it returns something true; fail after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {PATIENCE} s for {what}")
        time.sleep(0.02)
    return found


class Recorder:
    """A listener that keeps every notification, and calls ``react`` on each."""

    def __init__(self, react: Callable[[Any], None] | None = None) -> None:
        self.seen: list[Any] = []
        self.react = react

    def on_notification(self, notification: Any) -> None:
        self.seen.append(notification)
        if self.react is not None:
            self.react(notification)

    def of(self, kind: type, task_id: str) -> list[Any]:
        """Return the notifications of type ``kind`` about ``task_id``."""
        return [
            n
            for n in self.seen
            if type(n) is kind and getattr(n, "task_id", None) == task_id
        ]


def files(folder: Path) -> list[str]:
    """Return the names in ``folder`` (temporaries included), sorted."""
    return sorted(path.name for path in folder.iterdir())
