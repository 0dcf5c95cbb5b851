"""Read-only queries of the scheduler for the API, run on the host thread.

Each function takes the :class:`~nbflow.core.scheduler.Scheduler` (``host.read`` hands
it over between batches, so the state is consistent) and the host's notification feed,
whose ``last`` seq then matches that state exactly: a client that loads a page and then
follows the event stream from the page's ``seq`` misses nothing and sees nothing twice.
They return plain values (``TaskInfo`` s); encoding to JSON happens off the host thread.

Imports: stdlib, nbflow.core.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nbflow.core.events import Status
    from nbflow.core.scheduler import Scheduler
    from nbflow.core.scheduler_node import TaskInfo


class _Feed(Protocol):
    last: int


@dataclass(frozen=True)
class Summary:
    """The scheduler at a glance."""

    paused: bool
    seq: int
    total: int
    counts: dict[str, int]


def summary(scheduler: Scheduler, seq: int = -1) -> Summary:
    """Return counts by status and whether dispatching is paused."""
    counts: Counter[str] = Counter()
    for (_family, status), count in scheduler.counts().items():
        counts[status.value] += count
    return Summary(
        paused=scheduler.paused,
        seq=seq,
        total=len(scheduler),
        counts=dict(counts),
    )


@dataclass(frozen=True)
class TaskQuery:
    """Filters, order and page of a task listing."""

    statuses: frozenset[Status] | None = None
    family: str | None = None
    worker: str | None = None
    search: str | None = None
    sort: str = "discovered"
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class TaskPage:
    """One page of a task listing."""

    tasks: list[TaskInfo]
    total: int
    counts: dict[str, int]
    seq: int


def _matches(info: TaskInfo, request: TaskQuery, needle: str | None) -> bool:
    if request.family is not None and info.family != request.family:
        return False
    if request.worker is not None and info.worker_id != request.worker:
        return False
    if needle is None:
        return True
    return needle in info.task_id.lower() or any(
        needle in value.lower() for _, value in info.params
    )


_SORT_KEYS = {
    "id": lambda info: info.task_id,
    "family": lambda info: (info.family, info.task_id),
    "status": lambda info: (info.status.value, info.task_id),
    "priority": lambda info: (-info.priority, info.task_id),
    "worker": lambda info: (info.worker_id or "", info.task_id),
}


def list_tasks(scheduler: Scheduler, request: TaskQuery, feed: _Feed) -> TaskPage:
    """Filter, count, sort and page the tasks (counts ignore the status filter)."""
    needle = request.search.lower() if request.search else None
    matching = [i for i in scheduler.tasks() if _matches(i, request, needle)]
    counts = Counter(info.status.value for info in matching)
    if request.statuses is not None:
        matching = [i for i in matching if i.status in request.statuses]
    key = request.sort.lstrip("-")
    if key in _SORT_KEYS:
        matching.sort(key=_SORT_KEYS[key])
    if request.sort.startswith("-"):
        matching.reverse()
    page = matching[request.offset : request.offset + request.limit]
    return TaskPage(page, len(matching), dict(counts), feed.last)


def info_or_none(scheduler: Scheduler, task_id: str) -> TaskInfo | None:
    """Return the task's snapshot, or None when the scheduler has no such task."""
    return scheduler.task_info(task_id) if task_id in scheduler else None


def task_detail(
    scheduler: Scheduler, task_id: str, feed: _Feed
) -> tuple[TaskInfo, tuple[str, ...], list[str], int] | None:
    """Return (snapshot, story, dependents, seq) of a task, or None if unknown."""
    if task_id not in scheduler:
        return None
    dependents = list(scheduler.dependents(task_id))
    return scheduler.task_info(task_id), scheduler.story(task_id), dependents, feed.last


@dataclass(frozen=True)
class Graph:
    """A task's neighbourhood: nodes, [task, requirement] edges among them."""

    nodes: list[TaskInfo]
    edges: list[tuple[str, str]]
    truncated: bool
    seq: int


def task_graph(
    scheduler: Scheduler,
    task_id: str,
    direction: str,
    depth: int | None,
    limit: int,
    feed: _Feed,
) -> Graph | None:
    """Walk from ``task_id`` breadth first (upstream: requirements), at most ``limit``."""
    if task_id not in scheduler:
        return None
    seen: dict[str, TaskInfo] = {task_id: scheduler.task_info(task_id)}
    frontier: deque[tuple[str, int]] = deque([(task_id, 0)])
    truncated = False
    while frontier:
        current, level = frontier.popleft()
        if depth is not None and level >= depth:
            continue
        neighbours: list[str] = []
        if direction in ("upstream", "both"):
            neighbours.extend(seen[current].deps)
        if direction in ("downstream", "both"):
            neighbours.extend(scheduler.dependents(current))
        for neighbour in neighbours:
            if neighbour in seen or neighbour not in scheduler:
                continue
            if len(seen) >= limit:
                truncated = True
                break
            seen[neighbour] = scheduler.task_info(neighbour)
            frontier.append((neighbour, level + 1))
    edges = [
        (info.task_id, dep)
        for info in seen.values()
        for dep in info.deps
        if dep in seen
    ]
    return Graph(list(seen.values()), edges, truncated, feed.last)


__all__ = [
    "Graph",
    "Summary",
    "TaskPage",
    "TaskQuery",
    "info_or_none",
    "list_tasks",
    "summary",
    "task_detail",
    "task_graph",
]
