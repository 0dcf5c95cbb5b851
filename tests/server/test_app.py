"""The application's shell: 404/405 as JSON, body limits, CORS, security headers, auth modes."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from tests.server.live_server import TOKEN, LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'app.db'}", max_body=4096).start()
    yield live
    live.stop()


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[LiveServer]:
    """A server as if bound beyond loopback (reads need the token), with CORS."""
    live = LiveServer(
        f"sqlite:///{tmp_path / 'guarded.db'}",
        protect_reads=True,
        cors_origins=("https://ui.example",),
    ).start()
    yield live
    live.stop()


def test_app_unknown_path_is_a_json_404(server: LiveServer) -> None:
    reply = server.get("/api/v1/nothing/here")

    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["kind"] == "not_found"
    assert "/api/openapi.json" in reply.json()["error"]["message"]


def test_app_wrong_method_is_a_json_405(server: LiveServer) -> None:
    reply = server.request("PUT", "/api/v1/tasks", {"x": 1})
    get_on_post_only = server.get("/api/v1/scheduler/pause")

    assert reply.status == 405
    assert reply.json()["error"]["kind"] == "method_not_allowed"
    assert get_on_post_only.status == 405


def test_app_body_over_the_limit_is_413(server: LiveServer) -> None:
    reply = server.post("/api/v1/prune", raw=b'{"before": 1' + b"0" * 5000 + b"}")

    assert reply.status == 413
    assert "--max-body-size" in reply.json()["error"]["message"]


def test_app_far_too_large_body_is_cut_off(server: LiveServer) -> None:
    try:
        reply = server.post("/api/v1/prune", raw=b"x" * 200_000)
    except ConnectionError:  # tornado may hang up before the client sent it all
        return

    assert 400 <= reply.status < 500


def test_app_security_headers_and_no_cors_by_default(server: LiveServer) -> None:
    reply = server.get("/api/v1/tasks", headers={"Origin": "https://evil.example"})
    preflight = server.request(
        "OPTIONS", "/api/v1/tasks", headers={"Origin": "https://evil.example"}
    )

    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in reply.headers
    assert preflight.status == 405


def test_app_cors_for_a_configured_origin(guarded: LiveServer) -> None:
    allowed = guarded.get(
        "/api/v1/tasks", token=TOKEN, headers={"Origin": "https://ui.example"}
    )
    other = guarded.get(
        "/api/v1/tasks", token=TOKEN, headers={"Origin": "https://evil.example"}
    )
    preflight = guarded.request(
        "OPTIONS", "/api/v1/scheduler/pause", headers={"Origin": "https://ui.example"}
    )

    assert allowed.headers["access-control-allow-origin"] == "https://ui.example"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


def test_app_reads_need_the_token_beyond_loopback(guarded: LiveServer) -> None:
    missing = guarded.get("/api/v1/tasks")
    wrong = guarded.get("/api/v1/tasks", token="nope")  # noqa: S106
    right = guarded.get("/api/v1/tasks", token=TOKEN)
    metrics = guarded.get("/metrics")
    health = guarded.get("/healthz")

    assert missing.status == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status == 403
    assert right.status == 200
    assert metrics.status == 401
    assert health.status == 200  # probes stay open for orchestrators


def test_app_query_token_only_for_the_event_stream(guarded: LiveServer) -> None:
    listing = guarded.get(f"/api/v1/tasks?token={TOKEN}")
    stream_wrong = guarded.get("/api/v1/events?token=nope")

    assert listing.status == 401
    assert stream_wrong.status == 403


def test_app_basic_auth_password_is_the_token(guarded: LiveServer) -> None:
    def basic(password: str) -> dict[str, str]:
        encoded = base64.b64encode(f"anyone:{password}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}

    right = guarded.get("/api/v1/tasks", headers=basic(TOKEN))
    wrong = guarded.get("/api/v1/tasks", headers=basic("guess"))
    garbled = guarded.get("/api/v1/tasks", headers={"Authorization": "Basic !!!"})

    assert right.status == 200
    assert wrong.status == 403
    assert garbled.status == 403


def test_app_serves_luigid_protocol_with_the_token(guarded: LiveServer) -> None:
    refused = guarded.request(
        "POST",
        "/api/ping",
        raw=b"data=%7B%22worker%22%3A%22w%22%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert refused.status in (401, 403)
