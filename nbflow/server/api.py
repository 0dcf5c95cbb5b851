"""The JSON API under /api/v1: workers' calls, tasks, graphs, admin actions, history.

Every read of scheduler state goes through ``host.read`` (so it runs on the host
thread, between batches, and sees a consistent state); every change goes through
``host.call`` (applied, logged and committed before the answer). The queries that scan
the tasks live in :mod:`nbflow.server.query`. The OpenAPI document
(:mod:`nbflow.server.openapi`) describes each route; keep the two in step.

Imports: stdlib, tornado, nbflow.core, nbflow.server.{handler, host, openapi, query}.
"""

from __future__ import annotations

import math
import re
import time
import typing
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from nbflow.core import events as _events
from nbflow.core import wire
from nbflow.core.events import Status
from nbflow.server import logs, query
from nbflow.server.handler import ApiError, JsonHandler
from nbflow.server.openapi import MAX_GRAPH, MAX_LIMIT, MAX_WAIT, PREFIX, TASK_SORTS

if TYPE_CHECKING:
    from nbflow.core.events import SchedulerEvent
    from nbflow.server.handler import ServerContext
    from nbflow.server.host import Reply

_EVENT_TYPES = typing.get_args(_events.SchedulerEvent)
_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)
#: The host in a Luigi worker's id: "Worker(salt=..., host=NAME, username=...)".
_LUIGI_HOST = re.compile(r"\bhost=([^,)\s]+)")
#: Row ids are 64-bit integers in every database.
_LARGEST_ID = 2**63 - 1


# --- arguments ---------------------------------------------------------------------------


def _int_arg(
    handler: JsonHandler, name: str, default: int | None, low: int, high: int | None
) -> int | None:
    text = handler.get_query_argument(name, None)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ApiError(
            400, f"the query argument {name}={text!r} is not a whole number {bound}"
        )
    return value


def _number_arg(handler: JsonHandler, name: str) -> float | None:
    text = handler.get_query_argument(name, None)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ApiError(
            400,
            f"the query argument {name}={text!r} is not a number (seconds since the epoch)",
        )
    return value


def _cursor(handler: JsonHandler) -> int:
    text = handler.get_query_argument("cursor", None) or "0"
    if not text.isdigit() or len(text) > 18:  # noqa: PLR2004
        raise ApiError(
            400,
            f"cursor={text!r} is not a cursor this server gave. Fix: pass next_cursor "
            "from the previous page, or leave it out for the first page",
        )
    return int(text)


def _statuses(text: str | None) -> frozenset[Status] | None:
    if not text:
        return None
    found = set()
    for name in text.split(","):
        try:
            found.add(Status(name.strip().upper()))
        except ValueError:
            known = ", ".join(s.value for s in Status)
            raise ApiError(
                400, f"status={name!r} is not a task status. Expected some of: {known}"
            ) from None
    return frozenset(found)


def _task_json(info: Any) -> dict[str, Any]:
    return wire.to_json(info)


# --- the scheduler ---------------------------------------------------------------------


class SchedulerHandler(JsonHandler):
    """GET /api/v1/scheduler; POST .../pause and .../resume."""

    def allowed_methods(self) -> list[str]:
        """Return GET for the state, POST for pause and resume."""
        path = self.request.path
        return ["POST"] if path.endswith(("/pause", "/resume")) else ["GET"]

    async def get(self, verb: str | None = None) -> None:
        """Return the scheduler's state at a glance."""
        if verb is not None:
            raise ApiError(405, f"use POST for {self.request.path}")
        self.authorize(write=False)
        self.write_json(await scheduler_state(self))

    async def post(self, verb: str | None = None) -> None:
        """Pause or resume dispatching."""
        if verb is None:
            raise ApiError(405, "use GET for /api/v1/scheduler")
        self.authorize(write=True)
        event = (
            _events.SchedulerPaused() if verb == "pause" else _events.SchedulerResumed()
        )
        host = self.context.host
        await self.blocking(host.call, None, [event])
        self.write_json(await scheduler_state(self))


async def scheduler_state(handler: JsonHandler) -> dict[str, Any]:
    """Return the document of GET /api/v1/scheduler."""
    host = handler.context.host
    summary = await handler.blocking(
        host.read, lambda s: query.summary(s, host.feed.last)
    )
    workers = await handler.blocking(host.workers)
    return {
        "paused": summary.paused,
        "seq": summary.seq,
        "oldest_seq": host.feed.oldest,
        "tasks": summary.total,
        "counts": summary.counts,
        "families": summary.families,
        "resources": {
            name: {"used": used, "limit": limit}
            for name, (used, limit) in summary.resources.items()
        },
        "workers": len(workers),
        "version": handler.context.version,
    }


# --- tasks -------------------------------------------------------------------------------


class TasksHandler(JsonHandler):
    """GET /api/v1/tasks: filtered, sorted, paged, with counts by status."""

    async def get(self) -> None:
        """List tasks."""
        self.authorize(write=False)
        sort = self.get_query_argument("sort", None) or "discovered"
        if sort.lstrip("-") not in TASK_SORTS:
            raise ApiError(
                400,
                f"sort={sort!r} is not a sort key. Expected one of: "
                f"{', '.join(TASK_SORTS)} (a leading '-' reverses)",
            )
        request = query.TaskQuery(
            statuses=_statuses(self.get_query_argument("status", None)),
            family=self.get_query_argument("family", None) or None,
            worker=self.get_query_argument("worker", None) or None,
            search=self.get_query_argument("search", None) or None,
            sort=sort,
            offset=_cursor(self),
            limit=_int_arg(self, "limit", 100, 1, MAX_LIMIT) or 100,
        )
        host = self.context.host
        # the scheduler's thread only copies the list and snapshots the page
        nodes = await self.blocking(host.read, lambda s: s.nodes_now())
        found = await self.blocking(query.match_tasks, nodes, request)
        infos, seq = await self.blocking(
            host.read, lambda s: (query.page_infos(s, found.ids), host.feed.last)
        )
        following = request.offset + len(found.ids)
        self.write_json(
            {
                "tasks": [_task_json(info) for info in infos],
                "total": found.total,
                "counts": found.counts,
                "next_cursor": str(following) if following < found.total else None,
                "seq": seq,
            }
        )


class TaskHandler(JsonHandler):
    """GET /api/v1/tasks/{task_id}: the task, its story and its dependents."""

    async def get(self, task_id: str) -> None:
        """Describe one task."""
        self.authorize(write=False)
        host = self.context.host
        detail = await self.blocking(
            host.read, lambda s: query.task_detail(s, task_id, host.feed)
        )
        if detail is None:
            raise _no_task(task_id)
        info, story, dependents, seq = detail
        self.write_json(
            {
                "task": _task_json(info),
                "story": list(story),
                "dependents": dependents,
                "seq": seq,
            }
        )


class GraphHandler(JsonHandler):
    """GET /api/v1/tasks/{task_id}/graph."""

    async def get(self, task_id: str) -> None:
        """Return the graph around a task."""
        self.authorize(write=False)
        direction = self.get_query_argument("direction", None) or "upstream"
        if direction not in ("upstream", "downstream", "both"):
            raise ApiError(
                400, f"direction={direction!r}: expected upstream, downstream or both"
            )
        depth = _int_arg(self, "depth", None, 0, None)
        limit = _int_arg(self, "limit", 10_000, 1, MAX_GRAPH) or 10_000
        host = self.context.host
        graph = await self.blocking(
            host.read,
            lambda s: query.task_graph(s, task_id, direction, depth, limit, host.feed),
        )
        if graph is None:
            raise _no_task(task_id)
        self.write_json(
            {
                "root": task_id,
                "direction": direction,
                "nodes": [_task_json(info) for info in graph.nodes],
                "edges": [list(edge) for edge in graph.edges],
                "truncated": graph.truncated,
                "seq": graph.seq,
            }
        )


def _no_task(task_id: str) -> ApiError:
    return ApiError(
        404,
        f"the scheduler has no task {task_id!r}. Fix: list tasks with GET "
        "/api/v1/tasks; percent-encode the id in the path (ids may hold '/', '?', '%')",
    )


#: verb -> (the statuses it applies to, the event it sends)
_ACTIONS: dict[str, tuple[frozenset[Status], type]] = {
    "forgive": (frozenset({Status.FAILED}), _events.FailuresForgiven),
    "reenable": (frozenset({Status.DISABLED, Status.FAILED}), _events.TaskReenabled),
    "mark-done": (
        frozenset(Status) - {Status.RUNNING, Status.BATCH_RUNNING, Status.DONE},
        _events.TaskMarkedDone,
    ),
}


def _action_event(verb: str, task_id: str, status: Status) -> SchedulerEvent | None:
    """Return the event carrying out ``verb`` on a task in ``status`` (None: refused)."""
    if verb == "retry":
        verb = "forgive" if status is Status.FAILED else "reenable"
    allowed, event_type = _ACTIONS[verb]
    if status not in allowed:
        return None
    event: SchedulerEvent = event_type(task_id)
    return event


class TaskActionHandler(JsonHandler):
    """POST /api/v1/tasks/{task_id}/(forgive|reenable|mark-done|retry)."""

    async def post(self, task_id: str, verb: str) -> None:
        """Apply an administrator's action to one task."""
        self.authorize(write=True)
        self.json_body(())
        host = self.context.host
        before = await self.blocking(
            host.read, lambda s: query.info_or_none(s, task_id)
        )
        if before is None:
            raise _no_task(task_id)
        if not (verb == "mark-done" and before.status is Status.DONE):
            event = _action_event(verb, task_id, before.status)
            if event is None:
                raise ApiError(409, _refusal(verb, task_id, before.status), "rejected")
            await self.blocking(host.call, None, [event])
        after = await self.blocking(host.read, lambda s: query.info_or_none(s, task_id))
        if after is None:  # pruned meanwhile
            raise _no_task(task_id)
        self.write_json({"task": _task_json(after), "seq": host.feed.last})


def _refusal(verb: str, task_id: str, status: Status) -> str:
    wanted = {
        "forgive": "FAILED",
        "reenable": "DISABLED or FAILED",
        "retry": "FAILED or DISABLED",
        "mark-done": "not running",
    }[verb]
    return (
        f"cannot {verb} task {task_id!r}: it is {status.value}, and {verb} needs a task "
        f"that is {wanted}. Fix: look at its state with GET /api/v1/tasks/{{task_id}}"
        + (
            " (an UPSTREAM_* task waits for the task named as its cause)"
            if status.value.startswith("UPSTREAM")
            else ""
        )
    )


class PruneHandler(JsonHandler):
    """POST /api/v1/prune {before}."""

    async def post(self) -> None:
        """Forget finished tasks last changed before a time."""
        self.authorize(write=True)
        body = self.json_body(("before",))
        before = body.get("before")
        if (
            isinstance(before, bool)
            or not isinstance(before, (int, float))
            or not math.isfinite(before)
        ):
            raise ApiError(
                400,
                f"'before' must be a number of seconds since the epoch (got {before!r}). "
                f'Fix: send {{"before": {time.time() - 86400:.0f}}} for a day ago',
            )
        host = self.context.host
        count_before = await self.blocking(host.read, len)
        await self.blocking(host.call, None, [_events.TasksPruned(float(before))])
        count_after = await self.blocking(host.read, len)
        self.write_json(
            {"pruned": max(0, count_before - count_after), "seq": host.feed.last}
        )


# --- workers ---------------------------------------------------------------------------


class WorkersHandler(JsonHandler):
    """GET /api/v1/workers."""

    async def get(self) -> None:
        """List the workers."""
        self.authorize(write=False)
        workers = await self.blocking(self.context.host.workers)
        self.write_json({"workers": [_worker_json(w) for w in workers]})


def _worker_json(worker: Any) -> dict[str, Any]:
    found = asdict(worker)
    found["running"] = list(found["running"])
    # nbflow's worker ids start with the host name (host:pid:...); Luigi's name it
    host, colon, _rest = worker.worker_id.partition(":")
    luigi_host = _LUIGI_HOST.search(worker.worker_id)
    found["host"] = luigi_host.group(1) if luigi_host else (host if colon else None)
    return found


class WorkerCancelHandler(JsonHandler):
    """POST /api/v1/workers/{worker_id}/cancel."""

    async def post(self, worker_id: str) -> None:
        """Ask a worker to cancel its run; answer the worker as it is then."""
        self.authorize(write=True)
        self.json_body(())
        host = self.context.host
        await self.blocking(host.call, None, [_events.RunCancelRequested(worker_id)])
        for worker in await self.blocking(host.workers):
            if worker.worker_id == worker_id:
                self.write_json(_worker_json(worker))
                return
        raise ApiError(
            404,
            f"no worker {worker_id!r} is connected. Fix: pick one from GET "
            "/api/v1/workers (a worker that stopped has nothing left to cancel)",
            "not_found",
        )


class WorkerCallHandler(JsonHandler):
    """POST /api/v1/workers/{worker_id}/calls: nbflow's own workers talk here."""

    async def post(self, worker_id: str) -> None:
        """Apply a worker's events; answer its actions and notifications."""
        self.authorize(write=True)
        if not worker_id:
            raise ApiError(400, "the worker id in the path is empty")
        body = self.json_body(("events", "running", "since", "wait", "logs"))
        call = _worker_call(body)
        deltas = logs.parse_deltas(body.get("logs"))
        keeper = self.context.extras.get("logs")
        if deltas and keeper is not None:  # before the events: a run's end comes after
            keeper.receive(worker_id, deltas)
        host = self.context.host
        if call[3] > 0:  # a long poll holds a pool thread while it waits
            reply: Reply = await self.blocking(
                lambda: host.call(
                    worker_id, call[0], running=call[1], since=call[2], wait=call[3]
                ),
                pool="calls",
            )
        else:  # answered by the host thread straight to the event loop
            reply = await self.hosted(
                lambda: host.submit(worker_id, call[0], running=call[1], since=call[2])
            )
        self.write_json(
            {
                "actions": [wire.to_json(a) for a in reply.actions],
                "notifications": [wire.to_json(n) for n in reply.notifications],
                "has_work": reply.has_work,
                "seq": reply.seq,
                "known_worker": reply.known_worker,
                "cancel": reply.cancel,
                "dropped": list(reply.dropped),
            }
        )


def _worker_call(
    body: dict[str, Any],
) -> tuple[list[SchedulerEvent], list[str] | None, int | None, float]:
    raw_events = body.get("events", [])
    if not isinstance(raw_events, list):
        raise ApiError(
            400, "'events' must be a list of scheduler events in nbflow's wire format"
        )
    decoded = []
    for index, raw in enumerate(raw_events):
        try:
            event = wire.from_json(raw)
        except wire.WireFormatError as error:
            raise ApiError(400, f"events[{index}]: {error}") from None
        if not isinstance(event, _EVENT_TYPES):
            raise ApiError(
                400,
                f"events[{index}] is a {type(event).__name__}, not a scheduler event. "
                "Fix: send events (TasksDiscovered, TaskSucceeded, ...), not "
                "notifications or actions",
            )
        decoded.append(event)
    running = body.get("running")
    if running is not None and (
        not isinstance(running, list) or not all(isinstance(t, str) for t in running)
    ):
        raise ApiError(400, "'running' must be a list of task ids, or null")
    since = body.get("since")
    if since is not None and (
        isinstance(since, bool) or not isinstance(since, int) or since < 0
    ):
        raise ApiError(
            400,
            f"'since' must be a notification seq (a whole number >= 0) or null, got {since!r}",
        )
    wait = body.get("wait", 0.0)
    if (
        isinstance(wait, bool)
        or not isinstance(wait, (int, float))
        or not 0 <= wait <= MAX_WAIT
    ):
        raise ApiError(
            400,
            f"'wait' must be a number of seconds from 0 to {MAX_WAIT:g}, got {wait!r}",
        )
    return decoded, running, since, float(wait)


# --- history -----------------------------------------------------------------------------


class RunsHandler(JsonHandler):
    """GET /api/v1/history/runs and /api/v1/history/runs/{run_id}: runs of tasks."""

    async def get(self, run_id: str | None = None) -> None:
        """List runs, or describe one."""
        self.authorize(write=False)
        history = _history(self)
        if run_id is not None:
            known = run_id.isdigit() and int(run_id) <= _LARGEST_ID
            run = await self.blocking(history.run, int(run_id)) if known else None
            if run is None:
                raise ApiError(
                    404,
                    f"no run {run_id!r} in the history. Fix: take a run's id from "
                    "GET /api/v1/history/runs",
                )
            self.write_json(run.to_json())
            return
        params = {
            name.removeprefix("param."): values[-1].decode(errors="replace")
            for name, values in self.request.query_arguments.items()
            if name.startswith("param.") and len(name) > len("param.")
        }
        filters = {
            "task_id": self.get_query_argument("task_id", None) or None,
            "family": self.get_query_argument("family", None) or None,
            "params": params,
            "search": self.get_query_argument("search", None) or None,
            "since": _number_arg(self, "since"),
            "until": _number_arg(self, "until"),
            "limit": _int_arg(self, "limit", 100, 1, MAX_LIMIT),
            "cursor": self.get_query_argument("cursor", None) or None,
        }
        runs, cursor = await self.blocking(lambda: history.runs(**filters))
        self.write_json(
            {"runs": [run.to_json() for run in runs], "next_cursor": cursor}
        )


class GraphRunsHandler(JsonHandler):
    """GET /api/v1/history/graphs: runs of graphs (what clients asked for), newest first."""

    async def get(self) -> None:
        """List graph runs."""
        self.authorize(write=False)
        history = _history(self)
        limit = _int_arg(self, "limit", 100, 1, MAX_LIMIT)
        cursor = self.get_query_argument("cursor", None) or None
        runs, following = await self.blocking(
            lambda: history.graph_runs(limit=limit, cursor=cursor)
        )
        self.write_json(
            {"runs": [run.to_json() for run in runs], "next_cursor": following}
        )


class FamilyStatsHandler(JsonHandler):
    """GET /api/v1/history/families: runs, failures and durations per family."""

    async def get(self) -> None:
        """Aggregate the runs started in [since, until) by family."""
        self.authorize(write=False)
        history = _history(self)
        since, until = _number_arg(self, "since"), _number_arg(self, "until")
        limit = _int_arg(self, "limit", 100, 1, MAX_LIMIT) or 100
        found = await self.blocking(
            lambda: history.families(since=since, until=until, limit=limit)
        )
        self.write_json({"families": [stats.to_json() for stats in found]})


def _history(handler: JsonHandler) -> Any:
    history = handler.context.history
    if history is None:
        raise ApiError(404, "this server keeps no history (it runs without a database)")
    return history


def routes(context: ServerContext) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the /api/v1 routes (task ids and worker ids arrive percent-decoded)."""
    kwargs = {"context": context}
    segment = "([^/]+)"
    return [
        (rf"{PREFIX}/scheduler", SchedulerHandler, kwargs),
        (rf"{PREFIX}/scheduler/(pause|resume)", SchedulerHandler, kwargs),
        (rf"{PREFIX}/tasks", TasksHandler, kwargs),
        (rf"{PREFIX}/tasks/{segment}", TaskHandler, kwargs),
        (rf"{PREFIX}/tasks/{segment}/graph", GraphHandler, kwargs),
        (
            rf"{PREFIX}/tasks/{segment}/(forgive|reenable|mark-done|retry)",
            TaskActionHandler,
            kwargs,
        ),
        (rf"{PREFIX}/prune", PruneHandler, kwargs),
        (rf"{PREFIX}/workers", WorkersHandler, kwargs),
        (rf"{PREFIX}/workers/{segment}/calls", WorkerCallHandler, kwargs),
        (rf"{PREFIX}/workers/{segment}/cancel", WorkerCancelHandler, kwargs),
        (rf"{PREFIX}/history/runs", RunsHandler, kwargs),
        (rf"{PREFIX}/history/runs/{segment}", RunsHandler, kwargs),
        (rf"{PREFIX}/history/graphs", GraphRunsHandler, kwargs),
        (rf"{PREFIX}/history/families", FamilyStatsHandler, kwargs),
    ]


__all__ = ["routes", "scheduler_state"]
