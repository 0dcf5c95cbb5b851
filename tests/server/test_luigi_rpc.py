"""luigid's protocol translated to host calls: LuigiRpc against a real SchedulerHost.

The calls are made as Luigi's RemoteScheduler makes them (keyword arguments decoded
from JSON); a few tests go over HTTP to check status codes and the token.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.core.events import RetryPolicy
from nbflow.server.host import SchedulerHost
from nbflow.server.luigi_arguments import RpcArgumentError
from nbflow.server.luigi_rpc import READ_ONLY_METHODS, LuigiRpc, UnknownMethodError
from tests.server.luigi_server import TOKEN, LuigiServer

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.server


@pytest.fixture
def host() -> Iterator[SchedulerHost]:
    running = SchedulerHost(resources={"gpu": 1})
    running.start()
    yield running
    running.stop()


@pytest.fixture
def rpc(host: SchedulerHost) -> Iterator[LuigiRpc]:
    layer = LuigiRpc(host, retry=RetryPolicy(retry_count=2), resources={"gpu": 1})
    yield layer
    layer.pool.shutdown()


def add(rpc: LuigiRpc, worker: str, task_id: str, **fields: Any) -> None:
    fields.setdefault("family", task_id.upper())
    fields.setdefault("status", "PENDING")
    rpc.call("add_task", {"worker": worker, "task_id": task_id, **fields})


def work(rpc: LuigiRpc, worker: str, *current: str, **fields: Any) -> dict[str, Any]:
    reply: dict[str, Any] = rpc.call(
        "get_work", {"worker": worker, "current_tasks": list(current), **fields}
    )
    return reply


def statuses(host: SchedulerHost) -> dict[str, str]:
    return {i.task_id: i.status.value for i in host.read(lambda s: s.tasks())}


def test_add_task_waits_for_requirements_then_adds_the_whole_graph(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "top", deps=["left", "right"])
    add(rpc, "w", "left")
    waiting = statuses(host)

    add(rpc, "w", "right")

    assert waiting == {}
    assert statuses(host) == {"top": "PENDING", "left": "PENDING", "right": "PENDING"}


def test_get_work_adds_undescribed_requirements_as_placeholders_that_never_run(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "top", deps=["ghost"])

    reply = work(rpc, "w")

    assert reply["task_id"] is None
    assert statuses(host) == {"top": "PENDING", "ghost": "PENDING"}
    assert host.read(lambda s: s.task_info("ghost").runnable) is False
    assert reply["n_pending_tasks"] == 1


def test_get_work_hands_one_task_and_nothing_until_asked_again(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "a", params={"day": "1"}, module="pipes")
    add(rpc, "w", "b")

    first = work(rpc, "w")
    after_first = statuses(host)
    add(rpc, "w", first["task_id"], status="DONE")
    after_done = statuses(host)
    second = work(rpc, "w")

    assert first == {
        **first,
        "task_id": "a",
        "task_family": "A",
        "task_module": "pipes",
        "task_params": {"day": "1"},
    }
    assert after_first == {"a": "RUNNING", "b": "PENDING"}
    assert after_done == {"a": "DONE", "b": "PENDING"}  # not pushed to the worker
    assert second["task_id"] == "b"


def test_get_work_sends_again_a_task_whose_reply_was_lost(rpc: LuigiRpc) -> None:
    add(rpc, "w", "a")
    add(rpc, "w", "b")
    first = work(rpc, "w")

    again = work(rpc, "w")  # the worker does not list it: it never got it

    assert again["task_id"] == first["task_id"] == "a"
    assert work(rpc, "w", "a")["task_id"] == "b"


def test_tasks_go_only_to_workers_that_added_them_or_assistants(
    rpc: LuigiRpc,
) -> None:
    add(rpc, "owner", "mine")

    stranger = work(rpc, "stranger")
    assistant = work(rpc, "helper", assistant=True)

    assert stranger["task_id"] is None
    assert assistant["task_id"] == "mine"


def test_failure_report_fails_the_task_and_fetch_error_returns_it(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "a")
    work(rpc, "w")
    expl = json.dumps("Traceback (most recent call last):\nValueError: boom")

    add(rpc, "w", "a", status="FAILED", expl=expl)

    assert statuses(host) == {"a": "FAILED"}
    error = rpc.call("fetch_error", {"task_id": "a"})
    assert json.loads(error["error"]).endswith("ValueError: boom")
    assert rpc.call("task_list", {"status": "FAILED"})["a"]["status"] == "FAILED"


def test_admin_calls_forgive_disable_reenable_and_mark_done(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "a")
    for _ in range(2):  # the retry policy disables after two failures
        add(rpc, "w", "a")  # luigid: re-adding a failed task makes it pending
        work(rpc, "w")
        add(rpc, "w", "a", status="FAILED", expl='"x"')
    disabled = statuses(host)["a"]
    forgiven = rpc.call("forgive_failures", {"task_id": "a"})  # only FAILED ones

    enabled = rpc.call("re_enable_task", {"task_id": "a"})
    done = rpc.call("mark_as_done", {"task_id": "a"})

    assert forgiven == {"task_id": "a", "status": "DISABLED"}
    assert disabled == "DISABLED"
    assert enabled["status"] == "PENDING"
    assert done == {"task_id": "a", "status": "DONE"}
    assert rpc.call("forgive_failures", {"task_id": "nope"}) == {
        "task_id": "nope",
        "status": None,
    }


def test_pause_stops_dispatch_until_unpaused(rpc: LuigiRpc) -> None:
    add(rpc, "w", "a")

    rpc.call("pause", {})
    paused = (rpc.call("is_paused", {}), work(rpc, "w")["task_id"])
    rpc.call("unpause", {})

    assert paused == ({"paused": True}, None)
    assert rpc.call("is_paused", {}) == {"paused": False}
    assert work(rpc, "w")["task_id"] == "a"


def test_a_task_just_done_is_not_made_pending_by_a_late_claim(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w1", "a")
    work(rpc, "w1")
    add(rpc, "w1", "a", status="DONE")

    add(rpc, "w2", "a")  # w2 checked complete() before w1 finished

    assert statuses(host) == {"a": "DONE"}


def test_dynamic_requirements_suspend_the_task_until_they_are_done(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    add(rpc, "w", "parent")
    work(rpc, "w")
    add(rpc, "w", "child")

    add(rpc, "w", "parent", new_deps=["child"])

    assert statuses(host) == {"parent": "PENDING", "child": "PENDING"}
    assert work(rpc, "w")["task_id"] == "child"
    assert rpc.call("dep_graph", {"task_id": "parent"})["parent"]["deps"] == ["child"]


def test_batch_reply_lists_members_and_the_combined_task_finishes_them_all(
    rpc: LuigiRpc, host: SchedulerHost
) -> None:
    rpc.call(
        "add_task_batcher",
        {"worker": "w", "task_family": "B", "batched_args": ["day"]},
    )
    for day in "123":
        add(rpc, "w", f"b{day}", family="B", params={"day": day, "kind": "x"},
            batchable=True)  # fmt: skip

    reply = work(rpc, "w")
    add(rpc, "w", "combined", status="RUNNING", batch_id=reply["batch_id"])
    add(rpc, "w", "combined", status="DONE")

    assert reply["task_id"] is None
    assert sorted(reply["batch_task_ids"]) == ["b1", "b2", "b3"]
    assert sorted(reply["task_params"]["day"]) == ["1", "2", "3"]
    assert reply["task_params"]["kind"] == "x"
    assert set(statuses(host).values()) == {"DONE"}


def test_status_message_progress_and_resources_of_a_running_task(
    rpc: LuigiRpc,
) -> None:
    add(rpc, "w", "a", resources={"gpu": 1})
    work(rpc, "w")

    rpc.call("set_task_status_message", {"task_id": "a", "status_message": "half"})
    rpc.call(
        "set_task_progress_percentage", {"task_id": "a", "progress_percentage": 50}
    )
    rpc.call("decrease_running_task_resources",
             {"task_id": "a", "decrease_resources": {"gpu": 1}})  # fmt: skip

    assert rpc.call("get_task_status_message", {"task_id": "a"}) == {
        "taskId": "a",
        "statusMessage": "half",
    }
    assert rpc.call("get_task_progress_percentage", {"task_id": "a"}) == {
        "taskId": "a",
        "progressPercentage": 50.0,
    }
    assert rpc.call("get_running_task_resources", {"task_id": "a"})["resources"] == {
        "gpu": 0
    }
    (gpu,) = rpc.call("resource_list", {})
    assert (gpu["name"], gpu["num_total"], gpu["num_used"]) == ("gpu", 1, 0)


def test_worker_list_and_ping_messages(rpc: LuigiRpc) -> None:
    rpc.call("add_worker", {"worker": "w", "info": [["host", "box"], ["workers", 2]]})
    add(rpc, "w", "a")
    work(rpc, "w")

    rpc.call("set_worker_processes", {"worker": "w", "n": 4})
    (row,) = rpc.call("worker_list", {})
    messages = rpc.call("ping", {"worker": "w"})

    assert (row["name"], row["host"], row["num_running"]) == ("w", "box", 1)
    assert list(row["running"]) == ["a"]
    assert messages == {
        "rpc_messages": [{"name": "set_worker_processes", "kwargs": {"n": 4}}]
    }


def test_disabled_worker_gets_no_work(rpc: LuigiRpc) -> None:
    add(rpc, "w", "a")

    rpc.call("disable_worker", {"worker": "w"})

    assert work(rpc, "w")["worker_state"] == "disabled"
    assert work(rpc, "w")["task_id"] is None


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("add_task", {"worker": "w"}),
        ("add_task", {"worker": "w", "task_id": "a", "status": "MAYBE"}),
        ("add_task", {"worker": "w", "task_id": "a", "deps": "notalist"}),
        ("add_task", {"worker": "w", "task_id": "a", "priority": "high"}),
        ("add_task", {"worker": "w", "task_id": "a", "resources": {"gpu": 0.5}}),
        ("get_work", {"worker": ["w"]}),
        ("get_work", {"worker": "w", "current_tasks": 3}),
        ("dep_graph", {}),
        ("update_resources", {"gpu": 2}),
    ],
)
def test_bad_arguments_are_argument_errors(
    rpc: LuigiRpc, method: str, arguments: dict[str, Any]
) -> None:
    with pytest.raises(RpcArgumentError) as caught:
        rpc.call(method, arguments)

    assert f"luigid call {method}" in str(caught.value)
    assert "Fix:" in str(caught.value)


def test_unknown_method_is_refused(rpc: LuigiRpc) -> None:
    with pytest.raises(UnknownMethodError):
        rpc.call("launch_rockets", {})


def test_read_only_methods_are_known_methods(rpc: LuigiRpc) -> None:
    assert rpc.methods >= READ_ONLY_METHODS
    assert "add_task" not in READ_ONLY_METHODS


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LuigiServer]:
    running = LuigiServer().start()
    yield running
    running.stop()


def request(
    server: LuigiServer, method: str, path: str, body: str | None = None,
    token: str | None = TOKEN,
) -> tuple[int, Any]:  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token is not None:
        import base64

        headers["Authorization"] = (
            "Basic " + base64.b64encode(f"luigi:{token}".encode()).decode()
        )
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def form(arguments: Any) -> str:
    return urllib.parse.urlencode({"data": json.dumps(arguments)})


def test_http_post_form_and_get_query_answer_in_luigid_envelope(
    server: LuigiServer,
) -> None:
    posted = request(server, "POST", "/api/add_task",
                     form({"worker": "w", "task_id": "a", "family": "A"}))  # fmt: skip
    listed = request(server, "GET", "/api/task_list?" + form({"status": "PENDING"}),
                     token=None)  # fmt: skip

    assert posted == (200, {"response": None})
    assert listed[0] == 200
    assert listed[1]["response"]["a"]["name"] == "A"


@pytest.mark.parametrize(
    ("path", "body", "status", "kind"),
    [
        ("/api/launch_rockets", form({}), 404, "not_found"),
        ("/api/add_task", "data=%7Bnot-json", 400, "bad_request"),
        ("/api/add_task", form([1, 2]), 400, "bad_request"),
        ("/api/add_task", form({"worker": "w"}), 400, "bad_request"),
        ("/api/get_work", form({"worker": {"a": 1}}), 400, "bad_request"),
    ],
)
def test_http_bad_requests_are_4xx_with_a_message(
    server: LuigiServer, path: str, body: str, status: int, kind: str
) -> None:
    code, answer = request(server, "POST", path, body)

    assert code == status
    assert answer["error"]["kind"] == kind
    assert answer["error"]["message"]


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong", 403)])
def test_http_state_changes_need_the_token(
    server: LuigiServer, token: str | None, status: int
) -> None:
    code, answer = request(server, "POST", "/api/add_task",
                           form({"worker": "w", "task_id": "a"}), token=token)  # fmt: skip

    assert code == status
    assert "token" in answer["error"]["message"]
    assert server.statuses() == {}


def test_http_reads_need_the_token_when_the_server_protects_them() -> None:
    protected = LuigiServer(protect_reads=True).start()
    try:
        refused = request(protected, "GET", "/api/graph", token=None)
        allowed = request(protected, "GET", "/api/graph")
    finally:
        protected.stop()

    assert refused[0] == 401
    assert allowed == (200, {"response": {}})
