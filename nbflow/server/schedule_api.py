"""/api/v1/schedules: list, add, pause, resume and remove the trigger's schedules.

``GET /api/v1/schedules`` lists each schedule with its next fire and its last one
(state and exit code); ``GET .../schedules/NAME`` adds its newest fires. Changes need
the token (or the visualiser's session plus its XSRF header): ``POST /schedules``
adds one (its definition as JSON, the keys of a ``[schedule.NAME]`` section),
``POST .../NAME/pause|resume|remove``. A server started without a trigger answers 404.

Its part of the OpenAPI document is :mod:`nbflow.server.schedule_openapi`.

Imports: stdlib, tornado (through handler), nbflow.server.{handler, schedules, trigger}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.server.handler import ApiError, JsonHandler
from nbflow.server.schedule_openapi import PREFIX
from nbflow.server.schedules import ScheduleError
from nbflow.server.trigger import ScheduleChangeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.server.handler import ServerContext
    from nbflow.server.trigger import Trigger

#: The fields of a schedule sent to POST /api/v1/schedules.
FIELDS = (
    "name", "cron", "task", "module", "params", "date_param", "date_format",
    "catch_up", "paused", "timezone", "workers", "executor", "max_running",
)  # fmt: skip
#: Fires shown by GET /api/v1/schedules/NAME.
FIRES_SHOWN = 20


class _ScheduleHandler(JsonHandler):
    def trigger(self) -> Trigger:
        found: Trigger | None = self.context.extras.get("trigger")
        if found is None:
            raise ApiError(
                404,
                "this server runs no schedules (it was started without a trigger). "
                "Fix: run `nbflow server` (it starts one)",
            )
        return found

    async def changed(self, change: Callable[[], Any]) -> Any:
        try:
            return await self.blocking(change)
        except ScheduleError as error:
            raise ApiError(400, str(error)) from None
        except ScheduleChangeError as error:
            raise ApiError(error.status, error.message) from None


class SchedulesHandler(_ScheduleHandler):
    """GET /api/v1/schedules (the list); POST (add one)."""

    async def get(self) -> None:
        """List the schedules with their next and last fires."""
        self.authorize(write=False)
        trigger = self.trigger()
        found = await self.changed(trigger.describe)
        self.write_json({"schedules": found, "read_only": trigger.read_only})

    async def post(self) -> None:
        """Add a schedule."""
        self.authorize(write=True)
        trigger = self.trigger()
        body = self.json_body(FIELDS)
        self.write_json(await self.changed(lambda: trigger.add(body)))


class ScheduleHandler(_ScheduleHandler):
    """GET /api/v1/schedules/NAME; POST .../NAME/pause|resume|remove."""

    def allowed_methods(self) -> list[str]:
        """Return POST for the verbs, GET for the schedule."""
        segments = self.request.path.rstrip("/").split("/")
        return ["POST"] if len(segments) > 5 else ["GET"]  # noqa: PLR2004  (/api/v1/schedules/NAME/VERB)

    async def get(self, name: str, verb: str | None = None) -> None:
        """Return one schedule with its newest fires."""
        if verb is not None:
            raise ApiError(405, f"use POST for {self.request.path}")
        self.authorize(write=False)
        trigger = self.trigger()
        self.write_json(await self.changed(lambda: trigger.detail(name, FIRES_SHOWN)))

    async def post(self, name: str, verb: str | None = None) -> None:
        """Pause, resume or remove a schedule."""
        if verb is None:
            raise ApiError(405, "use GET for a schedule, POST for its verbs")
        self.authorize(write=True)
        self.json_body(())
        trigger = self.trigger()
        if verb == "remove":
            await self.changed(lambda: trigger.remove(name))
            self.write_json({"removed": name})
            return
        paused = verb == "pause"
        self.write_json(
            await self.changed(lambda: trigger.set_paused(name, paused=paused))
        )


def routes(context: ServerContext) -> list[tuple[str, type, dict[str, Any]]]:
    """Return the /api/v1/schedules routes."""
    kwargs = {"context": context}
    return [
        (rf"{PREFIX}/schedules", SchedulesHandler, kwargs),
        (rf"{PREFIX}/schedules/([^/]+)", ScheduleHandler, kwargs),
        (rf"{PREFIX}/schedules/([^/]+)/(pause|resume|remove)", ScheduleHandler, kwargs),
    ]


__all__ = ["FIELDS", "ScheduleHandler", "SchedulesHandler", "routes"]
