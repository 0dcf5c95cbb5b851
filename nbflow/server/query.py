"""Read-only queries of the scheduler for the API, run on the host thread.

Each function takes the :class:`~nbflow.core.scheduler.Scheduler` (``host.read`` hands
it over between batches, so the state is consistent) and the host's notification feed,
whose ``last`` seq then matches that state exactly: a client that loads a page and then
follows the event stream from the page's ``seq`` misses nothing and sees nothing twice.
They return plain values (``TaskInfo`` s); encoding to JSON happens off the host thread.
The task listing is the exception: :func:`match_tasks` filters and sorts off the host
thread, and only the page's snapshots are taken on it (:func:`page_infos`).

Imports: stdlib, nbflow.core.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Status
    from nbflow.core.scheduler import Scheduler
    from nbflow.core.scheduler_node import Node, TaskInfo


class _Feed(Protocol):
    last: int


@dataclass(frozen=True)
class Summary:
    """The scheduler at a glance."""

    paused: bool
    seq: int
    total: int
    counts: dict[str, int]
    #: Tasks by family (the visualiser's family filter lists them).
    families: dict[str, int] = field(default_factory=dict)
    #: Resources in use: name -> (used, limit).
    resources: dict[str, tuple[int, int]] = field(default_factory=dict)


def summary(scheduler: Scheduler, seq: int = -1) -> Summary:
    """Return counts by status and whether dispatching is paused."""
    counts: Counter[str] = Counter()
    families: Counter[str] = Counter()
    for (family, status), count in scheduler.counts().items():
        counts[status.value] += count
        families[family] += count
    return Summary(
        paused=scheduler.paused,
        seq=seq,
        total=len(scheduler),
        counts=dict(counts),
        families=dict(sorted(families.items())),
        resources=scheduler.resource_use(),
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


def _matches(node: Node, request: TaskQuery, needle: str | None) -> bool:
    if request.family is not None and node.family != request.family:
        return False
    if request.worker is not None and node.worker != request.worker:
        return False
    if needle is None:
        return True
    return needle in node.id.lower() or any(
        needle in value.lower() for _, value in node.params
    )


_SORT_KEYS: dict[str, Callable[[Node], Any]] = {
    "id": lambda node: node.id,
    "family": lambda node: (node.family, node.id),
    "status": lambda node: (node.status.value, node.id),
    "priority": lambda node: (-node.priority, node.id),
    "worker": lambda node: (node.worker or "", node.id),
    "changed": lambda node: (node.changed_at, node.id),
}


@dataclass(frozen=True)
class Matches:
    """The ids of one page of a task listing, with the listing's total and counts."""

    ids: list[str]
    total: int
    counts: dict[str, int]


def match_tasks(nodes: list[Node], request: TaskQuery) -> Matches:
    """Filter, count, sort and page ``nodes`` (counts ignore the status filter).

    Runs off the scheduler's thread on :meth:`Scheduler.nodes_now`'s list, so a
    listing of 100,000 tasks never holds scheduling up; the page's snapshots are
    then taken on the scheduler's thread (:func:`page_infos`).
    """
    needle = request.search.lower() if request.search else None
    matching = [n for n in nodes if _matches(n, request, needle)]
    counts = Counter(node.status.value for node in matching)
    if request.statuses is not None:
        matching = [n for n in matching if n.status in request.statuses]
    key = request.sort.lstrip("-")
    if key in _SORT_KEYS:
        matching.sort(key=_SORT_KEYS[key])
    if request.sort.startswith("-"):
        matching.reverse()
    page = matching[request.offset : request.offset + request.limit]
    return Matches([node.id for node in page], len(matching), dict(counts))


def page_infos(scheduler: Scheduler, ids: list[str]) -> list[TaskInfo]:
    """Return the snapshots of the tasks ``ids`` still known (scheduler's thread)."""
    return [scheduler.task_info(task_id) for task_id in ids if task_id in scheduler]


def list_tasks(scheduler: Scheduler, request: TaskQuery, feed: _Feed) -> TaskPage:
    """List tasks in one go on the scheduler's thread (tests; the API splits it)."""
    found = match_tasks(scheduler.nodes_now(), request)
    infos = page_infos(scheduler, found.ids)
    return TaskPage(infos, found.total, found.counts, feed.last)


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
    "match_tasks",
    "page_infos",
    "summary",
    "task_detail",
    "task_graph",
]
