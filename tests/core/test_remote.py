"""ServerScheduler, nbflow's client of nbflow server, against a real in-process server."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.config import Settings, use_settings
from nbflow.core.events import (
    Notify,
    RunTask,
    Status,
    TaskAdded,
    TasksDiscovered,
    TaskSpec,
    TaskSucceeded,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.remote import (
    RemoteTaskError,
    SchedulerRequestError,
    SchedulerUnreachableError,
    ServerScheduler,
    find_token,
    new_worker_id,
    scheduler_url,
    split_token,
)
from nbflow.core.rpc import RemoteScheduler, SchedulerUrlError
from nbflow.core.worker import Worker, WorkerOptions
from tests.server import live_server
from tests.server.live_server import LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'server.db'}", history=False).start()
    yield live
    live.stop()


def client(server: LiveServer, **kwargs: object) -> ServerScheduler:
    return ServerScheduler(server.url, token=server.token, **kwargs)  # type: ignore[arg-type]


class RemoteLeafT(nbflow.Task):
    n = nbflow.IntParameter()
    ran: list[str] = []

    def complete(self) -> bool:
        return self.task_id in self.ran

    def run(self) -> None:
        self.ran.append(self.task_id)


class RemoteRootT(nbflow.Task):
    def requires(self) -> list[RemoteLeafT]:
        return [RemoteLeafT(n=i) for i in range(3)]

    def complete(self) -> bool:
        return self.task_id in RemoteLeafT.ran

    def run(self) -> None:
        RemoteLeafT.ran.append(self.task_id)


@pytest.fixture(autouse=True)
def _fresh_runs() -> None:
    RemoteLeafT.ran.clear()


def test_remote_worker_runs_a_graph_on_the_server(server: LiveServer) -> None:
    scheduler = client(server)
    worker = Worker(scheduler, options=WorkerOptions(workers=2))

    with worker:
        worker.add(RemoteRootT())
        succeeded = worker.run()

    assert succeeded
    assert sorted(RemoteLeafT.ran) == sorted(
        [RemoteRootT().task_id] + [RemoteLeafT(n=i).task_id for i in range(3)]
    )
    assert {info.status for info in scheduler.tasks()} == {Status.DONE}
    assert worker.id == scheduler.worker_id
    assert server.host.workers() == []  # it said it stopped


def test_remote_build_takes_luigis_scheduler_url(server: LiveServer) -> None:
    with use_settings(Settings({"scheduler": {"token": server.token}})):
        result = nbflow.build(
            [RemoteRootT()], scheduler_url=server.url, detailed_summary=True
        )

    assert result.scheduling_succeeded
    assert len(RemoteLeafT.ran) == 4
    assert server.host.read(len) == 4


def test_remote_client_announces_tasks_the_server_already_had(
    server: LiveServer,
) -> None:
    first, second = client(server), client(server)
    specs = (TaskSpec("a", "Fam"), TaskSpec("b", "Fam", deps=("a",)))
    first.handle(WorkerStarted(first.worker_id, 1), TasksDiscovered(specs))

    actions = second.handle(TasksDiscovered(specs))

    added = [
        a.notification for a in actions if isinstance(a, Notify)
        if isinstance(a.notification, TaskAdded)
    ]  # fmt: skip
    assert {(n.task_id, n.status) for n in added} == {
        ("a", Status.RUNNING),
        ("b", Status.PENDING),
    }
    assert [info.task_id for info in second.tasks()] == ["a", "b"]


def test_remote_client_sees_its_tasks_notifications_and_runs(
    server: LiveServer,
) -> None:
    scheduler = client(server)
    specs = (TaskSpec("a", "Fam"), TaskSpec("b", "Fam", deps=("a",)))

    actions = scheduler.handle(
        WorkerStarted(scheduler.worker_id, 1), TasksDiscovered(specs)
    )
    after = scheduler.handle(TaskSucceeded("a"))

    assert RunTask("a", scheduler.worker_id) in actions
    assert RunTask("b", scheduler.worker_id) in after
    assert scheduler.has_work()
    assert scheduler.status("a") is Status.DONE


def test_remote_client_announces_itself_again_when_the_server_forgot_it(
    server: LiveServer,
) -> None:
    scheduler = client(server)
    scheduler.handle(WorkerStarted(scheduler.worker_id, 2))
    server.host.call(None, [WorkerStopped(scheduler.worker_id)])  # declared gone

    scheduler.handle()

    assert [w.worker_id for w in server.host.workers()] == [scheduler.worker_id]
    assert server.host.workers()[0].slots == 2


def test_remote_client_refuses_a_wrong_token_saying_how_to_pass_it(
    server: LiveServer,
) -> None:
    scheduler = ServerScheduler(server.url, token="wrong")  # noqa: S106

    with pytest.raises(SchedulerRequestError) as raised:
        scheduler.handle()

    message = str(raised.value)
    assert server.url in message
    assert "HTTP 401" in message or "HTTP 403" in message
    assert "--scheduler-token" in message


def test_remote_client_takes_the_token_from_the_url(server: LiveServer) -> None:
    url = server.url.replace("http://", f"http://luigi:{server.token}@")
    scheduler = ServerScheduler(url)

    scheduler.handle(WorkerStarted(scheduler.worker_id, 1))

    assert scheduler.url == server.url
    assert [w.worker_id for w in server.host.workers()] == [scheduler.worker_id]


def test_remote_client_gives_up_after_the_reconnect_timeout_naming_the_url() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    scheduler = ServerScheduler(f"http://127.0.0.1:{port}", reconnect_timeout=0.5)

    with pytest.raises(SchedulerUnreachableError) as raised:
        scheduler.handle()

    message = str(raised.value)
    assert f"http://127.0.0.1:{port}" in message
    assert "reconnect_timeout" in message
    assert "Fix: start the server" in message


def test_remote_client_waits_for_a_server_that_comes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 's.db'}"
    first = LiveServer(database, history=False).start()
    port = first.port
    first.stop()
    bind = live_server.bind_sockets
    monkeypatch.setattr(live_server, "bind_sockets", lambda _p, host: bind(port, host))
    scheduler = ServerScheduler(f"http://127.0.0.1:{port}", token=first.token)
    restarted: list[LiveServer] = []
    timer = threading.Timer(
        0.5, lambda: restarted.append(LiveServer(database, history=False).start())
    )
    timer.start()
    try:
        scheduler.handle(WorkerStarted(scheduler.worker_id, 1))

        workers = restarted[0].host.workers()
    finally:
        timer.join()
        for live in restarted:
            live.stop()

    assert [w.worker_id for w in workers] == [scheduler.worker_id]


def test_remote_client_cannot_build_a_family_it_does_not_know(
    server: LiveServer,
) -> None:
    owner = client(server)
    owner.handle(TasksDiscovered((TaskSpec("x", "NoSuchFamilyAnywhere"),)))
    scheduler = client(server)

    with pytest.raises(RemoteTaskError) as raised:
        scheduler.build_task("x")

    assert "NoSuchFamilyAnywhere" in str(raised.value)
    assert "--module" in str(raised.value)


def test_remote_helpers() -> None:
    settings = Settings({"core": {"default_scheduler_url": "http://conf:1"}})

    assert split_token("http://u:p%40ss@h:1/") == ("http://h:1", "p@ss")
    assert find_token("http://h:1", "given", settings) == "given"
    assert find_token("http://u:url@h:1", None, settings) == "url"
    assert scheduler_url(settings) == "http://conf:1"
    assert scheduler_url(Settings({})) is None
    assert scheduler_url(settings, port="9") == "http://localhost:9"
    assert scheduler_url(settings, local=True) is None
    assert new_worker_id().count(":") == 2
    with pytest.raises(SchedulerUrlError):
        ServerScheduler("unix:///tmp/socket")


def test_remote_token_from_the_environment_then_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings({"scheduler": {"token": "configured"}})
    monkeypatch.setenv("NBFLOW_TOKEN", "from-env")

    assert find_token("http://h:1", None, settings) == "from-env"
    monkeypatch.delenv("NBFLOW_TOKEN")
    assert find_token("http://h:1", None, settings) == "configured"


def test_remote_luigi_remote_scheduler_becomes_nbflows_client() -> None:
    worker = Worker(RemoteScheduler("http://u:tok@sched:8082"))

    assert isinstance(worker.scheduler, ServerScheduler)
    assert worker.scheduler.url == "http://sched:8082"


def test_remote_local_server_token_comes_from_its_private_token_file(
    tmp_path, monkeypatch
) -> None:
    from nbflow.core.remote import TOKEN_FILE_NAME, data_dir, find_token

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("NBFLOW_TOKEN", raising=False)
    token_file = data_dir() / TOKEN_FILE_NAME
    token_file.parent.mkdir(parents=True)
    token_file.write_text("s3cret\n")
    token_file.chmod(0o600)
    empty = Settings({})

    local = find_token("http://127.0.0.1:8082", None, empty)
    remote = find_token("http://scheduler.example:8082", None, empty)
    token_file.chmod(0o644)
    shared = find_token("http://localhost:8082", None, empty)

    assert (local, remote, shared) == ("s3cret", None, None)


def test_remote_luigi_run_command_line_takes_the_scheduler_url(
    server: LiveServer,
) -> None:
    argv = ["RemoteRootT", "--scheduler-url", server.url]

    with use_settings(Settings({"scheduler": {"token": server.token}})):
        succeeded = nbflow.run(argv)

    assert succeeded is True
    assert server.host.read(len) == 4
    assert len(RemoteLeafT.ran) == 4
