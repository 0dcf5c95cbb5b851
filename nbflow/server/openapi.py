"""The server's HTTP API described as an OpenAPI 3.1 document (served at /api/openapi.json).

The document is the API's contract for nbflow's own client, the web visualiser, the
JupyterLab extension and anyone scripting against the server; the tests validate it,
list its state-changing operations to check that each refuses a missing or wrong token,
and run schemathesis against it. Handlers live in :mod:`nbflow.server.api`; a route
added there must be described here.

Scheduler values (events, actions, notifications, task snapshots) travel in
:mod:`nbflow.core.wire`'s format: a JSON object tagged ``"type": "<ClassName>"``.

Imports: stdlib, nbflow.core.events, nbflow.core.scheduler_node,
nbflow.server.schedule_openapi.
"""

from __future__ import annotations

import typing
from typing import Any

from nbflow.core.events import Status
from nbflow.core.scheduler_node import TaskInfo
from nbflow.server import schedule_openapi

JSON = dict[str, Any]

#: The API's path prefix.
PREFIX = "/api/v1"
#: Longest ``wait`` of a worker's long poll, in seconds.
MAX_WAIT = 30.0
#: Largest page of tasks or runs.
MAX_LIMIT = 1000
#: Largest graph answered, in tasks.
MAX_GRAPH = 100_000
#: Sort keys of the task list (``-`` in front: descending).
TASK_SORTS = ("discovered", "id", "family", "status", "priority", "worker", "changed")

#: The visualiser's session cookie (plus the X-XSRF-Token header for a state change).
_COOKIE: JSON = {"sessionCookie": []}
_WRITE_SECURITY: list[JSON] = [{"bearerAuth": []}, {"basicAuth": []}, _COOKIE]
#: Reads need the token only when the server listens beyond loopback.
_READ_SECURITY: list[JSON] = [{}, {"bearerAuth": []}, {"basicAuth": []}, _COOKIE]


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: JSON) -> JSON:
    return {"type": "array", "items": items}


def _object(properties: JSON, *, required: tuple[str, ...] | None = None) -> JSON:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


_STRING: JSON = {"type": "string"}
_INTEGER: JSON = {"type": "integer"}
_NUMBER: JSON = {"type": "number"}
_BOOLEAN: JSON = {"type": "boolean"}
_NULLABLE_STRING: JSON = {"type": ["string", "null"]}
_COUNTS: JSON = {
    "type": "object",
    "description": "Number of tasks in each status (statuses with none are left out).",
    "additionalProperties": {"type": "integer", "minimum": 0},
}


#: Non-finite floats travel as these strings (nbflow.core.wire).
_FLOAT: JSON = {"anyOf": [_NUMBER, {"enum": ["inf", "-inf", "nan"]}]}


def _hint_schema(hint: Any) -> JSON:  # noqa: PLR0911  (one answer per kind of hint)
    """Return the JSON schema of a wire-encoded value of type ``hint``."""
    args = typing.get_args(hint)
    if hint is Status:
        return {"enum": [status.value for status in Status]}
    if hint in (str, bool, int):
        return {str: _STRING, bool: _BOOLEAN, int: _INTEGER}[hint]
    if hint is float:
        return _FLOAT
    if type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return {"anyOf": [_hint_schema(inner), {"type": "null"}]}
    if typing.get_origin(hint) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            return _array(_hint_schema(args[0]))
        return {
            "type": "array",
            "prefixItems": [_hint_schema(arg) for arg in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    return {}


def _record_schema(cls: Any) -> JSON:
    """Return the schema of a NamedTuple in nbflow.core.wire's format.

    Fields equal to their default are left out on the wire, so only fields without a
    default are required.
    """
    hints = typing.get_type_hints(cls)
    properties: JSON = {"type": {"const": cls.__name__}}
    properties.update({name: _hint_schema(hints[name]) for name in cls._fields})
    required = ["type"] + [n for n in cls._fields if n not in cls._field_defaults]
    return _object(properties, required=tuple(required))


def _schemas() -> JSON:
    wire_object = {
        "type": "object",
        "description": "A scheduler value in nbflow.core.wire's format.",
        "properties": {"type": _STRING},
        "required": ["type"],
    }
    task_info = _record_schema(TaskInfo)
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "message": _STRING,
                        "kind": {
                            "type": "string",
                            "description": "bad_request, unauthorized, forbidden, "
                            "not_found, method_not_allowed, conflict, too_large, "
                            "unavailable",
                        },
                    }
                )
            }
        ),
        "WireObject": wire_object,
        "TaskInfo": task_info,
        "WorkerCall": _object(
            {
                "events": _array(_ref("WireObject")),
                "running": {"type": ["array", "null"], "items": _STRING},
                "since": {"type": ["integer", "null"], "minimum": 0},
                "wait": {"type": "number", "minimum": 0, "maximum": MAX_WAIT},
                "logs": {
                    "type": ["array", "null"],
                    "items": _object(
                        {
                            "task_id": _STRING,
                            "offset": {"type": "integer", "minimum": 0},
                            "text": _STRING,
                        }
                    ),
                },
            },
            required=(),
        ),
        "TaskLog": _object(
            {
                "task_id": _STRING,
                "run_id": {"type": ["integer", "null"]},
                "text": _STRING,
                "dropped": _INTEGER,
                "truncated": _BOOLEAN,
                "offset": _INTEGER,
                "running": _BOOLEAN,
            }
        ),
        "WorkerReply": _object(
            {
                "actions": _array(_ref("WireObject")),
                "notifications": _array(_ref("WireObject")),
                "has_work": _BOOLEAN,
                "seq": _INTEGER,
                "known_worker": _BOOLEAN,
                "cancel": _BOOLEAN,
                "dropped": _array(_STRING),
            }
        ),
        "SchedulerState": _object(
            {
                "paused": _BOOLEAN,
                "seq": _INTEGER,
                "oldest_seq": _INTEGER,
                "tasks": _INTEGER,
                "counts": _COUNTS,
                "families": _COUNTS,
                "resources": {
                    "type": "object",
                    "description": "Resources configured or in use, by name.",
                    "additionalProperties": _object(
                        {"used": _INTEGER, "limit": _INTEGER}
                    ),
                },
                "workers": _INTEGER,
                "version": _STRING,
            }
        ),
        "TaskPage": _object(
            {
                "tasks": _array(_ref("TaskInfo")),
                "total": _INTEGER,
                "counts": _COUNTS,
                "next_cursor": {"type": ["string", "null"]},
                "seq": _INTEGER,
            }
        ),
        "TaskDetail": _object(
            {
                "task": _ref("TaskInfo"),
                "story": _array(_STRING),
                "dependents": _array(_STRING),
                "seq": _INTEGER,
            }
        ),
        "Graph": _object(
            {
                "root": _STRING,
                "direction": {"enum": ["upstream", "downstream", "both"]},
                "nodes": _array(_ref("TaskInfo")),
                "edges": {
                    "type": "array",
                    "description": "[task, requirement] pairs: task requires requirement.",
                    "items": _array(_STRING) | {"minItems": 2, "maxItems": 2},
                },
                "truncated": _BOOLEAN,
                "seq": _INTEGER,
            }
        ),
        "Drawing": _object(
            {
                "root": _STRING,
                "direction": {"enum": ["upstream", "downstream", "both"]},
                "svg": {
                    "type": "string",
                    "description": "One <g class='node STATE'> per node, its <title> "
                    "the node id; groups are family:<Family>.",
                },
                "engine": {"enum": ["dot", "fallback"]},
                "node_of": {
                    "type": "object",
                    "description": "task id -> the node that shows it.",
                    "additionalProperties": _STRING,
                },
                "states": {
                    "type": "object",
                    "description": "node id -> its state now.",
                    "additionalProperties": _STRING,
                },
                "shares": {
                    "type": "object",
                    "description": "group node id -> tasks by state.",
                    "additionalProperties": _COUNTS,
                },
                "hidden": _INTEGER,
                "truncated": _BOOLEAN,
                "seq": _INTEGER,
            }
        ),
        "TaskActionResult": _object({"task": _ref("TaskInfo"), "seq": _INTEGER}),
        "PruneRequest": _object({"before": _NUMBER}),
        "PruneResult": _object({"pruned": _INTEGER, "seq": _INTEGER}),
        "Worker": _object(
            {
                "worker_id": _STRING,
                "slots": _INTEGER,
                "assistant": _BOOLEAN,
                "last_seen": _NUMBER,
                "running": _array(_STRING),
                "host": _NULLABLE_STRING,
                "cancelling": _BOOLEAN,
            }
        ),
        "WorkerList": _object({"workers": _array(_ref("Worker"))}),
        "Run": _object(
            {
                "id": _INTEGER,
                "task_id": _STRING,
                "family": _STRING,
                "params": {"type": "object", "additionalProperties": _STRING},
                "worker_id": _NULLABLE_STRING,
                "host": _NULLABLE_STRING,
                "started": _NUMBER,
                "ended": {"type": ["number", "null"]},
                "status": _STRING,
                "error": _STRING,
                "traceback": _STRING,
                "message": _STRING,
                "tracking_url": _STRING,
                "progress": {"type": ["number", "null"]},
                "states": _array(_object({"status": _STRING, "at": _NUMBER})),
            }
        ),
        "RunPage": _object(
            {"runs": _array(_ref("Run")), "next_cursor": _NULLABLE_STRING}
        ),
        "GraphRun": _object(
            {
                "id": _INTEGER,
                "run_id": _STRING,
                "roots": _array(_STRING),
                "total": _INTEGER,
                "started": {"type": ["number", "null"]},
                "ended": {"type": ["number", "null"]},
                "state": _NULLABLE_STRING,
                "counts": _COUNTS,
            }
        ),
        "GraphRunPage": _object(
            {"runs": _array(_ref("GraphRun")), "next_cursor": _NULLABLE_STRING}
        ),
        "FamilyStats": _object(
            {
                "family": _STRING,
                "runs": _INTEGER,
                "failed": _INTEGER,
                "done": _INTEGER,
                "mean_duration": {"type": ["number", "null"]},
                "max_duration": {"type": ["number", "null"]},
                "last_started": _NUMBER,
            }
        ),
        "FamilyStatsList": _object({"families": _array(_ref("FamilyStats"))}),
        "Health": _object({"status": _STRING}),
        "Session": _object(
            {
                "logged_in": _BOOLEAN,
                "write_allowed": _BOOLEAN,
                "protect_reads": _BOOLEAN,
                "login_url": _STRING,
            }
        ),
        "Ready": _object({"ready": _BOOLEAN, "checks": {"type": "object"}}),
    }


def _query(name: str, schema: JSON, description: str) -> JSON:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_TASK_ID = {
    "name": "task_id",
    "in": "path",
    "required": True,
    "schema": _STRING,
    "description": "The task id, percent-encoded (ids may hold any character).",
}
_LIMIT = _query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    "Page size.",
)
_CURSOR = _query("cursor", _STRING, "next_cursor of the previous page.")


def _json(schema_name: str, description: str = "OK") -> JSON:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }


def _errors(*codes: int) -> JSON:
    meaning = {
        400: "Bad input: the message says what and how to fix it.",
        401: "No token presented.",
        403: "Wrong token.",
        404: "No such task, worker or run.",
        409: "The scheduler refused the change in the task's current state.",
        413: "Request body too large.",
        503: "The scheduler is not running.",
    }
    return {str(code): _json("Error", meaning[code]) for code in codes}


def _operation(  # noqa: PLR0913  (keyword-only parts of one operation)
    operation_id: str,
    summary: str,
    response: str,
    *,
    write: bool = False,
    parameters: tuple[JSON, ...] = (),
    body: str | None = None,
    errors: tuple[int, ...] = (),
    tag: str = "scheduler",
) -> JSON:
    codes = {400, 401, 403, 503, *errors}
    if body is not None:
        codes.add(413)
    operation: JSON = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": _WRITE_SECURITY if write else _READ_SECURITY,
        "responses": {"200": _json(response), **_errors(*sorted(codes))},
    }
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {
            "required": body != "WorkerCall",  # an empty call is a heartbeat
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def _task_paths() -> JSON:
    listing = (
        _query("status", _STRING, "Comma-separated statuses to keep."),
        _query("family", _STRING, "Keep tasks of this family."),
        _query("worker", _STRING, "Keep tasks running on this worker."),
        _query("search", _STRING, "Substring of the task id or a parameter value."),
        _query(
            "sort",
            {"enum": [*TASK_SORTS, *(f"-{key}" for key in TASK_SORTS)]},
            "Order (a leading '-' reverses it); default: discovery order.",
        ),
        _LIMIT,
        _CURSOR,
    )
    actions = {
        "forgive": "Forgive a FAILED task's failures: it becomes PENDING.",
        "reenable": "Re-enable a DISABLED (or FAILED) task: it becomes PENDING.",
        "mark-done": "Mark a task that is not running DONE.",
        "retry": "Run a FAILED or DISABLED task again (forgive or re-enable).",
    }
    paths: JSON = {
        f"{PREFIX}/tasks": {
            "get": _operation(
                "listTasks",
                "Tasks, filtered, sorted and paged, with counts by status "
                "(counts ignore the status filter).",
                "TaskPage",
                parameters=listing,
            )
        },
        f"{PREFIX}/tasks/{{task_id}}": {
            "get": _operation(
                "getTask",
                "One task, its recent story and the tasks that require it.",
                "TaskDetail",
                parameters=(_TASK_ID,),
                errors=(404,),
            )
        },
        f"{PREFIX}/tasks/{{task_id}}/log": {
            "get": _operation(
                "getTaskLog",
                "What the task's current or last run printed and logged (the last "
                "[worker] log_max_bytes; 'dropped' characters before 'text', "
                "'offset' in all).",
                "TaskLog",
                parameters=(_TASK_ID,),
                errors=(404,),
            )
        },
        f"{PREFIX}/tasks/{{task_id}}/graph": {
            "get": _operation(
                "getTaskGraph",
                "The graph around a task: its requirements, dependents, or both.",
                "Graph",
                parameters=(
                    _TASK_ID,
                    _query(
                        "direction",
                        {"enum": ["upstream", "downstream", "both"]},
                        "upstream: what it requires (default); downstream: what "
                        "requires it.",
                    ),
                    _query("depth", {"type": "integer", "minimum": 0}, "Levels."),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_GRAPH},
                        "Most tasks returned (default 10000).",
                    ),
                ),
                errors=(404,),
            )
        },
        f"{PREFIX}/tasks/{{task_id}}/drawing": {
            "get": _operation(
                "getTaskDrawing",
                "The graph around a task laid out as SVG, with the node of each task "
                "and the states now (the visualiser's graph page).",
                "Drawing",
                parameters=(
                    _TASK_ID,
                    _query(
                        "direction",
                        {"enum": ["upstream", "downstream", "both"]},
                        "upstream: what it requires (default); downstream: what "
                        "requires it.",
                    ),
                    _query(
                        "hide_done", {"enum": ["0", "1"]}, "1: leave done tasks out."
                    ),
                    _query(
                        "expand",
                        _STRING,
                        "Families (comma-separated) drawn task by task while the "
                        "others are grouped.",
                    ),
                    _query(
                        "group_above",
                        {"type": "integer", "minimum": 0, "maximum": MAX_GRAPH},
                        "Above this many tasks, draw one node per family (default 300).",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_GRAPH},
                        "Most tasks drawn (default 20000).",
                    ),
                ),
                errors=(404,),
            )
        },
    }
    for verb, summary in actions.items():
        name = "".join(part.title() for part in verb.split("-"))
        paths[f"{PREFIX}/tasks/{{task_id}}/{verb}"] = {
            "post": _operation(
                f"{name[0].lower()}{name[1:]}Task",
                summary,
                "TaskActionResult",
                write=True,
                parameters=(_TASK_ID,),
                errors=(404, 409),
            )
        }
    return paths


def _other_paths() -> JSON:
    worker_id = {
        "name": "worker_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }
    runs = (
        _query("task_id", _STRING, "Runs of this task."),
        _query("family", _STRING, "Runs of tasks of this family."),
        _query("search", _STRING, "Runs whose task id contains this."),
        _query("since", _NUMBER, "Runs started at or after (seconds since the epoch)."),
        _query("until", _NUMBER, "Runs started before (seconds since the epoch)."),
        _LIMIT,
        _CURSOR,
    )
    return {
        f"{PREFIX}/workers/{{worker_id}}/calls": {
            "post": _operation(
                "callScheduler",
                "A worker's call: apply its events, heartbeat, long-poll for work.",
                "WorkerReply",
                write=True,
                parameters=(worker_id,),
                body="WorkerCall",
                errors=(409,),
                tag="workers",
            )
        },
        f"{PREFIX}/workers": {
            "get": _operation(
                "listWorkers",
                "The workers and what they run.",
                "WorkerList",
                tag="workers",
            )
        },
        f"{PREFIX}/workers/{{worker_id}}/cancel": {
            "post": _operation(
                "cancelWorkerRun",
                "Cancel a worker's run: it is given no more tasks and stops as on "
                "Ctrl-C when it next calls (nbflow's workers; Luigi's only stop getting "
                "work).",
                "Worker",
                write=True,
                parameters=(worker_id,),
                errors=(404,),
                tag="workers",
            )
        },
        f"{PREFIX}/scheduler": {
            "get": _operation(
                "getScheduler", "The scheduler's state at a glance.", "SchedulerState"
            )
        },
        f"{PREFIX}/scheduler/pause": {
            "post": _operation(
                "pauseScheduler",
                "Dispatch nothing until resumed.",
                "SchedulerState",
                write=True,
            )
        },
        f"{PREFIX}/scheduler/resume": {
            "post": _operation(
                "resumeScheduler", "Dispatch again.", "SchedulerState", write=True
            )
        },
        f"{PREFIX}/prune": {
            "post": _operation(
                "pruneTasks",
                "Forget finished tasks last changed before a time that nothing "
                "pending needs.",
                "PruneResult",
                write=True,
                body="PruneRequest",
            )
        },
        f"{PREFIX}/history/runs": {
            "get": _operation(
                "listRuns",
                "Runs of tasks, newest first. Filter by a parameter with "
                "param.NAME=VALUE (repeatable).",
                "RunPage",
                parameters=runs,
                tag="history",
            )
        },
        f"{PREFIX}/history/graphs": {
            "get": _operation(
                "listGraphRuns",
                "Runs of graphs (what a client asked to run), newest first, with "
                "their counts by status.",
                "GraphRunPage",
                parameters=(_LIMIT, _CURSOR),
                tag="history",
            )
        },
        f"{PREFIX}/history/families": {
            "get": _operation(
                "listFamilyStats",
                "Runs, failures and durations per family, most runs first.",
                "FamilyStatsList",
                parameters=(
                    _query("since", _NUMBER, "Runs started at or after this time."),
                    _query("until", _NUMBER, "Runs started before this time."),
                    _LIMIT,
                ),
                tag="history",
            )
        },
        f"{PREFIX}/history/runs/{{run_id}}/log": {
            "get": _operation(
                "getRunLog",
                "What one run printed and logged (the last [worker] log_max_bytes).",
                "TaskLog",
                parameters=(
                    {
                        "name": "run_id",
                        "in": "path",
                        "required": True,
                        "schema": _INTEGER,
                    },
                ),
                errors=(404,),
                tag="history",
            )
        },
        f"{PREFIX}/history/runs/{{run_id}}": {
            "get": _operation(
                "getRun",
                "One run with its state changes.",
                "Run",
                parameters=(
                    {
                        "name": "run_id",
                        "in": "path",
                        "required": True,
                        "schema": _INTEGER,
                    },
                ),
                errors=(404,),
                tag="history",
            )
        },
    }


def _service_paths() -> JSON:
    stream = _operation(
        "streamEvents",
        "The scheduler's notifications as Server-Sent Events ('id:' is the seq). "
        "Resume with ?since=SEQ or Last-Event-ID; a 'reset' event means the seq "
        "asked for is gone: reload the state, then follow on.",
        "Health",
        parameters=(
            _query("since", {"type": "integer", "minimum": 0}, "Last seq seen."),
            _query("token", _STRING, "The token, for browsers' EventSource."),
            _query(
                "logs",
                {"enum": ["0", "1"]},
                "0: no 'log' events (task log deltas: {task_id, run_id, started, "
                "offset, text}, no id:).",
            ),
            _query("log_task", _STRING, "Only this task's 'log' events (repeatable)."),
        ),
        tag="stream",
    )
    stream["security"] = [*_READ_SECURITY, {"tokenQuery": []}]
    stream["responses"]["200"] = {
        "description": "An endless text/event-stream.",
        "content": {"text/event-stream": {}},
    }
    metrics = {
        "operationId": "getMetrics",
        "summary": "Prometheus metrics.",
        "tags": ["service"],
        "security": _READ_SECURITY,
        "responses": {
            "200": {
                "description": "Prometheus' text format.",
                "content": {"text/plain": {"schema": _STRING}},
            },
            **_errors(401, 403),
        },
    }

    def probe(operation_id: str, summary: str, schema: str) -> JSON:
        return {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["service"],
            "security": [{}],
            "responses": {"200": _json(schema), "503": _json(schema, "Not ready.")},
        }

    return {
        f"{PREFIX}/events": {"get": stream},
        f"{PREFIX}/session": {
            "get": _operation(
                "getSession",
                "Whether this browser is logged in to the visualiser and may act.",
                "Session",
                tag="service",
            )
        },
        "/metrics": {"get": metrics},
        "/healthz": {"get": probe("getHealth", "The process is alive.", "Health")},
        "/readyz": {
            "get": probe(
                "getReadiness",
                "The scheduler runs and its database answers.",
                "Ready",
            )
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "tags": ["service"],
                "security": [{}],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }


def document(version: str = "0") -> JSON:
    """Return the OpenAPI 3.1 document of the server's API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "nbflow server",
            "version": version,
            "description": "The central nbflow scheduler. Errors are "
            '{"error": {"message", "kind"}} with a 4xx status. State changes need the '
            "server's token; reads need it only when the server listens beyond "
            "loopback. luigid's own RPC (/api/<method>) is served too, for Luigi's "
            "workers.",
        },
        "paths": {
            **_task_paths(),
            **_other_paths(),
            **schedule_openapi.paths(),
            **_service_paths(),
        },
        "components": {
            "schemas": {**_schemas(), **schedule_openapi.schemas()},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Any user name; the token as password.",
                },
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "nbflow_session",
                    "description": "Set by the visualiser's login page (POST /login). "
                    "A state change also needs the header X-XSRF-Token equal to the "
                    "_xsrf cookie.",
                },
            },
        },
    }


def state_changing_operations(doc: JSON) -> list[tuple[str, str]]:
    """Return (method, path) of every operation that requires the token always."""
    found = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if {} not in operation.get("security", doc.get("security", [{}])):
                found.append((method.upper(), path))
    return found


__all__ = [
    "MAX_GRAPH",
    "MAX_LIMIT",
    "MAX_WAIT",
    "PREFIX",
    "TASK_SORTS",
    "document",
    "state_changing_operations",
]
