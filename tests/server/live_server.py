"""A real nbflow server in the test's process: host, SQLite store, app on a free port.

The tornado loop runs in its own thread; requests go over real sockets with
``http.client``. Used by the API, app, OpenAPI and schemathesis tests.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from nbflow.core import wire
from nbflow.core.events import TasksDiscovered, TaskSpec, WorkerStarted
from nbflow.server.app import close_app, make_app
from nbflow.server.host import SchedulerHost
from nbflow.server.store import Store

TOKEN = "test-token-0123456789"  # noqa: S105


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LiveServer:
    db_url: str
    token: str = TOKEN
    protect_reads: bool = False
    cors_origins: tuple[str, ...] = ()
    max_body: int = 1024 * 1024
    history: bool = True
    host: SchedulerHost = field(init=False)
    port: int = field(init=False, default=0)

    def start(self) -> LiveServer:
        self.store = Store.open(self.db_url)
        self.host = SchedulerHost(self.store, worker_disconnect_delay=3600)
        self.writer: Any = None
        queries: Any = None
        if self.history:
            from nbflow.server.history import HistoryWriter
            from nbflow.server.history_query import History

            self.writer = HistoryWriter(self.store)
            self.host.subscribe(self.writer.on_notification)
            self.writer.start()
            queries = History(self.store)
        self.host.start()
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        ready = threading.Event()
        self._stop: asyncio.Event | None = None

        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.app = make_app(
                self.host,
                token=self.token,
                history=queries,
                history_writer=self.writer,
                cors_origins=self.cors_origins,
                max_body=self.max_body,
                protect_reads=self.protect_reads,
            )
            server = HTTPServer(self.app, max_body_size=2 * self.max_body + 65536)
            server.add_sockets(sockets)
            ready.set()
            await self._stop.wait()
            server.stop()
            close_app(self.app)
            await server.close_all_connections()

        self._thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
        self._thread.start()
        ready.wait(30)
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self.host.stop()
        if self.writer is not None:
            self.writer.stop()
        self.store.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        timeout: float = 60,
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = (
            raw
            if raw is not None
            else (None if body is None else json.dumps(body).encode())
        )
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, path, body=data, headers=sent)
            reply = connection.getresponse()
            return Response(
                reply.status,
                {k.lower(): v for k, v in reply.getheaders()},
                reply.read(),
            )
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        kwargs.setdefault("token", self.token)
        return self.request("POST", path, body, **kwargs)

    def call(self, worker_id: str, events: list[Any], **fields: Any) -> Response:
        body = {"events": [wire.to_json(e) for e in events], **fields}
        return self.post(f"/api/v1/workers/{quote(worker_id)}/calls", body)


def quote(task_id: str) -> str:
    return urllib.parse.quote(task_id, safe="")


def chain_specs(*ids: str, family: str = "Step") -> tuple[TaskSpec, ...]:
    """Tasks where each requires the one before it."""
    specs = []
    for index, task_id in enumerate(ids):
        deps = (ids[index - 1],) if index else ()
        specs.append(TaskSpec(task_id, family, params=(("n", str(index)),), deps=deps))
    return tuple(specs)


def submit(server: LiveServer, worker_id: str, specs: tuple[TaskSpec, ...]) -> Any:
    reply = server.call(
        worker_id, [WorkerStarted(worker_id, slots=1), TasksDiscovered(specs)]
    )
    assert reply.status == 200, reply.body
    return reply.json()
