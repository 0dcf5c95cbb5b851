"""The nbflow server the panel shows: its settings, and requests forwarded to it.

The browser never holds the nbflow server's token: Lab's settings editor sends the URL
and token here once (``PUT nbflow/api/settings``), and the panel's requests to
``nbflow/api/server/api/v1/...`` go out from the Jupyter server with
``Authorization: Bearer <token>``, behind Jupyter's own login. Only ``api/v1/`` paths
are forwarded. Defaults come from ``$NBFLOW_SERVER_URL`` and ``$NBFLOW_TOKEN``.

Threads: tornado's loop only.

Imports: stdlib, tornado.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

#: Seconds a forwarded request may take.
REQUEST_TIMEOUT = 60.0
#: Seconds the answer to "does the server answer?" is kept.
PROBE_KEPT = 5.0
#: Seconds a probe may take.
PROBE_TIMEOUT = 3.0

__all__ = ["LabSettings", "ProxyError", "forward"]


class ProxyError(Exception):
    """A request could not be forwarded (answered to the browser as JSON)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status, self.message = status, message

    def __str__(self) -> str:
        return self.message


class LabSettings:
    """The nbflow server's URL and token, set from Lab's settings editor."""

    def __init__(self, server_url: str | None = None, token: str | None = None) -> None:
        self.server_url = server_url
        self.token = token
        self._probe: tuple[float, str | None, bool] = (0.0, None, False)

    @classmethod
    def from_env(cls) -> LabSettings:
        """Return the settings of ``$NBFLOW_SERVER_URL`` and ``$NBFLOW_TOKEN``."""
        url = os.environ.get("NBFLOW_SERVER_URL") or None
        return cls(url.rstrip("/") if url else None, os.environ.get("NBFLOW_TOKEN"))

    def to_json(self) -> dict[str, Any]:
        """Return what the browser may see: the URL and whether a token is set."""
        return {"server_url": self.server_url, "has_token": bool(self.token)}

    def update(self, body: object) -> str | None:
        """Apply ``{"server_url", "token"}`` (either may be left out); return a problem."""
        if not isinstance(body, dict):
            return "expected a JSON object with server_url and token"
        url = body.get("server_url", self.server_url)
        token = body.get("token", self.token)
        if url is not None and not isinstance(url, str):
            return f"server_url must be a string or null (got {url!r})"
        if token is not None and not isinstance(token, str):
            return "token must be a string or null"
        url = (url or "").strip().rstrip("/") or None
        if url is not None and not _is_server_url(url):
            return (
                f"server_url {url!r} is not an http(s) URL. Expected the address of "
                "an nbflow server, e.g. http://127.0.0.1:8082. Fix: correct it in "
                "Settings > nbflow"
            )
        self.server_url, self.token = url, token or None
        self._probe = (0.0, None, False)
        return None

    async def state(self) -> dict[str, Any]:
        """Return ``{"url", "connected"}``: whether the server answers (kept 5 s)."""
        url = self.server_url
        if url is None:
            return {"url": None, "connected": False}
        at, probed, connected = self._probe
        if probed != url or time.monotonic() - at > PROBE_KEPT:
            try:
                status, _, _ = await forward(
                    self, "GET", "api/v1/scheduler", "", None, timeout=PROBE_TIMEOUT
                )
                connected = status < 400  # noqa: PLR2004
            except ProxyError:
                connected = False
            self._probe = (time.monotonic(), url, connected)
        return {"url": url, "connected": connected}


def _is_server_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def forward(
    settings: LabSettings,
    method: str,
    path: str,
    query: str,
    body: bytes | None,
    *,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, str, bytes]:
    """Send one request to the nbflow server; return its status, type and body.

    Raises
    ------
    ProxyError
        No server is set, the path is not under ``api/v1/``, or it did not answer.
    """
    if not path.startswith("api/v1/") or ".." in path.split("/"):
        raise ProxyError(404, f"only api/v1/ paths are forwarded (got {path!r})")
    if settings.server_url is None:
        raise ProxyError(
            409,
            "no nbflow server is set. Fix: set its URL (and token) in Settings > "
            "nbflow, or run 'nbflow: Connect to server...'",
        )
    url = f"{settings.server_url}/{path}" + (f"?{query}" if query else "")
    headers = {"Accept": "application/json"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = HTTPRequest(
        url,
        method=method,
        headers=headers,
        body=body if method == "POST" else None,
        request_timeout=timeout,
        connect_timeout=min(timeout, 10.0),
        follow_redirects=False,
    )
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except (OSError, HTTPClientError) as exc:
        raise ProxyError(
            502,
            f"the nbflow server at {settings.server_url} did not answer ({exc}). "
            "Fix: start it (nbflow server), or correct its URL in Settings > nbflow",
        ) from None
    if response.code == 599:  # noqa: PLR2004  (tornado: no response at all)
        raise ProxyError(
            502,
            f"the nbflow server at {settings.server_url} did not answer "
            f"({response.error}). Fix: start it (nbflow server), or correct its URL "
            "in Settings > nbflow",
        )
    content_type = response.headers.get("Content-Type", "application/json")
    return response.code, content_type, response.body or b""
