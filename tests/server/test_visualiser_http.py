"""The visualiser's HTTP side: pages and assets with their policy, logging in and out,
the session cookie and its XSRF rule (the pages themselves: tests/browser)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.server.visualiser import CONTENT_SECURITY_POLICY
from tests.server.live_server import TOKEN, LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator


class Browser:
    """Just enough of a browser: keeps cookies, follows no redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes, list[str]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        set_cookies = response.headers.get_all("Set-Cookie") or []
        for line in set_cookies:
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(line)
            for name, morsel in parsed.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        connection.close()
        return response.status, dict(response.headers.items()), data, set_cookies

    def form(self, path: str, **fields: str) -> tuple[int, dict[str, str], bytes]:
        body = urllib.parse.urlencode(fields).encode()
        status, headers, data, _ = self.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status, headers, data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("visualiser")
    live = LiveServer(f"sqlite:///{folder / 'v.db'}", history=False).start()
    yield live
    live.stop()


@pytest.fixture
def browser(server: LiveServer) -> Browser:
    return Browser(server.port)


def _logged_in(browser: Browser) -> None:
    status, *_ = browser.request("GET", "/login")
    assert status == 200
    status, headers, _ = browser.form(
        "/login", token=TOKEN, _xsrf=browser.cookies["_xsrf"], next="/#/workers"
    )
    assert (status, headers["Location"]) == (302, "/#/workers")


def test_index_and_assets_carry_the_content_security_policy(browser: Browser) -> None:
    status, headers, body, _ = browser.request("GET", "/")
    assert status == 200
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert b'type="module"' in body
    assert "_xsrf" in browser.cookies

    status, headers, body, _ = browser.request("GET", "/static/shared/graph.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert b"export" in body


def test_assets_outside_the_static_folders_are_not_served(browser: Browser) -> None:
    for path in ("/static/../visualiser.py", "/static/%2e%2e/visualiser.py"):
        status, *_ = browser.request("GET", path)
        assert status in (403, 404), path


def test_login_with_the_wrong_token_is_refused_and_sets_no_session(
    browser: Browser,
) -> None:
    browser.request("GET", "/login")
    status, _, body = browser.form(
        "/login",
        token="not-it",  # noqa: S106
        _xsrf=browser.cookies["_xsrf"],
        next="/",
    )
    assert status == 403
    assert b"not the server&#x27;s token" in body
    assert "nbflow_session" not in browser.cookies


def test_login_form_without_its_xsrf_field_is_refused(browser: Browser) -> None:
    browser.request("GET", "/login")
    status, _, body = browser.form("/login", token=TOKEN, next="/")
    assert status == 403
    assert b"expired" in body
    assert "nbflow_session" not in browser.cookies


def test_login_sets_an_httponly_strict_cookie_that_is_not_the_token(
    server: LiveServer, browser: Browser
) -> None:
    browser.request("GET", "/login")
    status, _, _, set_cookies = browser.request(
        "POST",
        "/login",
        urllib.parse.urlencode(
            {"token": TOKEN, "_xsrf": browser.cookies["_xsrf"], "next": "/"}
        ).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302
    session = next(line for line in set_cookies if line.startswith("nbflow_session="))
    assert "HttpOnly" in session
    assert "SameSite=Strict" in session
    assert TOKEN not in session
    _, _, body, _ = browser.request("GET", "/api/v1/session")
    assert json.loads(body)["write_allowed"] is True


def test_login_never_redirects_off_the_server(browser: Browser) -> None:
    browser.request("GET", "/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        status, headers, _ = browser.form(
            "/login", token=TOKEN, _xsrf=browser.cookies["_xsrf"], next=target
        )
        assert (status, headers["Location"]) == (302, "/"), target


def test_a_change_by_cookie_needs_the_xsrf_header(
    server: LiveServer, browser: Browser
) -> None:
    _logged_in(browser)
    status, _, body, _ = browser.request("POST", "/api/v1/scheduler/pause", b"")
    assert status == 403
    assert "X-XSRF-Token" in json.loads(body)["error"]["message"]

    wrong = {"X-XSRF-Token": "guess"}
    status, *_ = browser.request("POST", "/api/v1/scheduler/pause", b"", wrong)
    assert status == 403
    assert server.host.read(lambda s: s.paused) is False

    right = {"X-XSRF-Token": browser.cookies["_xsrf"]}
    status, *_ = browser.request("POST", "/api/v1/scheduler/pause", b"", right)
    assert status == 200
    assert server.host.read(lambda s: s.paused) is True
    status, *_ = browser.request("POST", "/api/v1/scheduler/resume", b"", right)
    assert status == 200
    assert server.host.read(lambda s: s.paused) is False


def test_a_forged_session_cookie_is_refused(browser: Browser) -> None:
    browser.request("GET", "/")
    browser.cookies["nbflow_session"] = "0" * 64
    headers = {"X-XSRF-Token": browser.cookies["_xsrf"]}
    status, _, body, _ = browser.request(
        "POST", "/api/v1/scheduler/pause", b"", headers
    )
    assert status == 403
    assert "log in again" in json.loads(body)["error"]["message"]
    _, _, body, _ = browser.request("GET", "/api/v1/session")
    assert json.loads(body)["logged_in"] is False


def test_logout_ends_the_session(browser: Browser) -> None:
    _logged_in(browser)
    status, *_ = browser.form("/logout", _xsrf=browser.cookies["_xsrf"])
    assert status == 302
    assert "nbflow_session" not in browser.cookies
    _, _, body, _ = browser.request("GET", "/api/v1/session")
    assert json.loads(body) == {
        "logged_in": False,
        "write_allowed": False,
        "protect_reads": False,
        "login_url": "/login?next=/",
    }


def test_login_page_escapes_what_it_echoes(browser: Browser) -> None:
    status, _, body, _ = browser.request(
        "GET", "/login?next=" + urllib.parse.quote('/"><script>alert(1)</script>')
    )
    assert status == 200
    assert b"<script>" not in body
    assert b"&quot;&gt;&lt;script&gt;" in body


@pytest.fixture
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("protected")
    live = LiveServer(
        f"sqlite:///{folder / 'p.db'}", protect_reads=True, history=False
    ).start()
    yield live
    live.stop()


def test_where_reads_need_the_token_the_page_asks_to_log_in_first(
    protected: LiveServer,
) -> None:
    browser = Browser(protected.port)
    status, headers, *_ = browser.request("GET", "/")
    assert (status, headers["Location"]) == (302, "/login")
    status, *_ = browser.request("GET", "/api/v1/tasks")
    assert status == 401

    _logged_in(browser)
    status, _, body, _ = browser.request("GET", "/api/v1/tasks")
    assert status == 200
    page: Any = json.loads(body)
    assert page["tasks"] == []
    status, *_ = browser.request("GET", "/")
    assert status == 200
