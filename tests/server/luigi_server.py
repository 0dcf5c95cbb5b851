"""A scheduler host answering luigid's protocol on a free port, for Luigi-client tests.

The tornado loop runs in its own thread and serves only ``luigi_rpc.routes`` (the
server's full application mounts the same routes); the token check is the server's own
:class:`~nbflow.server.auth.TokenAuth`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from nbflow.core.events import RetryPolicy
from nbflow.server.auth import TokenAuth
from nbflow.server.host import SchedulerHost
from nbflow.server.luigi_rpc import LuigiRpc, routes

TOKEN = "luigi-test-token-42"  # noqa: S105  (a test server's token)


@dataclass
class LuigiServer:
    resources: dict[str, int] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    protect_reads: bool = False
    worker_disconnect_delay: float = 3600.0
    port: int = 0

    def start(self) -> LuigiServer:
        self.host = SchedulerHost(
            resources=self.resources,
            worker_disconnect_delay=self.worker_disconnect_delay,
        )
        self.host.start()
        auth = TokenAuth(TOKEN, protect_reads=self.protect_reads)
        self.routes = routes(self.host, auth.check, retry=self.retry,
                             resources=self.resources)  # fmt: skip
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        ready = threading.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            server = HTTPServer(tornado.web.Application(self.routes))
            server.add_sockets(sockets)
            ready.set()
            await self._stopped.wait()
            server.stop()
            await server.close_all_connections()

        self._thread = threading.Thread(
            target=asyncio.run, args=(serve(),), daemon=True
        )
        self._thread.start()
        ready.wait()
        return self

    @property
    def rpc(self) -> LuigiRpc:
        rpc: LuigiRpc = self.routes[0][2]["rpc"]
        return rpc

    def url(self, token: str | None = TOKEN) -> str:
        auth = f"luigi:{token}@" if token is not None else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join()
        self.host.stop()
        self.rpc.pool.shutdown(wait=False)

    def statuses(self) -> dict[str, Any]:
        return {
            info.task_id: info.status.value
            for info in self.host.read(lambda s: s.tasks())
        }
