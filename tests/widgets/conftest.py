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
from nbflow.core.progress import RunProgress
from nbflow.core.watch import ViewThrottle


class FakeRun:
    """The part of nbflow.core.run.Run a view uses, fed by hand: roots, the progress
    model under ``lock``, and ``watch`` (the run's real view throttle)."""

    def __init__(self) -> None:
        self.roots: list[Any] = []
        self.lock = threading.RLock()
        self.progress = RunProgress()
        self._views = ViewThrottle(self)  # type: ignore[arg-type]
        self._ended = False
        self._seq = itertools.count(1)
        self.clock = time.time()

    def watch(self, callback: Any, *, interval: float = 0.1) -> Any:
        return self._views.add(callback, interval)

    def done(self) -> bool:
        return self._ended

    def publish(self, notification: Any) -> None:
        with self.lock:
            self.progress.on_notification(notification)
        self._views.poke(notification)

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

    def report(self, task_id: str, percentage: float) -> None:
        self.publish(TaskProgressed(next(self._seq), self.clock, task_id, percentage))

    def message(self, task_id: str, text: str) -> None:
        self.publish(TaskMessage(next(self._seq), self.clock, task_id, text))

    def url(self, task_id: str, url: str) -> None:
        self.publish(TaskTrackingUrl(next(self._seq), self.clock, task_id, url))

    def finish(self, state: str = "succeeded") -> None:
        """Publish RunFinished and end, as a real run's thread does."""
        self.publish(RunFinished(next(self._seq), self.clock, "run-1", state, ()))
        self._views.finish()
        self._ended = True


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
