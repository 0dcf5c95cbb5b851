"""The handlers of ``<base_url>nbflow/api``: kernel runs, drawings, settings, the proxy.

- ``GET runs``: this server's kernels with nbflow runs (notebook path from the session
  manager) and whether the configured nbflow server answers;
- ``GET runs/{kernel_id}/{number}``: one run with its tasks;
- ``GET runs/{kernel_id}/{number}/drawing?expand=A,B``: its graph laid out;
- ``GET|PUT settings``: the nbflow server's URL and token (the token is never sent back);
- ``GET|POST server/api/v1/...``: the nbflow server's API, with the token added
  (:mod:`nbflow.lab.proxy`).

Every handler is a jupyter_server ``APIHandler`` with ``tornado.web.authenticated``:
Jupyter's token or cookie, and its XSRF check on writes. Files are read and graphs laid
out on a pool thread, never on the server's loop.

Imports: stdlib, tornado, jupyter_server, nbflow.lab.{boards, drawing, proxy}.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from nbflow.lab.boards import BoardReader, run_detail, run_summary
from nbflow.lab.drawing import MAX_EXPANDED, DrawingCache, draw_run
from nbflow.lab.proxy import LabSettings, ProxyError, forward

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

__all__ = ["LabApiError", "LabContext", "install"]

#: Answers (a run's detail or drawing) kept until their board changes.
CACHED_ANSWERS = 32
_KERNEL = r"(?P<kernel_id>[A-Za-z0-9_.-]+)"
_NUMBER = r"(?P<number>[0-9]{1,9})"


class LabContext:
    """What the handlers share: the boards, the Lab root, the settings, the layouts."""

    def __init__(self, serverapp: Any) -> None:
        self.serverapp = serverapp
        self.reader = BoardReader(Path(serverapp.runtime_dir) / "nbflow")
        self.root = str(Path(serverapp.root_dir).expanduser())
        self.settings = LabSettings.from_env()
        self.drawings = DrawingCache()
        #: the last answers, each with the board's run it was made from
        self._answers: OrderedDict[Hashable, tuple[object, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, key: Hashable, run: object, make: Callable[[], Any]) -> bytes:
        """Return the JSON of ``make()``, kept until the run's board changes (any thread)."""
        with self._lock:
            kept = self._answers.get(key)
        if kept is not None and kept[0] is run:
            return kept[1]
        body = json.dumps(make(), allow_nan=False, default=str).encode()
        with self._lock:
            self._answers[key] = (run, body)
            self._answers.move_to_end(key)
            while len(self._answers) > CACHED_ANSWERS:
                self._answers.popitem(last=False)
        return body


class LabApiError(tornado.web.HTTPError):
    """An error answered as ``{"message": ...}`` with its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


class _Handler(APIHandler):
    context: LabContext

    def initialize(self, context: LabContext) -> None:
        self.context = context

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer an error as JSON; ours with their message (what was wrong, the fix)."""
        error = (kwargs.get("exc_info") or (None, None))[1]
        if isinstance(error, LabApiError):
            self.reply({"message": error.message}, status_code)
            return
        super().write_error(status_code, **kwargs)

    def reply(self, document: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(document, allow_nan=False, default=str))

    def reply_body(self, body: bytes) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    async def blocking(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            None, partial(call, *args)
        )

    async def kernels(self) -> dict[str, dict[str, Any]]:
        """Return kernel id -> {path, name} of this server's kernels."""
        serverapp = self.context.serverapp
        known: dict[str, dict[str, Any]] = {
            kernel_id: {"path": None, "name": None}
            for kernel_id in serverapp.kernel_manager.list_kernel_ids()
        }
        for session in await serverapp.session_manager.list_sessions():
            kernel = session.get("kernel") or {}
            if kernel.get("id") in known:
                known[kernel["id"]] = {
                    "path": session.get("path"),
                    "name": session.get("name") or kernel.get("name"),
                }
        return known

    async def run_of(self, kernel_id: str, number: str) -> dict[str, Any]:
        board = await self.blocking(self.context.reader.board, kernel_id)
        if board is None:
            raise LabApiError(
                404,
                f"no nbflow runs for kernel {kernel_id}. Fix: run "
                "%load_ext nbflow and a run in that kernel, or pick a kernel from "
                "GET nbflow/api/runs",
            )
        run: dict[str, Any]
        for run in board.get("runs") or ():
            if str(run.get("number")) == number:
                return run  # read only: kept by the reader while the file stays
        numbers = [run.get("number") for run in board.get("runs") or ()]
        raise LabApiError(
            404,
            f"kernel {kernel_id} has no run {number} (its runs: "
            f"{numbers or 'none'}). Fix: pick a run from GET nbflow/api/runs",
        )


class RunsHandler(_Handler):
    """GET nbflow/api/runs."""

    @tornado.web.authenticated
    async def get(self) -> None:
        """List the kernels' runs and the nbflow server's state."""
        known = await self.kernels()
        boards = await self.blocking(self.context.reader.boards)
        kernels = []
        for board in boards:
            kernel_id = str(board.get("kernel_id"))
            entry = known.get(kernel_id) or {"path": None, "name": None}
            kernels.append(
                {
                    "kernel_id": kernel_id,
                    "path": entry["path"],
                    "name": entry["name"],
                    "alive": kernel_id in known,
                    "runs": [run_summary(run) for run in board.get("runs") or ()],
                }
            )
        server = await self.context.settings.state()
        self.reply({"kernels": kernels, "server": server})


class RunHandler(_Handler):
    """GET nbflow/api/runs/{kernel_id}/{number}."""

    @tornado.web.authenticated
    async def get(self, kernel_id: str, number: str) -> None:
        """Return one run with its tasks."""
        run = await self.run_of(kernel_id, number)
        body = await self.blocking(
            self.context.answer,
            ("run", kernel_id, number),
            run,
            lambda: run_detail(run, self.context.root),
        )
        self.reply_body(body)


class DrawingHandler(_Handler):
    """GET nbflow/api/runs/{kernel_id}/{number}/drawing?expand=A,B."""

    @tornado.web.authenticated
    async def get(self, kernel_id: str, number: str) -> None:
        """Return the run's graph laid out as SVG, with its states now."""
        text = self.get_query_argument("expand", "") or ""
        expand = frozenset(name.strip() for name in text.split(",") if name.strip())
        if len(expand) > MAX_EXPANDED:
            raise LabApiError(
                400,
                f"expand names {len(expand)} families, more than "
                f"{MAX_EXPANDED}. Fix: expand fewer families",
            )
        run = await self.run_of(kernel_id, number)
        body = await self.blocking(
            self.context.answer,
            ("drawing", kernel_id, number, expand),
            run,
            lambda: draw_run(run, expand, self.context.drawings),
        )
        self.reply_body(body)


class SettingsHandler(_Handler):
    """GET and PUT nbflow/api/settings."""

    @tornado.web.authenticated
    def get(self) -> None:
        """Return the server URL and whether a token is set (never the token)."""
        self.reply(self.context.settings.to_json())

    @tornado.web.authenticated
    def put(self) -> None:
        """Set the server URL and token: ``{"server_url": str|null, "token": ...}``."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise LabApiError(
                400, "the body is not JSON. Fix: send a JSON object"
            ) from None
        problem = self.context.settings.update(body)
        if problem:
            raise LabApiError(400, problem)
        self.reply(self.context.settings.to_json())


class ServerProxyHandler(_Handler):
    """GET and POST nbflow/api/server/api/v1/...: the configured nbflow server's API."""

    @tornado.web.authenticated
    async def get(self, path: str) -> None:
        """Forward a read to the nbflow server."""
        await self._forward("GET", path, None)

    @tornado.web.authenticated
    async def post(self, path: str) -> None:
        """Forward a write to the nbflow server (Jupyter checked XSRF first)."""
        await self._forward("POST", path, self.request.body)

    async def _forward(self, method: str, path: str, body: bytes | None) -> None:
        # the path as sent (still percent-encoded: a task id may hold a '/')
        marker = "/nbflow/api/server/"
        raw = self.request.path
        path = raw[raw.index(marker) + len(marker) :] if marker in raw else path
        query = self.request.query
        try:
            status, content_type, answer = await forward(
                self.context.settings, method, path, query, body
            )
        except ProxyError as exc:
            raise LabApiError(exc.status, str(exc)) from None
        if status >= 400 and content_type.startswith("application/json"):  # noqa: PLR2004
            answer = _with_message(answer)
        self.set_status(status)
        self.set_header("Content-Type", content_type)
        self.finish(answer)


def _with_message(body: bytes) -> bytes:
    """Add the nbflow server's ``error.message`` as ``message``, as Jupyter's errors say.

    Examples
    --------
    >>> _with_message(b'{"error": {"message": "no task", "kind": "not_found"}}')
    b'{"error": {"message": "no task", "kind": "not_found"}, "message": "no task"}'
    """
    try:
        document = json.loads(body)
    except ValueError:
        return body
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict) or "message" in document:
        return body
    document["message"] = str(error.get("message", ""))
    return json.dumps(document).encode()


def install(serverapp: Any) -> LabContext:
    """Add the handlers to ``serverapp``'s web application; return their context."""
    context = LabContext(serverapp)
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "nbflow", "api")
    arguments = {"context": context}
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "runs") + "/?", RunsHandler, arguments),
            (url_path_join(base, "runs", _KERNEL, _NUMBER), RunHandler, arguments),
            (
                url_path_join(base, "runs", _KERNEL, _NUMBER, "drawing"),
                DrawingHandler,
                arguments,
            ),
            (url_path_join(base, "settings"), SettingsHandler, arguments),
            (
                url_path_join(base, "server", r"(?P<path>api/v1/.*)"),
                ServerProxyHandler,
                arguments,
            ),
        ],
    )
    serverapp.log.info("nbflow: JupyterLab API at %s", base)
    return context
