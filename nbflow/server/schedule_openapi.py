"""The schedules API's part of the OpenAPI document (merged by nbflow.server.openapi).

Kept apart from the handlers (:mod:`nbflow.server.schedule_api`) so that the document
needs no tornado. Keep the two in step.

Imports: stdlib, nbflow.server.schedules.
"""

from __future__ import annotations

from typing import Any

from nbflow.server.schedules import CATCH_UP

#: The API's path prefix (as nbflow.server.openapi.PREFIX).
PREFIX = "/api/v1"

_STRING: dict[str, Any] = {"type": "string"}
_NUMBER_OR_NULL: dict[str, Any] = {"type": ["number", "null"]}
_WRITE: list[dict[str, Any]] = [
    {"bearerAuth": []},
    {"basicAuth": []},
    {"sessionCookie": []},
]
_READ: list[dict[str, Any]] = [{}, *_WRITE]
_ERRORS = {
    400: "Bad input: the message says what and how to fix it.",
    401: "No token presented.",
    403: "Wrong token (or schedules are read-only through the API).",
    404: "No such schedule, or the server runs no trigger.",
    409: "The name is taken, or a config schedule cannot be removed.",
    413: "Request body too large.",
    503: "The scheduler is not running.",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _definition() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 1}
    return {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"},
        "cron": {"type": "string", "description": "croniter's syntax: '0 2 * * *'."},
        "task": {"type": "string", "description": "The task family."},
        "module": {"type": "string", "description": "The module defining it."},
        "params": {"type": "object", "additionalProperties": _STRING},
        "date_param": {"type": "string", "description": "Receives the interval."},
        "date_format": {"type": "string", "description": "auto or strftime."},
        "catch_up": {"enum": list(CATCH_UP)},
        "paused": {"type": "boolean"},
        "timezone": {"type": "string", "description": "IANA name; UTC default."},
        "workers": count,
        "executor": _STRING,
        "max_running": count,
    }


def schemas() -> dict[str, Any]:
    """Return the component schemas of the schedules API."""
    fire = {
        "id": {"type": "integer"},
        "fire_time": {"type": "number"},
        "value": _STRING,
        "state": {
            "enum": ["claimed", "running", "succeeded", "failed", "not_started", "lost"]
        },
        "claimed": {"type": "number"},
        "started": _NUMBER_OR_NULL,
        "ended": _NUMBER_OR_NULL,
        "exit_code": {"type": ["integer", "null"]},
        "log_path": _STRING,
        "message": _STRING,
    }
    described = {
        **_definition(),
        "cwd": _STRING,
        "source": {"enum": ["config", "api"]},
        "next_fire": {"type": "number"},
        "next_value": _STRING,
        "last_fire": {"anyOf": [_ref("ScheduleFire"), {"type": "null"}]},
        "last_finished": {"anyOf": [_ref("ScheduleFire"), {"type": "null"}]},
        "running": {"type": "integer", "minimum": 0},
    }
    detail = {**described, "fires": {"type": "array", "items": _ref("ScheduleFire")}}
    return {
        "ScheduleFire": _object(fire, tuple(fire)),
        "Schedule": _object(described, tuple(described)),
        "ScheduleDetail": _object(detail, tuple(detail)),
        "ScheduleList": _object(
            {
                "schedules": {"type": "array", "items": _ref("Schedule")},
                "read_only": {"type": "boolean"},
            },
            ("schedules", "read_only"),
        ),
        "ScheduleRequest": _object(_definition(), ("name", "cron", "task")),
        "ScheduleRemoved": _object({"removed": _STRING}, ("removed",)),
    }


def _operation(
    operation_id: str,
    summary: str,
    response: str,
    *,
    write: bool = False,
    body: str | None = None,
    name: bool = False,
) -> dict[str, Any]:
    codes = [400, 401, 403, 404, 503] + ([409, 413] if write else [])

    def answer(schema: str, description: str) -> dict[str, Any]:
        content = {"application/json": {"schema": _ref(schema)}}
        return {"description": description, "content": content}

    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["schedules"],
        "security": _WRITE if write else _READ,
        "responses": {
            "200": answer(response, "OK"),
            **{str(code): answer("Error", _ERRORS[code]) for code in sorted(codes)},
        },
    }
    if name:
        operation["parameters"] = [
            {"name": "name", "in": "path", "required": True, "schema": _STRING,
             "description": "The schedule's name."},
        ]  # fmt: skip
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def paths() -> dict[str, Any]:
    """Return the OpenAPI paths of the schedules API."""
    found: dict[str, Any] = {
        f"{PREFIX}/schedules": {
            "get": _operation(
                "listSchedules",
                "The trigger's schedules with their next and last fires.",
                "ScheduleList",
            ),
            "post": _operation(
                "addSchedule",
                "Add a schedule (kept in the database across restarts).",
                "ScheduleDetail",
                write=True,
                body="ScheduleRequest",
            ),
        },
        f"{PREFIX}/schedules/{{name}}": {
            "get": _operation(
                "getSchedule",
                "One schedule with its newest fires.",
                "ScheduleDetail",
                name=True,
            )
        },
    }
    verbs = {
        "pause": ("pauseSchedule", "Let its intervals pass unfired until resumed."),
        "resume": ("resumeSchedule", "Fire again, from its next interval."),
        "remove": ("removeSchedule", "Remove a schedule added through the API."),
    }
    for verb, (operation_id, summary) in verbs.items():
        response = "ScheduleRemoved" if verb == "remove" else "ScheduleDetail"
        found[f"{PREFIX}/schedules/{{name}}/{verb}"] = {
            "post": _operation(operation_id, summary, response, write=True, name=True)
        }
    return found


__all__ = ["PREFIX", "paths", "schemas"]
