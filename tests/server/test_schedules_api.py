"""/api/v1/schedules on a real server: listing, changes, tokens, XSRF, the document."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest
from jsonschema import Draft202012Validator

from nbflow.server.schedule_store import ScheduleStore
from nbflow.server.schedules import Schedule
from nbflow.server.trigger import Trigger
from tests.server.live_server import TOKEN, LiveServer
from tests.server.schedule_fakes import FakeClock, RecordingLauncher, at

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

DAILY = Schedule("daily", "0 2 * * *", "Report", module="jobs")


def start(tmp_path: Path, **options: Any) -> tuple[LiveServer, Trigger]:
    live = LiveServer(f"sqlite:///{tmp_path / 'schedules.db'}", **options).start()
    trigger = Trigger(
        ScheduleStore(live.store),
        RecordingLauncher(),
        schedules=[DAILY],
        clock=FakeClock(at("2024-01-01T10:30:00")),
        log_dir=tmp_path / "logs",
    )
    trigger.load()
    live.app.settings["nbflow_context"].extras["trigger"] = trigger
    return live, trigger


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live, _ = start(tmp_path)
    yield live
    live.stop()


def conforms(server: LiveServer, body: Any, schema: str) -> list[str]:
    """Return what in ``body`` breaks the OpenAPI document's ``schema`` (none: [])."""
    document = server.get("/api/openapi.json").json()
    root = {"$ref": f"#/components/schemas/{schema}", **document}
    return [error.message for error in Draft202012Validator(root).iter_errors(body)]


def test_schedules_api_lists_each_schedule_with_its_next_fire(
    server: LiveServer,
) -> None:
    reply = server.get("/api/v1/schedules")

    assert reply.status == 200
    body = reply.json()
    (daily,) = body["schedules"]
    assert (daily["name"], daily["cron"], daily["task"]) == (
        "daily",
        "0 2 * * *",
        "Report",
    )
    assert daily["next_fire"] == at("2024-01-02T02:00:00")
    assert daily["next_value"] == "2024-01-01"
    assert daily["last_fire"] is None
    assert daily["paused"] is False
    assert body["read_only"] is False
    assert conforms(server, body, "ScheduleList") == []


def test_schedules_api_adds_pauses_resumes_and_removes(server: LiveServer) -> None:
    definition = {
        "name": "hourly-eu",
        "cron": "0 * * * *",
        "task": "Load",
        "module": "pipeline.jobs",
        "params": {"region": "<b>eu</b>"},
        "catch_up": "latest",
    }

    added = server.post("/api/v1/schedules", definition)
    paused = server.post("/api/v1/schedules/hourly-eu/pause")
    resumed = server.post("/api/v1/schedules/hourly-eu/resume")
    detail = server.get("/api/v1/schedules/hourly-eu")
    removed = server.post("/api/v1/schedules/hourly-eu/remove")
    after = server.get("/api/v1/schedules/hourly-eu")

    assert added.status == 200, added.body
    assert added.json()["params"] == {"region": "<b>eu</b>"}  # data, never markup
    assert added.json()["source"] == "api"
    assert (paused.json()["paused"], resumed.json()["paused"]) == (True, False)
    assert conforms(server, detail.json(), "ScheduleDetail") == []
    assert removed.json() == {"removed": "hourly-eu"}
    assert after.status == 404
    assert "no schedule named 'hourly-eu'" in after.json()["error"]["message"]


def test_schedules_api_refuses_bad_definitions_with_the_fix(server: LiveServer) -> None:
    bad_cron = server.post(
        "/api/v1/schedules", {"name": "x", "cron": "0 0 * *", "task": "T"}
    )
    unknown = server.post(
        "/api/v1/schedules", {"name": "x", "cron": "@daily", "task": "T", "crn": 1}
    )
    taken = server.post(
        "/api/v1/schedules", {"name": "daily", "cron": "@daily", "task": "T"}
    )
    config_one = server.post("/api/v1/schedules/daily/remove")

    assert bad_cron.status == 400
    message = bad_cron.json()["error"]["message"]
    assert "the schedule sent cron: invalid value (got '0 0 * *')" in message
    assert "Fix: correct the expression" in message
    assert unknown.status == 400
    assert "unknown field(s) 'crn'" in unknown.json()["error"]["message"]
    assert taken.status == 409
    assert config_one.status == 409
    assert "[schedule.daily]" in config_one.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/schedules"),
        ("POST", "/api/v1/schedules/daily/pause"),
        ("POST", "/api/v1/schedules/daily/resume"),
        ("POST", "/api/v1/schedules/daily/remove"),
    ],
)
def test_schedules_api_changes_need_the_token(
    server: LiveServer, method: str, path: str
) -> None:
    body = {"name": "x", "cron": "@daily", "task": "T"}

    missing = server.request(method, path, body)
    wrong = server.request(method, path, body, token=TOKEN + "-wrong")

    assert (missing.status, wrong.status) == (401, 403)
    listed = server.get("/api/v1/schedules").json()["schedules"]
    assert [(s["name"], s["paused"]) for s in listed] == [("daily", False)]


def test_schedules_api_session_cookie_needs_the_xsrf_header(server: LiveServer) -> None:
    session = server.app.settings["nbflow_context"].auth.session_value()
    cookies = f"nbflow_session={session}; _xsrf=abc123"

    without = server.request(
        "POST", "/api/v1/schedules/daily/pause", headers={"Cookie": cookies}
    )
    with_header = server.request(
        "POST",
        "/api/v1/schedules/daily/pause",
        headers={"Cookie": cookies, "X-XSRF-Token": "abc123"},
    )

    assert without.status == 403
    assert "X-XSRF-Token" in without.json()["error"]["message"]
    assert with_header.status == 200
    assert with_header.json()["paused"] is True


def test_schedules_api_reads_need_the_token_beyond_loopback(tmp_path: Path) -> None:
    live, _ = start(tmp_path, protect_reads=True)
    try:
        anonymous = live.get("/api/v1/schedules")
        with_token = live.get("/api/v1/schedules", token=TOKEN)
    finally:
        live.stop()

    assert anonymous.status == 401
    assert with_token.status == 200


def test_schedules_api_read_only_refuses_adding_but_pauses(tmp_path: Path) -> None:
    live, trigger = start(tmp_path)
    trigger.read_only = True
    try:
        added = live.post(
            "/api/v1/schedules", {"name": "x", "cron": "@daily", "task": "T"}
        )
        paused = live.post("/api/v1/schedules/daily/pause")
    finally:
        live.stop()

    assert added.status == 403
    assert "--read-only-schedules" in added.json()["error"]["message"]
    assert paused.status == 200


def test_schedules_api_without_a_trigger_answers_404(tmp_path: Path) -> None:
    live = LiveServer(f"sqlite:///{tmp_path / 'none.db'}").start()
    try:
        reply = live.get("/api/v1/schedules")
        named = live.get("/api/v1/schedules/" + urllib.parse.quote("a/b", safe=""))
    finally:
        live.stop()

    assert reply.status == 404
    assert "runs no schedules" in reply.json()["error"]["message"]
    assert named.status == 404
