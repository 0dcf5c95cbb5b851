"""Runtime reports from Dask workers, carried to the nbflow worker while tasks run.

A task on a Dask worker reports (progress, status messages, tracking URLs, what it
prints) through distributed's own event machinery: the worker logs each report as an
event on the run's topic (``Worker.log_event``), the scheduler forwards it to the
client subscribed to that topic (``Client.subscribe_topic``), and :class:`Relay` hands
it to the nbflow worker's reporter, which puts it in the worker's inbox. Each event is
``{"key": dask key, "task_id": ..., "kind": ..., "value": pickled value}`` (events
must be msgpack-able; values such as captured output are not).

The first event of a run, ``started``, names the Dask worker. A task that sets no
tracking URL of its own links to the dashboard's page of its run: that link is
reported when the run starts, and one the task sets later replaces it.

Threads: events arrive in the client's event-loop thread; :meth:`Relay.expect` and
:meth:`Relay.forget` are called from the nbflow worker's thread and the futures'
callback thread. The expected runs are guarded by one lock.

Imports: stdlib.
"""

from __future__ import annotations

import logging
import pickle
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

#: The kind of the event a run sends first, with its worker's address.
STARTED = "started"


@dataclass(frozen=True, slots=True)
class ExpectedRun:
    """A run submitted to Dask, whose reports go to ``report``."""

    task_id: str
    report: Callable[[str, str, Any], None]
    #: The dashboard's page of the run (the default tracking URL), if any.
    default_url: str | None = None


class Relay:
    """Subscribe to a run's topic on ``client``; pass the events on as reports."""

    def __init__(self, client: Any) -> None:
        self._client = client
        #: This executor's topic: runs of other executors on the cluster stay apart.
        self.topic = f"nbflow-{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        self._expected: dict[str, ExpectedRun] = {}
        #: Dask key -> the address of the worker that started it.
        self._workers: dict[str, str] = {}
        client.subscribe_topic(self.topic, self._on_event)

    def expect(self, key: str, run: ExpectedRun) -> None:
        """Pass the reports of the run ``key`` to ``run.report`` from now on."""
        with self._lock:
            self._expected[key] = run

    def forget(self, key: str) -> str | None:
        """Stop passing ``key``'s reports on; return the worker that started it."""
        with self._lock:
            self._expected.pop(key, None)
            return self._workers.pop(key, None)

    def close(self) -> None:
        """Unsubscribe from the topic."""
        try:
            self._client.unsubscribe_topic(self.topic)
        except (OSError, RuntimeError, ValueError):  # the client is closed already
            logger.debug("cannot unsubscribe from %s", self.topic, exc_info=True)

    def _on_event(self, event: tuple[float, Any]) -> None:
        _, message = event
        key = message.get("key") if isinstance(message, dict) else None
        with self._lock:
            run = self._expected.get(key) if isinstance(key, str) else None
            if run is not None and message.get("kind") == STARTED:
                self._workers[str(key)] = str(message.get("worker", ""))
        if run is None:  # a run that ended (or was cancelled) meanwhile
            return
        if message.get("kind") == STARTED:
            if run.default_url:
                run.report(run.task_id, "tracking_url", run.default_url)
            return
        try:
            value = pickle.loads(message["value"])  # noqa: S301  (our workers' bytes)
            run.report(str(message["task_id"]), str(message["kind"]), value)
        except Exception:
            logger.warning("cannot take a report of %s", run.task_id, exc_info=True)


class EventReporter:
    """On a Dask worker: send a running task's reports as events on ``topic``."""

    def __init__(self, worker: Any, topic: str, key: str) -> None:
        self._worker, self._topic, self._key = worker, topic, key

    def started(self) -> None:
        """Say that the run started, and where."""
        self._send({"key": self._key, "kind": STARTED, "worker": self._worker.address})

    def __call__(self, task_id: str, kind: str, value: Any) -> None:
        """Send one report (``Task._report(kind, value)``); any thread may call it."""
        self._send(
            {
                "key": self._key,
                "task_id": task_id,
                "kind": kind,
                "value": pickle.dumps(value),
            }
        )

    def _send(self, message: dict[str, Any]) -> None:
        self._worker.log_event(self._topic, message)
