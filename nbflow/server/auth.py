"""Who may call the server: one shared token, checked in constant time.

A request presents the token in one of three ways:

- ``Authorization: Bearer TOKEN`` (nbflow's own client, curl, the visualiser's fetches);
- HTTP basic auth with the token as the password, any user name (Luigi's client sends
  ``http://user:TOKEN@host:port`` this way, and nbflow's client accepts such URLs too);
- ``?token=TOKEN`` in the query, only where a browser cannot set a header: the event
  stream (``EventSource``). Elsewhere a query token is ignored, so tokens do not end up
  in access logs and browser histories by accident;
- the visualiser's session cookie (:data:`SESSION_COOKIE`), set by its login page. The
  cookie holds not the token but an HMAC of it (:meth:`TokenAuth.session_value`), so a
  new token ends every session. A state change authorised by the cookie must also carry
  the header ``X-XSRF-Token`` equal to the ``_xsrf`` cookie (double submit): another
  site can make a browser send the cookie, but cannot read it to copy it into a header.

State changes always need the token; reads need it only when the server is bound to a
non-loopback address (``protect_reads``). No token presented answers 401, a wrong one 403.

When the user gives no token, :func:`new_token_file` makes one and writes it to a file
only the user can read, in nbflow's data folder.

Imports: stdlib only (tornado's request is duck-typed).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.core.errors import DefinitionError
from nbflow.core.remote import TOKEN_FILE_NAME, data_dir

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


#: The visualiser's session cookie (HttpOnly, SameSite=Strict).
SESSION_COOKIE = "nbflow_session"
#: The double-submit cookie the visualiser's scripts copy into :data:`XSRF_HEADER`.
XSRF_COOKIE = "_xsrf"
#: The header a cookie-authorised state change carries.
XSRF_HEADER = "X-XSRF-Token"


class _Request(Protocol):
    """The part of a tornado ``HTTPServerRequest`` that authentication reads."""

    @property
    def cookies(self) -> Mapping[str, Any]:
        """The request's cookies (``http.cookies.Morsel`` values)."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The request's headers."""

    @property
    def query_arguments(self) -> Mapping[str, list[bytes]]:
        """The query's arguments, by name."""


@dataclass(frozen=True)
class AuthFailure:
    """Why a request was refused: HTTP ``status`` (401 or 403) and a message."""

    status: int
    message: str


_MISSING = AuthFailure(
    401,
    "this call needs the server's token. Fix: send the header 'Authorization: Bearer "
    "TOKEN' (or HTTP basic auth with the token as password); `nbflow server` printed "
    "the token at start and wrote it to its token file",
)
_EXPIRED = AuthFailure(
    403,
    "the visualiser's session is not valid (the server's token changed since you "
    "logged in). Fix: log in again at /login",
)
_NO_XSRF = AuthFailure(
    403,
    "a change made with the visualiser's session cookie needs the header "
    f"'{XSRF_HEADER}' equal to the '{XSRF_COOKIE}' cookie. Fix: reload the page; "
    "scripts should send the token instead ('Authorization: Bearer TOKEN')",
)
_WRONG = AuthFailure(
    403,
    "the token sent is not the server's token. Fix: use the token `nbflow server` "
    "printed at start (or the one in its --token-file)",
)


class TokenAuth:
    """Check requests against the server's token (see the module docstring).

    Examples
    --------
    >>> class Request:
    ...     headers = {"Authorization": "Bearer s3cret"}
    ...     query_arguments = {}
    >>> auth = TokenAuth("s3cret")
    >>> auth.check(Request(), write=True) is None
    True
    >>> TokenAuth("other").check(Request(), write=True).status
    403
    """

    def __init__(self, token: str, *, protect_reads: bool = False) -> None:
        if not token:
            raise TokenError(
                "", "an empty token", "give a token of a few words' length"
            )
        self._token = token.encode()
        #: Whether reads need the token too (the server listens beyond loopback).
        self.protect_reads = protect_reads

    def is_valid(self, token: str | None) -> bool:
        """Return whether ``token`` is the server's token (constant time)."""
        if token is None:
            return False
        return hmac.compare_digest(token.encode(), self._token)

    def check(
        self, request: _Request, *, write: bool, query_token: bool = False
    ) -> AuthFailure | None:
        """Return None when ``request`` may go on, else why not.

        ``write``: the call changes state (a read is free on loopback);
        ``query_token``: accept ``?token=`` (the event stream only).
        """
        if not write and not self.protect_reads:
            return None
        token = presented_token(request, query_token=query_token)
        if token is not None:
            return None if self.is_valid(token) else _WRONG
        session = cookie(request, SESSION_COOKIE)
        if session is None:
            return _MISSING
        if not self.is_session(session):
            return _EXPIRED
        if write and not xsrf_matches(request):
            return _NO_XSRF
        return None

    def session_value(self) -> str:
        """Return the value of a valid session cookie: an HMAC of the token."""
        return hmac.new(self._token, b"nbflow visualiser session", "sha256").hexdigest()

    def is_session(self, value: str | None) -> bool:
        """Return whether ``value`` is a valid session cookie (constant time)."""
        if not value:
            return False
        return hmac.compare_digest(value.encode(), self.session_value().encode())

    def logged_in(self, request: _Request) -> bool:
        """Return whether ``request`` carries the token or a valid session cookie."""
        token = presented_token(request)
        if token is not None:
            return self.is_valid(token)
        return self.is_session(cookie(request, SESSION_COOKIE))


def cookie(request: _Request, name: str) -> str | None:
    """Return the value of the cookie ``name`` of ``request``, if sent."""
    morsel = request.cookies.get(name)
    if morsel is None:
        return None
    value = getattr(morsel, "value", morsel)
    return value if isinstance(value, str) else None


def xsrf_matches(request: _Request) -> bool:
    """Return whether the XSRF header equals the XSRF cookie (and both are set)."""
    header = request.headers.get(XSRF_HEADER, "")
    expected = cookie(request, XSRF_COOKIE) or ""
    return bool(header and expected) and hmac.compare_digest(
        header.encode(), expected.encode()
    )


def presented_token(request: _Request, *, query_token: bool = False) -> str | None:
    """Return the token a request carries (header, basic auth, or query), if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""  # presented, but not readable: a wrong token
        return decoded.partition(":")[2]
    if query_token:
        values = request.query_arguments.get("token")
        if values:
            return values[-1].decode(errors="replace")
    return None


# --- token files -----------------------------------------------------------------------


class TokenError(DefinitionError, ValueError):
    """A token or token file the server cannot use."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(where, problem, fix)
        self.where, self.problem, self.fix = where, problem, fix

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"nbflow server token:{where} {self.problem}. Fix: {self.fix}."


def read_token_file(path: Path) -> str:
    """Return the token kept in ``path`` (its first line, stripped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TokenError(
            str(path),
            f"cannot read the token file ({error.strerror or error})",
            "give an existing file with --token-file, or the token itself with --token",
        ) from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise TokenError(
            str(path), "the token file is empty", "write the token on its first line"
        )
    return token


def new_token_file(path: Path) -> str:
    """Make a new random token, write it to ``path`` readable only by the user (0600).

    The file is written whole under a temporary name and renamed, so a reader never
    sees half a token; the folder is created (0700) if missing.
    """
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return token


__all__ = [
    "SESSION_COOKIE",
    "TOKEN_FILE_NAME",
    "XSRF_COOKIE",
    "XSRF_HEADER",
    "AuthFailure",
    "TokenAuth",
    "TokenError",
    "cookie",
    "data_dir",
    "new_token_file",
    "presented_token",
    "read_token_file",
    "xsrf_matches",
]
