"""luigid's RPC protocol (``/api/<method>``) on nbflow's server: Luigi's workers unchanged.

Luigi's ``RemoteScheduler`` posts ``data=<JSON object of keyword arguments>`` (form
encoded) to ``/api/<method>``; luigid's visualiser sends the same as ``GET ?data=``.
Every answer is ``{"response": <value>}``. This module answers the methods Luigi 3.x
calls, translated to the server's :class:`~nbflow.server.host.SchedulerHost`:

- workers' calls (``add_task``, ``get_work``, ``ping``, ...) by
  :class:`~nbflow.server.luigi_calls.WorkerCalls`;
- administration (``forgive_failures``, ``mark_as_done``, ``re_enable_task``,
  ``pause``, ``unpause``, ``prune``, ...) as the scheduler's admin events;
- views (``graph``, ``task_list``, ``fetch_error``, ...) in luigid's JSON shapes, by
  :mod:`nbflow.server.luigi_views`.

Errors: an unknown method answers 404, a malformed ``data`` or a bad argument 400, a
missing or wrong token 401/403, each as ``{"error": {"message": ..., "kind": ...}}``;
a stopped scheduler 503. Luigi's client sends the token as the password of HTTP basic
auth, taken from ``http://user:TOKEN@host:port``; every method not in
:data:`READ_ONLY_METHODS` needs it, and the read-only ones when the server says so.

Imports: stdlib, tornado, nbflow.core, nbflow.server.{auth, host, luigi_arguments,
luigi_calls, luigi_views}.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from nbflow.core.events import (
    FailuresForgiven,
    ProgressReported,
    ResourcesDecreased,
    RetryPolicy,
    SchedulerPaused,
    SchedulerResumed,
    Status,
    StatusMessageSet,
    TaskMarkedDone,
    TaskReenabled,
    TasksPruned,
)
from nbflow.server.host import EventRejectedError, HostStoppedError
from nbflow.server.luigi_arguments import RpcArgumentError, amounts, number, text
from nbflow.server.luigi_calls import WorkerCalls
from nbflow.server.luigi_views import (
    pretty_id,
    resource_usage,
    select,
    serialize,
    traverse,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from nbflow.core.events import SchedulerEvent
    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.server.auth import AuthFailure
    from nbflow.server.host import SchedulerHost

logger = logging.getLogger("nbflow.server.luigi")

#: Methods that change nothing: free on loopback unless the server protects reads.
READ_ONLY_METHODS = frozenset(
    {
        "count_pending",
        "dep_graph",
        "fetch_error",
        "get_running_task_resources",
        "get_task_progress_percentage",
        "get_task_status_message",
        "graph",
        "has_task_history",
        "inverse_dep_graph",
        "is_pause_enabled",
        "is_paused",
        "resource_list",
        "task_list",
        "task_search",
        "worker_list",
    }
)
#: luigid methods nbflow's scheduler cannot honour, with the reason told to the caller.
UNSUPPORTED_METHODS = {
    "update_resources": "resource limits are fixed at start",
    "update_resource": "resource limits are fixed at start",
}
_UNSUPPORTED_FIX = "set them with the server's resources configuration and restart it"
_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)


class Authorizer(Protocol):
    """The server's token check (:meth:`nbflow.server.auth.TokenAuth.check`)."""

    def __call__(self, request: Any, *, write: bool) -> AuthFailure | None:
        """Return None when the request may go on, else why not."""


class UnknownMethodError(LookupError):
    """The path names no luigid method (404)."""


class LuigiRpc:
    """Answer luigid's methods against a SchedulerHost (one per server)."""

    def __init__(
        self,
        host: SchedulerHost,
        *,
        retry: RetryPolicy | None = None,
        remove_delay: float = 600.0,
        resources: Mapping[str, int] | None = None,
    ) -> None:
        self.host = host
        self.calls = WorkerCalls(host, retry=retry)
        self.remove_delay = remove_delay
        self.resources = dict(resources or getattr(host, "_resources", {}) or {})
        self.pool = ThreadPoolExecutor(32, "nbflow-luigi")
        self._responses: dict[str, Any] = {}
        self._methods: dict[str, Callable[..., Any]] = {
            **self._worker_methods(),
            **self._admin_methods(),
            **self._view_methods(),
        }

    def call(self, method: str, arguments: Mapping[str, Any]) -> Any:
        """Run one luigid method with its keyword arguments; return its response."""
        function = self._methods.get(method)
        if function is None:
            raise UnknownMethodError(method)
        if method in UNSUPPORTED_METHODS:
            raise RpcArgumentError(
                method,
                "method",
                method,
                f"a supported method ({UNSUPPORTED_METHODS[method]}; "
                f"{_UNSUPPORTED_FIX})",
            )
        try:
            return function(**arguments)
        except TypeError as error:  # missing or unexpected keyword arguments
            if "argument" not in str(error):
                raise
            raise RpcArgumentError(
                method, "data", sorted(arguments), str(error)
            ) from None

    @property
    def methods(self) -> frozenset[str]:
        """Every luigid method this layer answers (unsupported ones included)."""
        return frozenset(self._methods)

    # --- tables -----------------------------------------------------------------------

    def _worker_methods(self) -> dict[str, Callable[..., Any]]:
        calls = self.calls
        return {
            "add_task": calls.add_task,
            "add_worker": calls.add_worker,
            "get_work": calls.get_work,
            "ping": calls.ping,
            "add_task_batcher": calls.add_task_batcher,
            "count_pending": lambda worker, **_: calls.counts(
                text("count_pending", "worker", worker)
            ),
            "set_task_status_message": self._set_status_message,
            "set_task_progress_percentage": self._set_progress,
            "decrease_running_task_resources": self._decrease_resources,
            "report_task_statistics": _ignored,
            "update_metrics_task_started": _ignored,
            "announce_scheduling_failure": _ignored,
            "send_scheduler_message": self._send_message,
            "add_scheduler_message_response": self._add_response,
            "get_scheduler_message_response": self._get_response,
            "disable_worker": lambda worker, **_: calls.disable(
                text("disable_worker", "worker", worker)
            ),
            "set_worker_processes": self._set_worker_processes,
        }

    def _admin_methods(self) -> dict[str, Callable[..., Any]]:
        return {
            "forgive_failures": lambda task_id=None, **_: self._admin(
                "forgive_failures", task_id, {Status.FAILED}, FailuresForgiven
            ),
            "mark_as_done": lambda task_id=None, **_: self._admin(
                "mark_as_done",
                task_id,
                {
                    Status.FAILED,
                    Status.DISABLED,
                    Status.PENDING,
                    Status.UPSTREAM_FAILED,
                    Status.UPSTREAM_DISABLED,
                },
                TaskMarkedDone,
            ),
            "re_enable_task": self._re_enable,
            "pause": lambda **_: self._apply(SchedulerPaused()),
            "unpause": lambda **_: self._apply(SchedulerResumed()),
            "prune": lambda **_: self._apply(
                TasksPruned(before=self.host.clock() - self.remove_delay)
            ),
            "is_pause_enabled": lambda **_: {"enabled": True},
            "is_paused": lambda **_: {"paused": self.host.read(lambda s: s.paused)},
            "has_task_history": lambda **_: False,
            "update_resources": _ignored,
            "update_resource": _ignored,
        }

    def _view_methods(self) -> dict[str, Callable[..., Any]]:
        return {
            "graph": self._graph,
            "dep_graph": self._dep_graph,
            "inverse_dep_graph": self._inverse_dep_graph,
            "task_list": self._task_list,
            "task_search": self._task_search,
            "worker_list": self._worker_list,
            "resource_list": self._resource_list,
            "fetch_error": self._fetch_error,
            "get_task_status_message": lambda task_id, **_: {
                "taskId": task_id,
                "statusMessage": self._info_field(task_id, "status_message", ""),
            },
            "get_task_progress_percentage": lambda task_id, **_: {
                "taskId": task_id,
                "progressPercentage": self._info_field(task_id, "progress", None),
            },
            "get_running_task_resources": self._running_resources,
        }

    # --- small helpers ------------------------------------------------------------------

    def _info(self, task_id: object) -> TaskInfo | None:
        name = text("task", "task_id", task_id)
        return self.host.read(lambda s: s.task_info(name) if name in s else None)

    def _info_field(self, task_id: object, field: str, default: Any) -> Any:
        info = self._info(self.calls._leader(text("task", "task_id", task_id)))  # noqa: SLF001
        return default if info is None else getattr(info, field)

    def _apply(self, *events: SchedulerEvent) -> None:
        self.host.call(None, events)

    def _report(self, task_id: object, make: Callable[[str], SchedulerEvent]) -> None:
        """Apply a running task's report (status message, progress, resources)."""
        leader = self.calls._leader(text("task", "task_id", task_id))  # noqa: SLF001
        info = self._info(leader)
        if info is not None and info.status in _RUNNING:
            self._apply(make(leader))

    # --- workers' reports ---------------------------------------------------------------

    def _set_status_message(
        self, task_id: object, status_message: object, **_: Any
    ) -> None:
        message = text("set_task_status_message", "status_message", status_message)
        self._report(task_id, lambda t: StatusMessageSet(t, message))

    def _set_progress(
        self, task_id: object, progress_percentage: object, **_: Any
    ) -> None:
        value = number(
            "set_task_progress_percentage", "progress_percentage", progress_percentage
        )
        self._report(task_id, lambda t: ProgressReported(t, value))

    def _decrease_resources(
        self, task_id: object, decrease_resources: object, **_: Any
    ) -> None:
        given = amounts("decrease_running_task_resources", "decrease_resources",
                        decrease_resources)  # fmt: skip
        leader = self.calls._leader(text("task", "task_id", task_id))  # noqa: SLF001
        task = self.calls.tasks.get(leader)
        if task is not None:
            for name, amount in given.items():
                if amount > 0 and name in task.resources:
                    task.resources[name] = max(0, task.resources[name] - amount)
        self._report(
            leader, lambda t: ResourcesDecreased(t, tuple(sorted(given.items())))
        )

    def _running_resources(self, task_id: object, **_: Any) -> dict[str, Any]:
        info = self._info(task_id)
        task = self.calls.tasks.get(str(task_id))
        running = info is not None and info.status in _RUNNING and task is not None
        return {
            "taskId": task_id,
            "resources": dict(task.resources) if running and task else None,
        }

    def _set_worker_processes(self, worker: object, n: object, **_: Any) -> None:
        count = int(number("set_worker_processes", "n", n))
        self.calls.queue_message(text("set_worker_processes", "worker", worker),
                                 "set_worker_processes", n=count)  # fmt: skip

    def _send_message(
        self, worker: object, task: object, content: object, **_: Any
    ) -> dict[str, Any]:
        message_id = str(uuid.uuid4())
        self.calls.queue_message(
            text("send_scheduler_message", "worker", worker),
            "dispatch_scheduler_message",
            task_id=text("send_scheduler_message", "task", task),
            message_id=message_id,
            content=text("send_scheduler_message", "content", content),
        )
        return {"message_id": message_id}

    def _add_response(
        self,
        task_id: object,  # noqa: ARG002  (luigid's signature)
        message_id: object,
        response: object,
        **_: Any,
    ) -> None:
        key = text("add_scheduler_message_response", "message_id", message_id)
        self._responses[key] = response

    def _get_response(
        self,
        task_id: object,  # noqa: ARG002  (luigid's signature)
        message_id: object,
        **_: Any,
    ) -> dict[str, Any]:
        key = text("get_scheduler_message_response", "message_id", message_id)
        return {"response": self._responses.pop(key, None)}

    # --- administration -----------------------------------------------------------------

    def _admin(
        self,
        method: str,
        task_id: object,
        allowed: set[Status],
        event: Callable[[str], SchedulerEvent],
    ) -> dict[str, Any]:
        name = text(method, "task_id", task_id)
        info = self._info(name)
        if info is None:
            return {"task_id": name, "status": None}
        if info.status in allowed:
            self._apply(event(name))
            info = self._info(name)
        status = None if info is None else serialize(info, None)["status"]
        return {"task_id": name, "status": status}

    def _re_enable(self, task_id: object, **_: Any) -> dict[str, Any]:
        name = text("re_enable_task", "task_id", task_id)
        info = self._info(name)
        if info is None or info.status is not Status.DISABLED:
            return {}
        self._apply(TaskReenabled(name))
        info = self._info(name)
        if info is None:
            return {}
        return serialize(info, self.calls.tasks.get(name), deps=info.deps)

    # --- views --------------------------------------------------------------------------

    def _all(self) -> list[TaskInfo]:
        return self.host.read(lambda s: s.tasks())

    def _graph(self, **_: Any) -> dict[str, Any]:
        tasks = self.calls.tasks
        return {
            info.task_id: serialize(info, tasks.get(info.task_id), deps=info.deps)
            for info in self._all()
        }

    def _dep_graph(
        self, task_id: object, include_done: object = True, **_: Any
    ) -> dict[str, Any]:
        root = text("dep_graph", "task_id", task_id)
        return self._traverse(
            root, include_done=include_done is not False, inverse=False
        )

    def _inverse_dep_graph(
        self, task_id: object, include_done: object = True, **_: Any
    ) -> dict[str, Any]:
        root = text("inverse_dep_graph", "task_id", task_id)
        return self._traverse(
            root, include_done=include_done is not False, inverse=True
        )

    def _traverse(
        self, root: str, *, include_done: bool, inverse: bool
    ) -> dict[str, Any]:
        infos = {info.task_id: info for info in self._all()}
        if root not in infos:
            return {}
        edges = None
        if inverse:
            dependents: dict[str, list[str]] = {}
            for info in infos.values():
                for dep in info.deps:
                    dependents.setdefault(dep, []).append(info.task_id)
            edges = lambda info: dependents.get(info.task_id, ())  # noqa: E731
        return traverse(root, infos.get, self.calls.tasks, edges=edges,
                        include_done=include_done)  # fmt: skip

    def _task_list(
        self,
        status: object = "",
        upstream_status: object = "",
        limit: object = True,
        search: object = None,
        max_shown_tasks: object = None,
        **_: Any,
    ) -> dict[str, Any]:
        wanted = text("task_list", "status", status, optional=True)
        upstream = text("task_list", "upstream_status", upstream_status, optional=True)
        terms = text("task_list", "search", search, optional=True)
        most = 100_000
        if max_shown_tasks is not None:
            most = int(number("task_list", "max_shown_tasks", max_shown_tasks))
        chosen = select(self._all(), status=wanted, upstream=upstream, search=terms)
        if limit is not False and len(chosen) > most:
            return {"num_tasks": -1 if upstream else len(chosen)}
        tasks = self.calls.tasks
        return {
            info.task_id: serialize(info, tasks.get(info.task_id)) for info in chosen
        }

    def _task_search(self, task_str: object, **_: Any) -> dict[str, Any]:
        needle = text("task_search", "task_str", task_str)
        found: dict[str, dict[str, Any]] = {}
        tasks = self.calls.tasks
        for info in self._all():
            if needle in info.task_id:
                entry = serialize(info, tasks.get(info.task_id))
                found.setdefault(entry["status"], {})[info.task_id] = entry
        return found

    def _worker_list(
        self, include_running: object = True, **_: Any
    ) -> list[dict[str, Any]]:
        infos = self._all()
        tasks = self.calls.tasks
        rows = []
        for worker_id, record in list(self.calls.workers.items()):
            first = str(record.info.get("first_task", ""))
            row: dict[str, Any] = {
                "name": worker_id,
                "last_active": None,
                "started": record.started,
                "state": "disabled" if record.disabled else "active",
                "first_task_display_name": _display_name(first, infos),
                "num_unread_rpc_messages": len(record.messages),
                **record.info,
            }
            if include_running is not False:
                running = {
                    info.task_id: serialize(info, tasks.get(info.task_id))
                    for info in infos
                    if info.status in _RUNNING and info.worker_id == worker_id
                }
                pending = [
                    info for info in infos
                    if info.status is Status.PENDING and worker_id in info.owners
                ]  # fmt: skip
                row.update(
                    num_running=len(running),
                    num_pending=len(pending),
                    num_uniques=sum(len(info.owners) == 1 for info in pending),
                    running=running,
                )
            rows.append(row)
        rows.sort(key=lambda row: row["started"], reverse=True)
        return rows

    def _resource_list(self, **_: Any) -> list[dict[str, Any]]:
        running = [info for info in self._all() if info.status in _RUNNING]
        return resource_usage(self.resources, running, self.calls.tasks)

    def _fetch_error(self, task_id: object, **_: Any) -> dict[str, Any]:
        name = text("fetch_error", "task_id", task_id)
        info = self._info(name)
        if info is None:
            return {"taskId": name, "error": ""}
        task = self.calls.tasks.get(name)
        return {
            "taskId": name,
            "error": json.dumps(info.traceback or info.error),
            "displayName": pretty_id(info.family, info.params),
            "taskParams": dict(task.params) if task else dict(info.params),
            "taskModule": task.module if task else None,
            "taskFamily": info.family,
        }


def _display_name(task_id: str, infos: list[TaskInfo]) -> str:
    for info in infos:
        if info.task_id == task_id:
            return pretty_id(info.family, info.params)
    return task_id


def _ignored(**_: Any) -> None:
    """Do nothing: a luigid hook for e-mail batching or metrics."""


# --- HTTP --------------------------------------------------------------------------------


class LuigiRpcHandler(RequestHandler):
    """``GET|POST /api/<method>``: one luigid call."""

    rpc: LuigiRpc
    auth: Authorizer

    def initialize(self, rpc: LuigiRpc, auth: Authorizer) -> None:
        """Receive the translation layer and the token check (route arguments)."""
        self.rpc, self.auth = rpc, auth

    def set_default_headers(self) -> None:
        """Answer JSON, never cached, never sniffed."""
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    async def get(self, method: str) -> None:
        """Answer a call whose ``data`` is in the query (luigid's visualiser)."""
        await self._answer(method)

    async def post(self, method: str) -> None:
        """Answer a call whose ``data`` is form-encoded (Luigi's RemoteScheduler)."""
        await self._answer(method)

    async def _answer(self, method: str) -> None:
        if method not in self.rpc.methods:
            known = ", ".join(sorted(self.rpc.methods))
            self._error(
                404, f"no luigid method {method!r} here. Expected one of: {known}"
            )
            return
        failure = self.auth(self.request, write=method not in READ_ONLY_METHODS)
        if failure is not None:
            if failure.status == 401:  # noqa: PLR2004
                self.set_header("WWW-Authenticate", 'Basic realm="nbflow"')
            self._error(failure.status, failure.message)
            return
        arguments = self._arguments(method)
        if arguments is None:
            return
        await self._run(method, arguments)

    def _arguments(self, method: str) -> dict[str, Any] | None:
        raw = self.get_argument("data", default="{}")
        try:
            arguments = json.loads(raw)
        except ValueError as error:
            self._error(400, f"{method}: 'data' is not JSON ({error}). Fix: send "
                             "data=<a JSON object of the method's arguments>")  # fmt: skip
            return None
        if not isinstance(arguments, dict):
            self._error(400, f"{method}: 'data' must be a JSON object of the method's "
                             f"arguments, got {type(arguments).__name__}")  # fmt: skip
            return None
        return arguments

    async def _run(self, method: str, arguments: dict[str, Any]) -> None:
        began = time.perf_counter()
        try:
            result = await IOLoop.current().run_in_executor(
                self.rpc.pool, self.rpc.call, method, arguments
            )
        except (RpcArgumentError, EventRejectedError) as error:
            self._error(400, str(error))
            return
        except HostStoppedError as error:
            self._error(503, str(error), kind="unavailable")
            return
        logger.debug("luigid %s took %.4f s", method, time.perf_counter() - began)
        self.finish(json.dumps({"response": result}, default=str))

    def _error(self, status: int, message: str, kind: str | None = None) -> None:
        kinds = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
        }
        self.set_status(status)
        error = {"message": message, "kind": kind or kinds.get(status, "error")}
        self.finish(json.dumps({"error": error}))


def routes(host: SchedulerHost, auth: Authorizer, **options: Any) -> list[Any]:
    """Return the tornado routes of luigid's protocol (``/api/<method>``).

    ``auth`` is the server's token check (``TokenAuth(...).check``); ``options`` go to
    :class:`LuigiRpc` (``retry``, ``remove_delay``, ``resources``).
    """
    rpc = LuigiRpc(host, **options)
    return [(r"/api/([a-z_]+)", LuigiRpcHandler, {"rpc": rpc, "auth": auth})]


__all__ = [
    "READ_ONLY_METHODS",
    "UNSUPPORTED_METHODS",
    "Authorizer",
    "LuigiRpc",
    "LuigiRpcHandler",
    "UnknownMethodError",
    "routes",
]
