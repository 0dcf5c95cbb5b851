"""The web visualiser's pages: the app at ``/``, its assets, logging in and out.

The visualiser is a set of ES modules (``nbflow/server/static``) that read the JSON API
and the event stream; the graph renderer it shares with the notebook widget lives in
``nbflow/static`` and is served at ``/static/shared/``. Nothing is fetched from
elsewhere, so every page is sent with a Content-Security-Policy that allows scripts,
styles and connections from this server only, and no inline script at all.

Logging in: ``GET /login`` shows a form for the server's token; ``POST /login`` checks it
and sets the session cookie (:data:`~nbflow.server.auth.SESSION_COOKIE`: HttpOnly,
SameSite=Strict, an HMAC of the token rather than the token). Every page also sets the
``_xsrf`` cookie the scripts copy into the ``X-XSRF-Token`` header of their state
changes (see :mod:`nbflow.server.auth`); the login and logout forms carry it as a field.
A wrong token waits half a second before the answer, so guessing a short token by
trying is slow. ``GET /api/v1/session`` tells the page whether it may act.

Imports: stdlib, tornado, nbflow.server.{auth, handler, openapi}.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from tornado.web import RequestHandler, StaticFileHandler

from nbflow.server.auth import SESSION_COOKIE, XSRF_COOKIE, cookie
from nbflow.server.handler import JsonHandler
from nbflow.server.openapi import PREFIX

if TYPE_CHECKING:
    from nbflow.server.handler import ServerContext

#: The visualiser's own assets.
STATIC = Path(__file__).parent / "static"
#: Assets shared with the notebook widget and the JupyterLab extension (the renderer).
SHARED = Path(__file__).parent.parent / "static"
#: Every visualiser response's policy: this server's scripts, styles and API only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
#: Seconds a wrong token waits before its answer.
WRONG_TOKEN_DELAY = 0.5


def _page_headers(handler: RequestHandler) -> None:
    handler.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("X-Frame-Options", "DENY")
    handler.set_header("Referrer-Policy", "no-referrer")


def _xsrf(handler: RequestHandler) -> str:
    """Return the request's XSRF cookie value, setting a new one if it has none."""
    value = cookie(handler.request, XSRF_COOKIE)
    if not value:
        value = secrets.token_urlsafe(24)
        handler.set_cookie(
            XSRF_COOKIE,
            value,
            path="/",
            samesite="Strict",
            secure=handler.request.protocol == "https",
        )
    return value


def _local_path(target: str | None) -> str:
    """Return ``target`` if it is a path on this server, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


class _PageHandler(RequestHandler):
    """Base of the visualiser's HTML answers: security headers, the XSRF cookie."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        """Receive the shared context (tornado passes the route's keyword arguments)."""
        self.context = context

    def set_default_headers(self) -> None:
        """Send the page's policy with every answer (errors too)."""
        _page_headers(self)
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:  # noqa: ARG002
        """Answer errors as a plain page (no details of nbflow's internals)."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code} {self._reason}\n")


class IndexHandler(_PageHandler):
    """``GET /``: the visualiser (log in first where reads need the token)."""

    def get(self) -> None:
        """Send index.html, or redirect to the login page."""
        auth = self.context.auth
        if auth.protect_reads and not auth.logged_in(self.request):
            self.redirect("/login")
            return
        _xsrf(self)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish((STATIC / "index.html").read_bytes())


class AssetHandler(StaticFileHandler):
    """The visualiser's files, sent with the page policy.

    ``Cache-Control: no-cache`` makes the browser revalidate each module by its ETag, so
    an upgraded server never runs with stale modules.
    """

    def set_extra_headers(self, path: str) -> None:  # noqa: ARG002
        """Add the security headers to each file."""
        _page_headers(self)
        self.set_header("Cache-Control", "no-cache")

    def get_content_type(self) -> str:
        """Serve ES modules as JavaScript whatever the system's MIME table says."""
        if (self.absolute_path or "").endswith((".js", ".mjs")):
            return "text/javascript; charset=utf-8"
        return super().get_content_type()


_LOGIN_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · nbflow</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body class="login-page">
<main class="login">
<h1>nbflow</h1>
<p>Log in with the server's token to forgive, retry, mark done, pause and cancel.
<code>nbflow server</code> printed it when it started and keeps it in its token file.</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="_xsrf" value="{xsrf}">
<input type="hidden" name="next" value="{next}">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password"
 required autofocus>
<button type="submit">Log in</button>
</form>
<p><a href="/">Back to the visualiser</a></p>
</main>
</body>
</html>
"""


class LoginHandler(_PageHandler):
    """``GET /login`` shows the form; ``POST /login`` checks the token, sets the cookie."""

    def get(self) -> None:
        """Show the form."""
        self._form(self.get_query_argument("next", "/"), "")

    async def post(self) -> None:
        """Log in with the token given, or show the form again with why not."""
        target = _local_path(self.get_body_argument("next", "/"))
        if not _form_xsrf_ok(self):
            self.set_status(403)
            self._form(target, "The form expired. Please try again.")
            return
        token = self.get_body_argument("token", "")
        if not self.context.auth.is_valid(token):
            await asyncio.sleep(WRONG_TOKEN_DELAY)
            self.set_status(403)
            self._form(target, "That is not the server's token.")
            return
        self.set_cookie(
            SESSION_COOKIE,
            self.context.auth.session_value(),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.request.protocol == "https",
        )
        self.redirect(target)

    def _form(self, target: str, message: str) -> None:
        shown = (
            f'<p class="login-error" role="alert">{html.escape(message)}</p>'
            if message
            else ""
        )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            _LOGIN_PAGE.format(
                message=shown,
                xsrf=html.escape(_xsrf(self)),
                next=html.escape(_local_path(target)),
            )
        )


class LogoutHandler(_PageHandler):
    """``POST /logout``: end the session (the form carries the XSRF value)."""

    def post(self) -> None:
        """Clear the session cookie and go to the visualiser."""
        if not _form_xsrf_ok(self):
            self.set_status(403)
            self.finish("403 the form expired: reload the page and log out again\n")
            return
        self.clear_cookie(SESSION_COOKIE, path="/")
        self.redirect("/")


def _form_xsrf_ok(handler: RequestHandler) -> bool:
    sent = handler.get_body_argument("_xsrf", "")
    expected = cookie(handler.request, XSRF_COOKIE) or ""
    return bool(sent and expected) and hmac.compare_digest(
        sent.encode(), expected.encode()
    )


class SessionHandler(JsonHandler):
    """``GET /api/v1/session``: whether this browser may act, and must log in to read."""

    def get(self) -> None:
        """Answer ``{logged_in, write_allowed, protect_reads, login_url}``."""
        auth = self.context.auth
        logged_in = auth.logged_in(self.request)
        self.write_json(
            {
                "logged_in": logged_in,
                "write_allowed": logged_in,
                "protect_reads": auth.protect_reads,
                "login_url": "/login?next=" + quote("/", safe="/"),
            }
        )


def routes(context: ServerContext) -> list[Any]:
    """Return the visualiser's routes."""
    kwargs = {"context": context}
    return [
        (r"/", IndexHandler, kwargs),
        (r"/login", LoginHandler, kwargs),
        (r"/logout", LogoutHandler, kwargs),
        (rf"{PREFIX}/session", SessionHandler, kwargs),
        (r"/static/shared/(.*)", AssetHandler, {"path": str(SHARED)}),
        (r"/static/(.*)", AssetHandler, {"path": str(STATIC)}),
    ]


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "AssetHandler",
    "IndexHandler",
    "LoginHandler",
    "LogoutHandler",
    "SessionHandler",
    "routes",
]
