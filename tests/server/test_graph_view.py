"""GET /api/v1/tasks/{task_id}/drawing against a real server (host, SQLite, tornado)."""

from __future__ import annotations

import gzip
import html
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.core.events import TaskSpec, TaskSucceeded
from tests.server.live_server import LiveServer, quote, submit

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from nbflow.core.drawing import LayoutCache

pytestmark = pytest.mark.server

ODD_ID = 'Odd/<b>"x"</b>?y=%20&z'


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'drawing.db'}", history=False).start()
    yield live
    live.stop()


def _fan_in(parts: int) -> tuple[TaskSpec, ...]:
    """``parts`` Part tasks, each requiring one Load, all required by one Join."""
    loads = [TaskSpec("load", "Load", params=(("n", "0"),))]
    part_ids = [f"part-{i}" for i in range(parts)]
    specs = [
        TaskSpec(task_id, "Part", params=(("i", str(i)),), deps=("load",))
        for i, task_id in enumerate(part_ids)
    ]
    join = TaskSpec("join", "Join", params=(), deps=tuple(part_ids))
    return (*loads, *specs, join)


def _drawing(server: LiveServer, task_id: str, query: str = "") -> Any:
    reply = server.get(f"/api/v1/tasks/{quote(task_id)}/drawing{query}")
    assert reply.status == 200, reply.body
    return reply.json()


def _node_ids(svg: str) -> set[str]:
    found = re.findall(r'class="node [^"]*">\s*<title>(.*?)</title>', svg)
    return {html.unescape(title) for title in found}


def _cache(server: LiveServer) -> LayoutCache:
    cache: LayoutCache = server.app.settings["nbflow_context"].extras["layouts"]
    return cache


def test_drawing_small_graph_draws_each_task_with_its_state(server: LiveServer) -> None:
    submit(server, "w1", _fan_in(3))
    server.call("w1", [TaskSucceeded("load")])

    drawing = _drawing(server, "join")

    assert drawing["node_of"] == {
        task_id: task_id for task_id in ("load", "part-0", "part-1", "part-2", "join")
    }
    assert drawing["states"]["load"] == "DONE"
    assert drawing["states"]["join"] == "PENDING"
    assert drawing["shares"] == {}
    assert _node_ids(drawing["svg"]) == set(drawing["node_of"])
    assert drawing["truncated"] is False
    assert drawing["seq"] > 0
    assert drawing["engine"] in ("dot", "fallback")


def test_drawing_groups_families_above_group_above_and_expands_named_ones(
    server: LiveServer,
) -> None:
    submit(server, "w1", _fan_in(40))
    server.call("w1", [TaskSucceeded("load")])  # part-0 runs next (one slot)
    server.call("w1", [TaskSucceeded("part-0")])

    grouped = _drawing(server, "join", "?group_above=10")
    expanded = _drawing(server, "join", "?group_above=10&expand=Part")

    assert set(grouped["node_of"].values()) == {
        "family:Load",
        "family:Part",
        "family:Join",
    }
    assert grouped["shares"]["family:Part"]["DONE"] == 1
    assert sum(grouped["shares"]["family:Part"].values()) == 40
    assert grouped["states"]["family:Part"] == "RUNNING"  # part-1 runs (one slot)
    assert 'class="nbflow-share DONE"' in grouped["svg"]
    assert expanded["node_of"]["part-7"] == "part-7"
    assert expanded["node_of"]["join"] == "family:Join"
    assert expanded["states"]["part-0"] == "DONE"
    assert "family:Part" not in expanded["shares"]
    assert _node_ids(expanded["svg"]) == {"family:Load", "family:Join"} | {
        f"part-{i}" for i in range(40)
    }


def test_drawing_directions_hide_done_and_limit(server: LiveServer) -> None:
    submit(server, "w1", _fan_in(3))
    server.call("w1", [TaskSucceeded("load")])  # part-0 runs next (one slot)
    server.call("w1", [TaskSucceeded("part-0")])

    down = _drawing(server, "part-1", "?direction=downstream")
    both = _drawing(server, "part-1", "?direction=both")
    hiding = _drawing(server, "join", "?hide_done=1")
    capped = _drawing(server, "join", "?limit=2")

    assert set(down["node_of"]) == {"part-1", "join"}
    assert set(both["node_of"]) == {"part-1", "join", "load", "part-0", "part-2"}
    assert set(hiding["node_of"]) == {"part-1", "part-2", "join"}
    assert hiding["hidden"] == 2
    assert len(capped["node_of"]) == 2
    assert capped["truncated"] is True


def test_drawing_reload_uses_the_cached_layout_until_the_graph_changes(
    server: LiveServer,
) -> None:
    submit(server, "w1", _fan_in(3))
    first = _drawing(server, "join")
    made = _cache(server).made

    server.call("w1", [TaskSucceeded("load")])
    again = _drawing(server, "join")
    made_again = _cache(server).made
    before = _drawing(server, "join", "?direction=both")
    submit(server, "w1", (TaskSpec("late", "Late", deps=("join",)),))
    grown = _drawing(server, "join", "?direction=both")

    assert made_again == made  # a reload while the run progresses: no new layout
    assert again["svg"] == first["svg"]
    assert again["states"]["load"] == "DONE"
    assert first["states"]["load"] == "RUNNING"
    assert "late" not in before["node_of"]
    assert "late" in grown["node_of"]
    assert _cache(server).made == made + 2  # both directions, then the grown graph


def test_drawing_escapes_ids_and_labels(server: LiveServer) -> None:
    submit(
        server,
        "w1",
        (TaskSpec(ODD_ID, "Odd", params=(("v", "<img src=x onerror=alert(1)>"),)),),
    )

    drawing = _drawing(server, ODD_ID)

    assert drawing["node_of"] == {ODD_ID: ODD_ID}
    assert "<img" not in drawing["svg"]
    assert "<b>" not in drawing["svg"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in drawing["svg"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("?direction=sideways", "direction='sideways'"),
        ("?hide_done=maybe", "hide_done='maybe'"),
        ("?group_above=-1", "group_above='-1'"),
        ("?limit=x", "limit='x'"),
        ("?expand=" + ",".join(f"F{i}" for i in range(201)), "more than 200"),
    ],
)
def test_drawing_refuses_bad_arguments_with_400(
    server: LiveServer, query: str, fragment: str
) -> None:
    submit(server, "w1", _fan_in(1))

    reply = server.get(f"/api/v1/tasks/join/drawing{query}")

    assert reply.status == 400
    assert fragment in reply.json()["error"]["message"]


def test_drawing_of_an_unknown_task_is_404(server: LiveServer) -> None:
    reply = server.get("/api/v1/tasks/nope/drawing")

    assert reply.status == 404
    assert "no task 'nope'" in reply.json()["error"]["message"]


def test_drawing_is_in_the_openapi_document(server: LiveServer) -> None:
    document = server.get("/api/openapi.json").json()

    operation = document["paths"]["/api/v1/tasks/{task_id}/drawing"]["get"]

    assert operation["operationId"] == "getTaskDrawing"
    assert "Drawing" in document["components"]["schemas"]


def test_drawing_large_is_gzipped_for_clients_that_accept_it(
    server: LiveServer,
) -> None:
    submit(server, "w1", _fan_in(400))
    path = "/api/v1/tasks/join/drawing?group_above=1000"

    zipped = server.get(path, headers={"Accept-Encoding": "gzip"})
    plain = server.get(path)

    assert zipped.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.body)) == plain.json()
    assert "content-encoding" not in plain.headers
    assert len(plain.json()["node_of"]) == 402
    assert plain.json()["engine"] == "fallback"  # more nodes than dot is given
