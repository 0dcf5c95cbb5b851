"""Fixtures for the widget tests: a fake Run fed by hand, and a message recorder."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)


class FakeRun:
    """The part of nbflow.core.run.Run a view uses: roots and subscribe(replay=True)."""

    def __init__(self) -> None:
        self.roots: list[Any] = []
        self.history: list[Any] = []
        self.listeners: list[Any] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.clock = time.time()

    def subscribe(self, listener: Any, *, replay: bool = True) -> Any:
        with self._lock:
            if replay:
                for notification in self.history:
                    listener.on_notification(notification)
            self.listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self.listeners:
                    self.listeners.remove(listener)

        return unsubscribe

    def publish(self, notification: Any) -> None:
        with self._lock:
            self.history.append(notification)
            for listener in list(self.listeners):
                listener.on_notification(notification)

    # builders: each publishes one notification with the next seq

    def add(
        self,
        task_id: str,
        *deps: str,
        family: str = "",
        params: tuple[tuple[str, str], ...] = (),
        status: Status = Status.PENDING,
        complete_before: bool = False,
    ) -> None:
        family = family or task_id.split("_", maxsplit=1)[0]
        self.publish(
            TaskAdded(
                next(self._seq),
                self.clock,
                task_id,
                family,
                params,
                deps,
                status,
                complete_before,
            )
        )

    def start(self) -> None:
        self.publish(RunStarted(next(self._seq), self.clock, "run-1", (), 0))

    def change(
        self, task_id: str, status: Status, previous: Status, **extra: Any
    ) -> None:
        self.publish(
            TaskStatusChanged(
                next(self._seq), self.clock, task_id, status, previous, **extra
            )
        )

    def progress(self, task_id: str, percentage: float) -> None:
        self.publish(TaskProgressed(next(self._seq), self.clock, task_id, percentage))

    def message(self, task_id: str, text: str) -> None:
        self.publish(TaskMessage(next(self._seq), self.clock, task_id, text))

    def url(self, task_id: str, url: str) -> None:
        self.publish(TaskTrackingUrl(next(self._seq), self.clock, task_id, url))

    def finish(self, state: str = "succeeded") -> None:
        self.publish(RunFinished(next(self._seq), self.clock, "run-1", state, ()))


@pytest.fixture
def fake_run() -> FakeRun:
    return FakeRun()


class Sent:
    """Every message a widget sends to its front end."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, data: Any = None, buffers: Any = None, **_: Any) -> None:
        with self._lock:
            self.messages.append(data)

    def updates(self, name: str) -> list[Any]:
        """Return the values sent for trait ``name``, in order."""
        with self._lock:
            return [m["state"][name] for m in self.messages if name in m["state"]]


@pytest.fixture
def record() -> Any:
    """Return a function that starts recording what a widget sends."""

    def start(widget: Any) -> Sent:
        sent = Sent()
        widget.comm.send = sent
        return sent

    return start
