"""The /api/v1 JSON API against a real server (host, SQLite file, tornado on a port)."""

from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.core.events import TaskFailed, TaskSpec, TaskSucceeded
from nbflow.server.feed import NotificationFeed
from tests.server.live_server import TOKEN, LiveServer, chain_specs, quote, submit

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

ODD_ID = "Odd/task?x=1&y=%20#frag é"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'api.db'}").start()
    yield live
    live.stop()


def _errors(reply: Any) -> dict[str, str]:
    error: dict[str, str] = reply.json()["error"]
    return error


# --- workers' calls ----------------------------------------------------------------


def test_api_worker_call_dispatches_and_follows_the_chain(server: LiveServer) -> None:
    first = submit(server, "w1", chain_specs("a", "b"))

    second = server.call("w1", [TaskSucceeded("a")], since=0).json()

    assert [a["task_id"] for a in first["actions"]] == ["a"]
    assert first["has_work"] is True
    assert [a["task_id"] for a in second["actions"]] == ["b"]
    assert second["seq"] >= first["seq"]
    kinds = {n["type"] for n in second["notifications"]}
    assert {"TaskAdded", "TaskStatusChanged"} <= kinds


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"events": [], "bogus": 1}', "unknown field(s) 'bogus'"),
        (b'{"events": {}}', "'events' must be a list"),
        (b'{"events": [{"type": "Nope"}]}', "unknown type 'Nope'"),
        (b'{"events": [{"type": "RunTask", "task_id": "a", "worker_id": "w"}]}',
         "not a scheduler event"),
        (b'{"wait": 31}', "'wait' must be a number of seconds from 0 to 30"),
        (b'{"wait": true}', "'wait' must be"),
        (b'{"since": -1}', "'since' must be a notification seq"),
        (b'{"running": [1]}', "'running' must be a list of task ids"),
    ],
)  # fmt: skip
def test_api_worker_call_refuses_bad_bodies_with_400(
    server: LiveServer, raw: bytes, fragment: str
) -> None:
    reply = server.post("/api/v1/workers/w1/calls", raw=raw)

    assert reply.status == 400
    assert _errors(reply)["kind"] == "bad_request"
    assert fragment in _errors(reply)["message"]


def test_api_worker_call_about_an_unknown_task_is_rejected(server: LiveServer) -> None:
    reply = server.call("w1", [TaskSucceeded("never-added")])

    assert reply.status == 409
    assert _errors(reply)["kind"] == "rejected"
    assert "never-added" in _errors(reply)["message"]


def test_api_worker_long_poll_returns_when_work_arrives(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))
    server.call("w2", [], wait=0)  # w2 is unknown: an empty call
    began = time.monotonic()

    reply = server.call("w1", [], wait=0.5).json()  # w1 runs a, nothing new for it

    assert reply["actions"] == []
    assert time.monotonic() - began >= 0.4


# --- tasks -------------------------------------------------------------------------


def _mixed(server: LiveServer) -> None:
    specs = (
        TaskSpec("a1", "Alpha", params=(("day", "2024-01-01"),)),
        TaskSpec("a2", "Alpha", params=(("day", "2024-01-02"),)),
        TaskSpec("b1", "Beta", deps=("a1", "a2")),
        TaskSpec(ODD_ID, "Odd", deps=("b1",)),
    )
    submit(server, "w1", specs)  # a1 runs on w1 (one slot)


def test_api_tasks_filter_sort_page_and_count(server: LiveServer) -> None:
    _mixed(server)

    everything = server.get("/api/v1/tasks").json()
    alpha = server.get("/api/v1/tasks?family=Alpha&sort=-id").json()
    pending_alpha = server.get("/api/v1/tasks?family=Alpha&status=pending").json()
    searched = server.get("/api/v1/tasks?search=01-02").json()
    page1 = server.get("/api/v1/tasks?limit=3").json()
    page2 = server.get(f"/api/v1/tasks?limit=3&cursor={page1['next_cursor']}").json()

    assert everything["total"] == 4
    assert everything["counts"] == {"RUNNING": 1, "PENDING": 3}
    assert [t["task_id"] for t in alpha["tasks"]] == ["a2", "a1"]
    assert [t["task_id"] for t in pending_alpha["tasks"]] == ["a2"]
    assert pending_alpha["counts"] == {"RUNNING": 1, "PENDING": 1}  # ignores status
    assert [t["task_id"] for t in searched["tasks"]] == ["a2"]
    assert len(page1["tasks"]) == 3
    assert [t["task_id"] for t in page2["tasks"]] == [ODD_ID]
    assert page2["next_cursor"] is None
    assert everything["seq"] == server.host.feed.last


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("status=NOPE", "not a task status"),
        ("sort=size", "not a sort key"),
        ("limit=0", "limit='0'"),
        ("limit=abc", "limit='abc'"),
        ("cursor=-4", "not a cursor"),
    ],
)
def test_api_tasks_bad_query_is_400(
    server: LiveServer, query: str, fragment: str
) -> None:
    reply = server.get(f"/api/v1/tasks?{query}")

    assert reply.status == 400
    assert fragment in _errors(reply)["message"]


def test_api_task_detail_with_any_characters_in_the_id(server: LiveServer) -> None:
    _mixed(server)

    detail = server.get(f"/api/v1/tasks/{quote(ODD_ID)}").json()
    b1 = server.get("/api/v1/tasks/b1").json()
    missing = server.get(f"/api/v1/tasks/{quote('no/such')}")

    assert detail["task"]["task_id"] == ODD_ID
    assert detail["task"]["status"] == "PENDING"
    assert b1["dependents"] == [ODD_ID]
    assert missing.status == 404
    assert "no/such" in _errors(missing)["message"]


def test_api_graph_upstream_downstream_and_depth(server: LiveServer) -> None:
    _mixed(server)

    up = server.get(f"/api/v1/tasks/{quote(ODD_ID)}/graph").json()
    shallow = server.get(f"/api/v1/tasks/{quote(ODD_ID)}/graph?depth=1").json()
    down = server.get("/api/v1/tasks/a1/graph?direction=downstream").json()
    capped = server.get("/api/v1/tasks/b1/graph?direction=both&limit=2").json()

    assert {n["task_id"] for n in up["nodes"]} == {ODD_ID, "b1", "a1", "a2"}
    assert sorted(map(tuple, up["edges"])) == sorted(
        [(ODD_ID, "b1"), ("b1", "a1"), ("b1", "a2")]
    )
    assert {n["task_id"] for n in shallow["nodes"]} == {ODD_ID, "b1"}
    assert {n["task_id"] for n in down["nodes"]} == {"a1", "b1", ODD_ID}
    assert len(capped["nodes"]) == 2
    assert capped["truncated"] is True


# --- admin actions -----------------------------------------------------------------


def test_api_mark_done_lets_dependents_run(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b", "c"))

    reply = server.post("/api/v1/tasks/b/mark-done").json()
    after = server.call("w1", [TaskSucceeded("a")]).json()

    assert reply["task"]["status"] == "DONE"
    assert [a["task_id"] for a in after["actions"]] == ["c"]


def test_api_forgive_and_retry_a_failed_task(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a"))
    server.call("w1", [TaskFailed("a", error="boom")])

    forgiven = server.post("/api/v1/tasks/a/forgive").json()
    again = server.post("/api/v1/tasks/a/forgive")
    server.call("w1", [TaskFailed("a", error="boom again")])
    reenabled = server.post("/api/v1/tasks/a/reenable").json()  # FAILED too (luigid)

    assert forgiven["task"]["status"] in ("PENDING", "RUNNING")
    assert again.status == 409
    assert "forgive needs a task that is FAILED" in _errors(again)["message"]
    assert reenabled["task"]["status"] in ("PENDING", "RUNNING")


def test_api_retry_a_failed_task_runs_it_again(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a"))
    server.call("w1", [TaskFailed("a", error="boom")])

    reply = server.post("/api/v1/tasks/a/retry").json()
    work = server.call("w1", []).json()

    assert reply["task"]["failures"] == 0
    assert [a["task_id"] for a in work["actions"]] == ["a"]


def test_api_action_on_unknown_task_is_404(server: LiveServer) -> None:
    reply = server.post(f"/api/v1/tasks/{quote('x/y')}/forgive")

    assert reply.status == 404


def test_api_pause_stops_dispatch_until_resumed(server: LiveServer) -> None:
    paused = server.post("/api/v1/scheduler/pause").json()
    first = submit(server, "w1", chain_specs("a"))

    resumed = server.post("/api/v1/scheduler/resume").json()
    later = server.call("w1", []).json()

    assert paused["paused"] is True
    assert first["actions"] == []
    assert resumed["paused"] is False
    assert [a["task_id"] for a in later["actions"]] == ["a"]


def test_api_prune_forgets_old_finished_tasks(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a"))
    server.call("w1", [TaskSucceeded("a")])

    bad = server.post("/api/v1/prune", {"before": "yesterday"})
    reply = server.post("/api/v1/prune", {"before": time.time() + 10}).json()

    assert bad.status == 400
    assert reply["pruned"] == 1
    assert server.get("/api/v1/tasks/a").status == 404


def test_api_scheduler_and_workers(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))

    state = server.get("/api/v1/scheduler").json()
    workers = server.get("/api/v1/workers").json()["workers"]

    assert state["tasks"] == 2
    assert state["counts"] == {"RUNNING": 1, "PENDING": 1}
    assert state["workers"] == 1
    assert state["paused"] is False
    assert [(w["worker_id"], w["running"]) for w in workers] == [("w1", ["a"])]


# --- history -----------------------------------------------------------------------


def test_api_history_lists_and_shows_runs(server: LiveServer) -> None:
    specs = (TaskSpec("h1", "Hist", params=(("day", "2024-05-01"),)),)
    submit(server, "w1", specs)
    server.call("w1", [TaskSucceeded("h1")])
    assert server.writer.flush(timeout=30)

    runs = server.get("/api/v1/history/runs?family=Hist").json()
    by_param = server.get("/api/v1/history/runs?param.day=2024-05-01").json()
    no_match = server.get("/api/v1/history/runs?param.day=1999-01-01").json()
    one = server.get(f"/api/v1/history/runs/{runs['runs'][0]['id']}").json()

    assert [r["task_id"] for r in runs["runs"]] == ["h1"]
    assert [r["task_id"] for r in by_param["runs"]] == ["h1"]
    assert no_match["runs"] == []
    assert one["status"] == "DONE"
    assert [s["status"] for s in one["states"]][-1] == "DONE"
    assert server.get("/api/v1/history/runs/999999").status == 404
    assert server.get("/api/v1/history/runs/abc").status == 404
    assert server.get("/api/v1/history/runs?since=soon").status == 400
    assert server.get("/api/v1/history/runs?cursor=x").status == 400


# --- the event stream --------------------------------------------------------------


def _read_events(
    server: LiveServer, path: str, count: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Read ``count`` events (id, event, data) from the stream, then hang up."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    reply = connection.getresponse()
    assert reply.status == 200, reply.read()
    assert reply.getheader("Content-Type", "").startswith("text/event-stream")
    found: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    try:
        while len(found) < count:
            line = reply.readline().decode().rstrip("\n")
            if not line:
                if "data" in current:
                    found.append(current)
                current = {}
                continue
            name, _, value = line.partition(": ")
            if name in ("id", "event"):
                current[name] = value
            elif name == "data":
                current["data"] = json.loads(value)
    finally:
        connection.close()
    return found


def test_api_events_stream_and_resume(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))
    server.call("w1", [TaskSucceeded("a")])
    last = server.host.feed.last

    everything = _read_events(server, "/api/v1/events?since=0", last)
    resumed = _read_events(
        server, "/api/v1/events", last - 2, headers={"Last-Event-ID": "2"}
    )

    assert [int(e["id"]) for e in everything] == list(range(1, last + 1))
    assert everything[0]["data"]["type"] == "TaskAdded"
    assert [int(e["id"]) for e in resumed] == list(range(3, last + 1))


def test_api_events_live_notifications_arrive(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))
    start = server.host.feed.last
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", f"/api/v1/events?since={start}")
    reply = connection.getresponse()
    assert [reply.readline(), reply.readline()] == [b"retry: 2000\n", b"\n"]

    server.call("w1", [TaskSucceeded("a")])
    lines = [reply.readline() for _ in range(3)]
    connection.close()

    assert lines[0] == f"id: {start + 1}\n".encode()
    assert json.loads(lines[1].removeprefix(b"data: "))["task_id"] == "a"


def test_api_events_reset_when_the_seq_is_gone(tmp_path: Path) -> None:
    live = LiveServer(f"sqlite:///{tmp_path / 'reset.db'}")
    live.start()
    try:
        live.host.feed = NotificationFeed(capacity=2)
        submit(live, "w1", chain_specs("a", "b", "c"))
        last = live.host.feed.last

        events = _read_events(live, "/api/v1/events?since=0", 1)
        future = _read_events(live, f"/api/v1/events?since={last + 100}", 1)
        bad = live.get("/api/v1/events?since=abc")
    finally:
        live.stop()

    assert events[0]["event"] == "reset"
    assert events[0]["data"] == {"seq": last, "oldest": last - 1}
    assert future[0]["event"] == "reset"
    assert bad.status == 400


# --- metrics and probes ----------------------------------------------------------


def test_api_metrics_count_tasks_runs_and_workers(server: LiveServer) -> None:
    submit(server, "w1", chain_specs("a", "b"))
    server.call("w1", [TaskSucceeded("a")])

    text = server.get("/metrics").body.decode()

    assert 'nbflow_tasks{family="Step",status="DONE"} 1.0' in text
    assert 'nbflow_tasks{family="Step",status="RUNNING"} 1.0' in text
    assert "nbflow_workers_alive 1.0" in text
    assert "nbflow_queue_depth 0.0" in text
    assert 'nbflow_task_run_seconds_count{status="DONE"} 1.0' in text
    assert "nbflow_scheduler_batch_seconds_count" in text
    assert "nbflow_history_queue" in text


def test_api_probes(server: LiveServer) -> None:
    assert server.get("/healthz").json() == {"status": "ok"}
    assert server.get("/readyz").json() == {
        "ready": True,
        "checks": {"scheduler": True, "database": True},
    }


def test_api_readyz_is_503_when_the_scheduler_stopped(tmp_path: Path) -> None:
    live = LiveServer(f"sqlite:///{tmp_path / 'stop.db'}").start()
    try:
        live.host.stop()

        ready = live.get("/readyz")
        tasks = live.get("/api/v1/tasks")
    finally:
        live.stop()

    assert ready.status == 503
    assert ready.json()["checks"]["scheduler"] is False
    assert tasks.status == 503
    assert _errors(tasks)["kind"] == "unavailable"


def test_api_token_is_required_for_changes_only_on_loopback(server: LiveServer) -> None:
    assert server.get("/api/v1/tasks").status == 200
    assert server.post("/api/v1/scheduler/pause", token=None).status == 401
    assert server.post("/api/v1/scheduler/pause", token=TOKEN + "x").status == 403
