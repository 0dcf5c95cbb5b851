"""luigid's read-only views of the scheduler: the JSON shapes Luigi's tools read.

``graph``, ``dep_graph``, ``inverse_dep_graph``, ``task_list``, ``task_search``,
``worker_list`` and ``resource_list`` answer with dictionaries keyed by task id whose
values have luigid's fields (``display_name``, ``status``, ``workers``, ``params``,
``name``, ``deps``, ...), so Luigi's own visualiser and scripts written against luigid
read them unchanged. Every function here is pure: it takes snapshots
(:class:`~nbflow.core.scheduler_node.TaskInfo` and what the RPC layer remembers of
each task) and returns plain JSON values.

nbflow's scheduler has statuses luigid shows differently: ``UPSTREAM_FAILED`` and
``UPSTREAM_DISABLED`` are luigid's PENDING tasks with that *upstream status*, and a
``CANCELLED`` task (stopped by its worker) shows as FAILED.

Imports: stdlib, nbflow.core.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.events import Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from nbflow.core.scheduler_node import TaskInfo

#: luigid's name for a task it only knows as somebody's requirement.
UNKNOWN = "UNKNOWN"
#: Statuses shown as luigid's; the rest keep their own name.
_AS_LUIGI = {
    Status.UPSTREAM_FAILED: "PENDING",
    Status.UPSTREAM_DISABLED: "PENDING",
    Status.CANCELLED: "FAILED",
}
_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)
_FAMILY = re.compile(r"([^(_]+)[(_]")


@dataclass
class LuigiTask:
    """What the RPC layer keeps of a task beyond the scheduler's TaskSpec."""

    module: str | None = None
    #: Every parameter as the Luigi worker serialised it (private ones included).
    params: dict[str, str] = field(default_factory=dict)
    #: Luigi's visibilities: 0 public, 1 hidden, 2 private.
    visibilities: dict[str, int] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)
    #: Workers that added the task, first first.
    owners: dict[str, None] = field(default_factory=dict)
    added: float | None = None
    updated: float | None = None
    running_since: float | None = None


def luigi_status(status: Status) -> str:
    """Return luigid's name for an nbflow status.

    Examples
    --------
    >>> luigi_status(Status.UPSTREAM_FAILED), luigi_status(Status.DONE)
    ('PENDING', 'DONE')
    """
    return _AS_LUIGI.get(status) or str(status.value)


def upstream_status(status: Status) -> str:
    """Return luigid's upstream status of a task ("" when nothing upstream is bad)."""
    if status in (Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED):
        return str(status.value)
    return ""


def pretty_id(family: str, params: Iterable[tuple[str, str]]) -> str:
    """Return luigid's display name: the family and its public parameters, sorted.

    Examples
    --------
    >>> pretty_id("Clean", [("day", "2024-01-31"), ("a", "1")])
    'Clean(a=1, day=2024-01-31)'
    """
    shown = ", ".join(f"{key}={value}" for key, value in sorted(params))
    return f"{family}({shown})"


def serialize(
    info: TaskInfo,
    extra: LuigiTask | None,
    *,
    deps: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Return one task in luigid's shape (``deps`` included when given)."""
    extra = extra or LuigiTask()
    running = info.status in _RUNNING
    resources = dict(extra.resources)
    task: dict[str, Any] = {
        "display_name": pretty_id(info.family, info.params),
        "status": luigi_status(info.status),
        "workers": list(extra.owners),
        "worker_running": info.worker_id if running else None,
        "time_running": extra.running_since if running else None,
        "start_time": extra.added,
        "last_updated": extra.updated,
        "params": dict(info.params),
        "name": info.family,
        "priority": info.priority,
        "resources": resources,
        "resources_running": resources if running else None,
        "tracking_url": info.tracking_url,
        "status_message": info.status_message,
        "progress_percentage": info.progress,
    }
    if info.status is Status.DISABLED:
        task["re_enable_able"] = True
    if deps is not None:
        task["deps"] = list(deps)
    return task


def unknown_task(task_id: str) -> dict[str, Any]:
    """Return luigid's entry for a requirement the scheduler has never seen."""
    match = _FAMILY.match(task_id)
    return {
        "deps": [],
        "status": UNKNOWN,
        "workers": [],
        "start_time": UNKNOWN,
        "params": {"task_id": task_id},
        "name": match.group(1) if match else UNKNOWN,
        "display_name": task_id,
        "priority": 0,
    }


def traverse(
    root: str,
    lookup: Callable[[str], TaskInfo | None],
    extras: Mapping[str, LuigiTask],
    *,
    edges: Callable[[TaskInfo], Iterable[str]] | None = None,
    include_done: bool = True,
    limit: int = 100_000,
) -> dict[str, dict[str, Any]]:
    """Return the graph reachable from ``root`` breadth first, as luigid's dep_graph."""
    follow = edges or (lambda info: info.deps)
    seen = {root}
    queue = deque([root])
    found: dict[str, dict[str, Any]] = {}
    while queue and len(found) < limit:
        task_id = queue.popleft()
        info = lookup(task_id)
        if info is None:
            found[task_id] = unknown_task(task_id)
            continue
        deps = [
            dep
            for dep in follow(info)
            if include_done or _status_of(lookup, dep) is not Status.DONE
        ]
        found[task_id] = serialize(info, extras.get(task_id), deps=deps)
        if task_id != root:
            del found[task_id]["display_name"]
        for dep in sorted(deps):
            if dep not in seen:
                seen.add(dep)
                queue.append(dep)
    return found


def _status_of(lookup: Callable[[str], TaskInfo | None], task_id: str) -> Status | None:
    info = lookup(task_id)
    return None if info is None else info.status


def select(
    infos: Iterable[TaskInfo],
    *,
    status: str = "",
    upstream: str = "",
    search: str | None = None,
) -> list[TaskInfo]:
    """Return the tasks luigid's task_list would list for these filters."""
    terms = [term.casefold() for term in (search or "").split()]
    chosen = []
    for info in infos:
        shown = luigi_status(info.status)
        if status and shown != status:
            continue
        if upstream and shown == "PENDING" and upstream_status(info.status) != upstream:
            continue
        if terms:
            name = pretty_id(info.family, info.params).casefold()
            if not all(term in name for term in terms):
                continue
        chosen.append(info)
    return chosen


def resource_usage(
    limits: Mapping[str, int],
    running: Iterable[TaskInfo],
    extras: Mapping[str, LuigiTask],
) -> list[dict[str, Any]]:
    """Return luigid's resource_list: each limited resource, its use and its users."""
    users: dict[str, dict[str, Any]] = {name: {} for name in limits}
    used: dict[str, int] = dict.fromkeys(limits, 0)
    for info in running:
        extra = extras.get(info.task_id)
        for name, amount in (extra.resources if extra else {}).items():
            if name in users:
                used[name] += amount
                users[name][info.task_id] = serialize(info, extra)
    return [
        {
            "name": name,
            "num_total": total,
            "num_used": used[name],
            "num_consumer": len(users[name]),
            "running": users[name],
        }
        for name, total in sorted(limits.items())
    ]


__all__ = [
    "UNKNOWN",
    "LuigiTask",
    "luigi_status",
    "pretty_id",
    "resource_usage",
    "select",
    "serialize",
    "traverse",
    "unknown_task",
    "upstream_status",
]
