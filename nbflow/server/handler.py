"""What every handler of the server shares: JSON errors, auth, CORS, the host's threads.

:class:`ServerContext` holds what the handlers need (the host, the token check, the
history, the thread pools); :class:`JsonHandler` answers every error as
``{"error": {"message": ..., "kind": ...}}`` with a 4xx status (503 when the scheduler
is down, 500 only for a bug in nbflow), checks the token, applies CORS when configured,
and runs blocking work (the host's calls and reads, the history's queries) on thread
pools so tornado's loop never waits.

Imports: stdlib, tornado, nbflow.core, nbflow.server.{auth, history_query, host}.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from tornado.ioloop import IOLoop
from tornado.web import HTTPError, RequestHandler

from nbflow.core.wire import WireFormatError
from nbflow.server.history_query import HistoryQueryError
from nbflow.server.host import EventRejectedError, HostStoppedError

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.server.auth import TokenAuth
    from nbflow.server.host import SchedulerHost

T = TypeVar("T")
logger = logging.getLogger("nbflow.server")

#: Default largest request body, in bytes.
DEFAULT_MAX_BODY = 32 * 1024 * 1024

_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    503: "unavailable",
}


class ApiError(HTTPError):
    """An error answered to the client as JSON (``kind`` names it for programs)."""

    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(status)
        self.message = message
        self.kind = kind or _KINDS.get(status, "error")


@dataclass
class ServerContext:
    """Everything the handlers share (one per application)."""

    host: SchedulerHost
    auth: TokenAuth
    #: The run history's queries (nbflow.server.history_query.History), or None.
    history: Any = None
    cors_origins: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    version: str = "0"
    #: Worker calls (long polls hold a thread each).
    calls: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(128, "nbflow-calls")
    )
    #: Reads of the scheduler and the history.
    reads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(8, "nbflow-reads")
    )
    #: Extra state (the metrics, the event stream) set by the application.
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Stop the thread pools (running work finishes)."""
        self.calls.shutdown(wait=False, cancel_futures=True)
        self.reads.shutdown(wait=False, cancel_futures=True)


class JsonHandler(RequestHandler):
    """Base of the server's handlers (see the module docstring)."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        """Receive the shared context (tornado passes the route's keyword arguments)."""
        self.context = context
        self.set_default_headers()  # tornado set them once before the context arrived

    # --- headers, CORS ----------------------------------------------------------------

    def set_default_headers(self) -> None:
        """Add security headers, and CORS ones for an allowed origin."""
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        origin = self.request.headers.get("Origin")
        context = getattr(self, "context", None)
        if origin and context is not None and origin in context.cors_origins:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Vary", "Origin")

    def options(self, *_args: str) -> None:
        """Answer a CORS preflight for an allowed origin; 405 otherwise."""
        origin = self.request.headers.get("Origin", "")
        if origin not in self.context.cors_origins:
            raise HTTPError(405)
        self.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.set_header(
            "Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID"
        )
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)

    # --- errors -----------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer every error as the API's JSON error object."""
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            message, kind = error.message, error.kind
        elif isinstance(error, HTTPError) and error.log_message:
            message = (
                error.log_message % error.args if error.args else error.log_message
            )
            kind = _KINDS.get(status_code, "error")
        elif status_code == 405:  # noqa: PLR2004
            message = (
                f"{self.request.method} is not allowed on {self.request.path}. "
                "Fix: see /api/openapi.json for the methods of each path"
            )
            kind = _KINDS[405]
        else:  # a bug in nbflow (500) or a status tornado chose
            message = HTTPStatus(status_code).phrase
            kind = _KINDS.get(status_code, "internal")
        if status_code == 401:  # noqa: PLR2004
            self.set_header("WWW-Authenticate", 'Bearer realm="nbflow"')
        if status_code == 405:  # noqa: PLR2004
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"message": message, "kind": kind}}))

    def allowed_methods(self) -> list[str]:
        """Return the methods this path answers (the ``Allow`` header of a 405)."""
        return [
            method
            for method in ("GET", "POST")
            if getattr(type(self), method.lower())
            is not getattr(RequestHandler, method.lower())
        ]

    def write_json(self, value: Any) -> None:
        """Answer ``value`` as JSON."""
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value, separators=(",", ":"), allow_nan=False))

    # --- auth -------------------------------------------------------------------------

    def authorize(self, *, write: bool, query_token: bool = False) -> None:
        """Raise a 401/403 ApiError unless the request may go on."""
        failure = self.context.auth.check(
            self.request, write=write, query_token=query_token
        )
        if failure is not None:
            raise ApiError(failure.status, failure.message)

    # --- bodies -----------------------------------------------------------------------

    def json_body(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """Return the JSON object sent, refusing oversize, malformed or unknown fields."""
        body = self.request.body
        if len(body) > self.context.max_body:
            raise ApiError(
                413,
                f"the request body has {len(body)} bytes, more than the server's limit "
                f"of {self.context.max_body}. Fix: send less at once (split the call), "
                "or start the server with a larger --max-body-size",
            )
        if not body.strip():
            return {}
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(
                400,
                f"the request body is not valid JSON ({error}). Fix: send a JSON object",
            ) from None
        if not isinstance(value, dict):
            raise ApiError(
                400,
                f"the request body must be a JSON object, got {type(value).__name__}. "
                "Fix: send an object with the fields the API documents",
            )
        unknown = sorted(set(value) - set(fields))
        if unknown:
            allowed = ", ".join(fields) or "none"
            raise ApiError(
                400,
                f"unknown field(s) {', '.join(map(repr, unknown))} in the request body. "
                f"Expected only: {allowed}. Fix: remove them (see /api/openapi.json)",
            )
        return value

    # --- blocking work off the loop -----------------------------------------------------

    async def hosted(self, submit: Callable[[], Future[T]]) -> T:
        """Await a future the host thread answers; translate its errors as blocking."""
        try:
            return await asyncio.wrap_future(submit())
        except EventRejectedError as error:
            raise ApiError(409, str(error), "rejected") from None
        except (WireFormatError, HistoryQueryError) as error:
            raise ApiError(400, str(error)) from None
        except HostStoppedError as error:
            raise ApiError(503, str(error)) from None

    async def blocking(
        self, fn: Callable[..., T], *args: Any, pool: str = "reads"
    ) -> T:
        """Run ``fn(*args)`` on a pool thread; translate the host's errors to 4xx/503."""
        executor = self.context.calls if pool == "calls" else self.context.reads
        try:
            return await IOLoop.current().run_in_executor(executor, fn, *args)
        except EventRejectedError as error:
            raise ApiError(409, str(error), "rejected") from None
        except (WireFormatError, HistoryQueryError) as error:
            raise ApiError(400, str(error)) from None
        except HostStoppedError as error:
            raise ApiError(503, str(error)) from None


class NotFoundHandler(JsonHandler):
    """Answer any path the server does not serve with a JSON 404."""

    def prepare(self) -> None:
        """Refuse every method on an unknown path."""
        raise ApiError(
            404,
            f"no such path {self.request.path!r}. Fix: see /api/openapi.json for the "
            "API's paths",
        )


__all__ = [
    "DEFAULT_MAX_BODY",
    "ApiError",
    "JsonHandler",
    "NotFoundHandler",
    "ServerContext",
]
