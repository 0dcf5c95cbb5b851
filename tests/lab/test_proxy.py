"""The settings endpoint and the proxy to a real nbflow server (LiveServer, SQLite).

The browser sends the nbflow server's URL and token once; requests through
``/nbflow/api/server/api/v1/...`` then carry the token, behind Jupyter's login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.server.live_server import LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.lab.lab_server import Jupyter

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def nbflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("nbflow-server")
    live = LiveServer(f"sqlite:///{folder / 'nbflow.db'}").start()
    yield live
    live.stop()


@pytest.fixture
def connected(jupyter: Jupyter, nbflow_server: LiveServer) -> Iterator[Jupyter]:
    """The jupyter server's settings name the nbflow server; cleared afterwards."""
    reply = jupyter.request(
        "PUT",
        "/nbflow/api/settings",
        {"server_url": nbflow_server.url + "/", "token": nbflow_server.token},
    )
    assert reply.status == 200, reply.body
    yield jupyter
    jupyter.request("PUT", "/nbflow/api/settings", {"server_url": None, "token": None})


def test_settings_never_send_the_token_back(
    connected: Jupyter, nbflow_server: LiveServer
) -> None:
    reply = connected.get("/nbflow/api/settings")

    assert reply.json() == {"server_url": nbflow_server.url, "has_token": True}
    assert nbflow_server.token.encode() not in reply.body


def test_runs_say_the_server_is_connected(
    connected: Jupyter, nbflow_server: LiveServer
) -> None:
    server = connected.get("/nbflow/api/runs").json()["server"]

    assert server == {"url": nbflow_server.url, "connected": True}


def test_proxy_reads_and_writes_with_the_token(
    connected: Jupyter, nbflow_server: LiveServer
) -> None:
    tasks = connected.get("/nbflow/api/server/api/v1/tasks?limit=5")
    paused = connected.request("POST", "/nbflow/api/server/api/v1/scheduler/pause", {})
    state = connected.get("/nbflow/api/server/api/v1/scheduler")
    connected.request("POST", "/nbflow/api/server/api/v1/scheduler/resume", {})

    assert tasks.status == 200, tasks.body
    assert "tasks" in tasks.json()
    assert paused.status == 200, paused.body
    assert state.json()["paused"] is True


def test_proxy_passes_the_servers_refusal_of_a_wrong_token(
    jupyter: Jupyter, nbflow_server: LiveServer
) -> None:
    jupyter.request(
        "PUT",
        "/nbflow/api/settings",
        {"server_url": nbflow_server.url, "token": "wrong-token"},
    )
    try:
        reply = jupyter.request("POST", "/nbflow/api/server/api/v1/scheduler/pause", {})
    finally:
        jupyter.request("PUT", "/nbflow/api/settings", {"server_url": None})

    assert reply.status in (401, 403)


def test_proxy_forwards_only_api_v1(connected: Jupyter) -> None:
    reply = connected.get("/nbflow/api/server/metrics")

    assert reply.status == 404


def test_proxy_without_a_server_says_how_to_set_one(jupyter: Jupyter) -> None:
    reply = jupyter.get("/nbflow/api/server/api/v1/tasks")

    assert reply.status == 409
    assert "Settings > nbflow" in reply.json()["message"]


def test_proxy_to_a_server_that_is_down_is_a_502(jupyter: Jupyter) -> None:
    from tests.lab.lab_server import free_port

    jupyter.request(
        "PUT",
        "/nbflow/api/settings",
        {"server_url": f"http://127.0.0.1:{free_port()}", "token": None},
    )
    try:
        reply = jupyter.get("/nbflow/api/server/api/v1/tasks")
        runs = jupyter.get("/nbflow/api/runs").json()
    finally:
        jupyter.request("PUT", "/nbflow/api/settings", {"server_url": None})

    assert reply.status == 502
    assert "did not answer" in reply.json()["message"]
    assert runs["server"]["connected"] is False


def test_settings_refuse_a_url_that_is_not_http(jupyter: Jupyter) -> None:
    reply = jupyter.request(
        "PUT", "/nbflow/api/settings", {"server_url": "javascript:alert(1)"}
    )

    assert reply.status == 400
    assert "not an http(s) URL" in reply.json()["message"]
    assert jupyter.get("/nbflow/api/settings").json()["server_url"] is None


def test_proxy_keeps_a_percent_encoded_task_id(connected: Jupyter) -> None:
    reply = connected.get("/nbflow/api/server/api/v1/tasks/Odd%2Fid%3F")

    assert reply.status == 404
    assert "'Odd/id?'" in reply.json()["error"]["message"]
    assert reply.json()["message"] == reply.json()["error"]["message"]
