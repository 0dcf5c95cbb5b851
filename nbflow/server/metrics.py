"""Prometheus metrics of the scheduler, in a registry of the server's own.

What is measured, and where it comes from:

- ``nbflow_tasks{status,family}``: tasks by status and family, counted on the host
  thread at each scrape (one pass over the tasks);
- ``nbflow_queue_depth``: tasks ready to run (PENDING with every requirement done);
- ``nbflow_workers_alive``: workers that announced themselves and have not gone;
- ``nbflow_task_run_seconds{status}``: how long runs took, by how they ended, observed
  from the notifications (a subscriber on the host thread: O(1) per notification);
- ``nbflow_scheduler_batch_seconds``: how long the host thread took to apply and
  commit each batch of calls (its loop latency), drained from the host's stats;
- ``nbflow_history_queue``, ``nbflow_history_dropped_total``: the history writer's
  backlog (history is written off the scheduler's thread; this shows it keeping up);
- ``nbflow_scheduler_calls_total``, ``nbflow_scheduler_events_total``,
  ``nbflow_scheduler_batches_total``: the host's counters.

The registry is not prometheus_client's global one, so two servers in one process
(the tests) do not collide, and nothing else's metrics leak in.

Imports: stdlib, prometheus_client, nbflow.core.events, nbflow.server.host.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nbflow.core.events import Status, TaskStatusChanged
from nbflow.server.host import HostStoppedError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nbflow.core.events import Notification
    from nbflow.core.scheduler import Scheduler
    from nbflow.server.host import SchedulerHost

#: Content type of :meth:`ServerMetrics.render`'s output.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_RUNNING = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
_DURATION_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400)
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)


class _Snapshot:
    """What one scrape reads on the host thread."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.by_status_family: Counter[tuple[str, str]] = Counter(
            {
                (status.value, family): count
                for (family, status), count in scheduler.counts().items()
            }
        )
        self.ready = scheduler.ready_count


class _HostCollector(Collector):
    def __init__(self, host: SchedulerHost, latency: Histogram, writer: Any) -> None:
        self._host = host
        self._latency = latency
        self._writer = writer

    def collect(self) -> Iterable[Metric]:
        host = self._host
        stats = host.stats
        taken, stats.batch_seconds = stats.batch_seconds, []
        for seconds in taken:
            self._latency.observe(seconds)
        yield from self._latency.collect()
        yield CounterMetricFamily(
            "nbflow_scheduler_calls", "Calls the scheduler host answered.", stats.calls
        )
        yield CounterMetricFamily(
            "nbflow_scheduler_events", "Events applied and logged.", stats.events
        )
        yield CounterMetricFamily(
            "nbflow_scheduler_batches", "Batches of calls applied.", stats.batches
        )
        if self._writer is not None:
            yield GaugeMetricFamily(
                "nbflow_history_queue",
                "Notifications waiting to be written to the history.",
                value=self._writer.queued,
            )
            yield CounterMetricFamily(
                "nbflow_history_dropped",
                "Notifications the history dropped (its queue was full).",
                self._writer.dropped,
            )
        try:
            snapshot = host.read(_Snapshot)
            workers = len(host.workers())
        except HostStoppedError:
            return  # the scheduler is down: /readyz says so; counters above still count
        tasks = GaugeMetricFamily(
            "nbflow_tasks", "Tasks by status and family.", labels=["status", "family"]
        )
        for (status, family), count in sorted(snapshot.by_status_family.items()):
            tasks.add_metric([status, family], count)
        yield tasks
        yield GaugeMetricFamily(
            "nbflow_queue_depth", "Tasks ready to run.", value=snapshot.ready
        )
        yield GaugeMetricFamily(
            "nbflow_workers_alive", "Workers connected.", value=workers
        )


class ServerMetrics:
    """The server's metrics: a registry fed by the host (see the module docstring)."""

    def __init__(self, host: SchedulerHost, history_writer: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._durations = Histogram(
            "nbflow_task_run_seconds",
            "Duration of task runs, by the status they ended in.",
            ["status"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        latency = Histogram(
            "nbflow_scheduler_batch_seconds",
            "Time the scheduler thread took to apply and commit a batch of calls.",
            buckets=_LATENCY_BUCKETS,
            registry=None,  # collected by _HostCollector, after it drains the host's stats
        )
        self.registry.register(_HostCollector(host, latency, history_writer))
        self._started: dict[str, float] = {}
        self._unsubscribe: Callable[[], None] = host.subscribe(self._on_notification)

    def _on_notification(self, note: Notification) -> None:
        """Time runs (host thread: constant work per notification)."""
        if type(note) is not TaskStatusChanged:
            return
        if note.status in _RUNNING:
            self._started[note.task_id] = note.at
        elif note.previous in _RUNNING:
            began = self._started.pop(note.task_id, None)
            if began is not None:
                self._durations.labels(note.status.value).observe(
                    max(0.0, note.at - began)
                )

    def render(self) -> bytes:
        """Return the metrics in Prometheus' text format (reads the host: blocks)."""
        return generate_latest(self.registry)

    def close(self) -> None:
        """Stop observing the host."""
        self._unsubscribe()


__all__ = ["CONTENT_TYPE", "ServerMetrics"]
