"""The server's tornado application, and :func:`serve`, the only code that binds sockets.

:func:`make_app` assembles the routes around a started
:class:`~nbflow.server.host.SchedulerHost`: the JSON API under ``/api/v1``
(:mod:`~nbflow.server.api`), the event stream (:mod:`~nbflow.server.stream`), luigid's
RPC for Luigi's own workers (:mod:`~nbflow.server.luigi_rpc`), ``/api/openapi.json``,
``/metrics``, ``/healthz`` and ``/readyz``. Every other path answers a JSON 404. The
handlers are plain tornado ``RequestHandler`` s, so the same routes can later be mounted
in a Jupyter server.

:func:`serve` runs a whole server: opens the database (refusing an outdated schema),
restores and starts the host, starts the history writer, listens, and on SIGINT or
SIGTERM stops listening, then stops the host (which keeps a snapshot for a fast start).

Imports: stdlib, tornado, nbflow.core, nbflow.server.*.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application

from nbflow.core.errors import NbflowError
from nbflow.server import (
    api,
    graph_view,
    logs,
    luigi_rpc,
    openapi,
    schedule_api,
    visualiser,
)
from nbflow.server.auth import TokenAuth
from nbflow.server.handler import (
    DEFAULT_MAX_BODY,
    JsonHandler,
    NotFoundHandler,
    ServerContext,
)
from nbflow.server.metrics import CONTENT_TYPE, ServerMetrics
from nbflow.server.stream import Broadcaster, EventStreamHandler

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from nbflow.server.host import SchedulerHost


def _version() -> str:
    try:
        return metadata.version("nbflow")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class _OpenApiHandler(JsonHandler):
    def get(self) -> None:
        self.write_json(self.context.extras["openapi"])


class _HealthHandler(JsonHandler):
    def get(self) -> None:
        self.write_json({"status": "ok"})


class _ReadyHandler(JsonHandler):
    async def get(self) -> None:
        checks = {"scheduler": self.context.host.running}
        checks["database"] = await self.blocking(
            _database_answers, self.context.host.store
        )
        if not all(checks.values()):
            self.set_status(503)
        self.write_json({"ready": all(checks.values()), "checks": checks})


def _database_answers(store: Any) -> bool:
    """Return whether the store's database answers a trivial query (True: no store)."""
    engine = getattr(store, "engine", None)
    if engine is None:
        return True
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception:  # noqa: BLE001  (any failure means "not ready"; the probe says so)
        return False
    return True


class _MetricsHandler(JsonHandler):
    async def get(self) -> None:
        self.authorize(write=False)
        metrics: ServerMetrics = self.context.extras["metrics"]
        body = await self.blocking(metrics.render)
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(body)


class _StreamHandler(EventStreamHandler):
    def prepare(self) -> None:
        extras = self.context.extras
        if "broadcaster" not in extras:  # made on the loop that serves the streams
            extras["broadcaster"] = Broadcaster(self.context.host, IOLoop.current())


def make_app(  # noqa: PLR0913  (keyword-only options)
    host: SchedulerHost,
    *,
    token: str,
    history: Any = None,
    cors_origins: tuple[str, ...] = (),
    max_body: int = DEFAULT_MAX_BODY,
    protect_reads: bool = False,
    history_writer: Any = None,
    trigger: Any = None,
) -> Application:
    """Return the tornado application serving ``host`` (see the module docstring).

    Parameters
    ----------
    host
        The started scheduler host.
    token
        The server's token: required for every state change (and every read with
        ``protect_reads``, for a server listening beyond loopback).
    history
        The run history's queries (``History``), or None when there is none.
    cors_origins
        Origins allowed to call the API from a browser (none: CORS off).
    max_body
        Largest request body in bytes.
    protect_reads
        Reads need the token too (a server listening beyond loopback).
    history_writer
        The ``HistoryWriter``, for its backlog in the metrics.
    trigger
        The schedules' ``Trigger`` (nbflow.server.trigger), or None: no schedules.
    """
    auth = TokenAuth(token, protect_reads=protect_reads)
    version = _version()
    context = ServerContext(
        host, auth, history, tuple(cors_origins), max_body, version=version
    )
    context.extras["openapi"] = openapi.document(version)
    context.extras["metrics"] = ServerMetrics(host, history_writer)
    context.extras["logs"] = logs.attach(host)
    context.extras["trigger"] = trigger
    kwargs = {"context": context}
    routes: list[Any] = [
        *api.routes(context),
        *logs.routes(context),
        *graph_view.routes(context),
        *schedule_api.routes(context),
        (rf"{openapi.PREFIX}/events", _StreamHandler, kwargs),
        (r"/api/openapi\.json", _OpenApiHandler, kwargs),
        (r"/metrics", _MetricsHandler, kwargs),
        (r"/healthz", _HealthHandler, kwargs),
        (r"/readyz", _ReadyHandler, kwargs),
        *_luigi_routes(host, auth),
        *visualiser.routes(context),
    ]
    application = Application(
        routes,
        default_handler_class=NotFoundHandler,
        default_handler_args=kwargs,
        compress_response=True,
    )
    application.settings["nbflow_context"] = context
    return application


def _luigi_routes(host: SchedulerHost, auth: TokenAuth) -> list[Any]:
    return list(luigi_rpc.routes(host, auth.check))


def close_app(application: Application) -> None:
    """Detach an application from its host (metrics, streams) and stop its threads."""
    context: ServerContext = application.settings["nbflow_context"]
    context.extras["metrics"].close()
    logs.detach(context)
    broadcaster = context.extras.get("broadcaster")
    if broadcaster is not None:
        broadcaster.close()
    context.close()


# --- serve ------------------------------------------------------------------------------


class ListenError(NbflowError, OSError):
    """The server cannot listen on the address asked for."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(host, port, reason)
        self.host, self.port, self.reason = host, port, reason

    def __str__(self) -> str:
        return (
            f"nbflow server: cannot listen on {self.host}:{self.port} (got {self.reason}). "
            "Expected a free port on an address of this machine. Fix: choose another "
            "--port (0: any free one), or stop what uses it"
        )


@dataclass(frozen=True)
class ServeOptions:
    """How to run a server (``nbflow server``'s options, checked by the CLI)."""

    db: str
    token: str
    host: str = "127.0.0.1"
    port: int = 8082
    #: Reads need the token too (set when ``host`` is not a loopback address).
    protect_reads: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    worker_disconnect_delay: float = 60.0
    #: Finished tasks unchanged this long leave the scheduler; None: never.
    remove_delay: float | None = 600.0
    resources: Mapping[str, int] = field(default_factory=dict)
    #: Schedules declared in config (nbflow.server.schedules.Schedule).
    schedules: tuple[Any, ...] = ()
    #: Where each fire's output goes ("": schedule-logs in nbflow's data folder).
    schedule_log_dir: str = ""
    #: Refuse adding and removing schedules through the API.
    read_only_schedules: bool = False
    #: Called once with the server's URL when it listens.
    on_listening: Callable[[str], None] = print


def serve(options: ServeOptions) -> None:
    """Run a server until SIGINT or SIGTERM (see the module docstring).

    Raises
    ------
    nbflow.server.store.SchemaOutdatedError
        The database needs ``nbflow server db upgrade``; nothing was started.
    ListenError
        The address is taken or cannot be bound.
    """
    from nbflow.server.history import HistoryWriter  # noqa: PLC0415  (SQLAlchemy)
    from nbflow.server.history_query import History  # noqa: PLC0415
    from nbflow.server.host import SchedulerHost  # noqa: PLC0415
    from nbflow.server.notify import ServerNotifier, default_public_url  # noqa: PLC0415
    from nbflow.server.store import Store  # noqa: PLC0415
    from nbflow.server.trigger import local_url, make_trigger  # noqa: PLC0415

    store = Store.open(options.db)
    try:
        try:
            sockets = bind_sockets(options.port, options.host)
        except OSError as error:
            raise ListenError(
                options.host, options.port, error.strerror or str(error)
            ) from None
        host = SchedulerHost(
            store,
            resources=options.resources,
            worker_disconnect_delay=options.worker_disconnect_delay,
            remove_delay=options.remove_delay,
        )
        writer = HistoryWriter(store)
        host.subscribe(writer.on_notification, replayed=writer.on_replayed)
        port = sockets[0].getsockname()[1]
        notifier = ServerNotifier(
            host, public_url=default_public_url(options.host, port)
        )
        host.subscribe(notifier.on_notification)  # failure e-mails, chat, webhooks
        writer.start()
        notifier.start()
        host.start()
        trigger = make_trigger(
            store,
            schedules=options.schedules,
            url=local_url(options.host, sockets[0].getsockname()[1]),
            token=options.token,
            log_dir=options.schedule_log_dir,
            read_only=options.read_only_schedules,
        )
        trigger.start()
        try:
            queries = (History(store), writer)
            asyncio.run(_listen(host, queries, sockets, options, trigger))
        finally:
            trigger.stop()  # its runs are stopped before the host
            notifier.stop()  # before the host: it reads tasks through the host
            host.stop()
            writer.stop()
    finally:
        store.close()


async def _listen(
    host: SchedulerHost,
    history: tuple[Any, Any],
    sockets: list[Any],
    options: ServeOptions,
    trigger: Any = None,
) -> None:
    application = make_app(
        host,
        token=options.token,
        history=history[0],
        history_writer=history[1],
        cors_origins=options.cors_origins,
        max_body=options.max_body,
        protect_reads=options.protect_reads,
        trigger=trigger,
    )
    # Bodies a little over the limit get the API's JSON 413; far larger ones are cut off.
    server = HTTPServer(application, max_body_size=2 * options.max_body + 65536)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    shown = f"[{options.host}]" if ":" in options.host else options.host
    options.on_listening(f"http://{shown}:{port}/")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        server.stop()
        close_app(application)
        await server.close_all_connections()


__all__ = ["ListenError", "ServeOptions", "close_app", "make_app", "serve"]
