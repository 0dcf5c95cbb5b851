"""%nbflow connect: a kernel's runs scheduled on a real nbflow server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.errors import SchedulerError
from nbflow.core.events import Status
from nbflow.kernel.magics import NbflowMagics
from nbflow.kernel.session import Session
from tests.server.live_server import TOKEN, LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.kernel, pytest.mark.server]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(f"sqlite:///{tmp_path / 'kernel.db'}").start()
    yield live
    live.stop()


def pipeline(tmp_path: Path) -> type[nbflow.Task]:
    class ConnectedSource(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "source.txt"))

        def run(self):
            with self.output().open("w") as out:
                out.write("source")

    class ConnectedReport(nbflow.Task):
        def requires(self):
            return ConnectedSource()

        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "report.txt"))

        def run(self):
            with self.input().open() as source, self.output().open("w") as out:
                out.write(source.read().upper())

    return ConnectedReport


def test_connected_session_runs_on_the_server_and_the_server_sees_it(
    server: LiveServer, tmp_path: Path
) -> None:
    report = pipeline(tmp_path)
    session = Session()

    said = session.connect(server.url, token=TOKEN)
    result = session.run(report(), display="text")

    assert "connected to http://127.0.0.1" in said
    assert result.scheduling_succeeded
    assert (tmp_path / "report.txt").read_text() == "SOURCE"
    on_server = server.host.read(lambda s: {i.family: i.status for i in s.tasks()})
    assert on_server == {
        "ConnectedSource": Status.DONE,
        "ConnectedReport": Status.DONE,
    }
    record = session.runs[-1]
    assert record.state == "succeeded"


def test_disconnected_session_goes_back_to_the_embedded_scheduler(
    server: LiveServer, tmp_path: Path
) -> None:
    report = pipeline(tmp_path)
    session = Session()
    session.connect(server.url, token=TOKEN)

    said = session.disconnect()
    session.run(report(), display="text")

    assert "embedded scheduler" in said
    assert server.host.read(len) == 0


def test_connect_to_nothing_fails_at_once_naming_the_url() -> None:
    session = Session()

    with pytest.raises(SchedulerError, match=r"127\.0\.0\.1:9"):
        session.connect("http://127.0.0.1:9")

    assert session.server is None


def test_connect_with_a_wrong_token_fails_the_run_clearly(
    server: LiveServer, tmp_path: Path
) -> None:
    report = pipeline(tmp_path)
    session = Session()
    session.connect(server.url, token="wrong")  # noqa: S106

    with pytest.raises(SchedulerError, match="401|403|token"):
        session.run(report(), display="text")

    assert not (tmp_path / "report.txt").exists()


def test_connect_magic_parses_its_arguments(server: LiveServer, capsys) -> None:
    session = Session()
    magics = NbflowMagics(None, session)

    magics.nbflow(f"connect {server.url} --token {TOKEN}")
    connected = capsys.readouterr().out
    magics.nbflow("disconnect")
    disconnected = capsys.readouterr().out

    assert "connected to" in connected
    assert "embedded scheduler" in disconnected
    assert session.server is None


def test_an_assistant_never_takes_a_notebook_defined_task(
    server: LiveServer, tmp_path: Path
) -> None:
    import threading

    from nbflow.core.remote import ServerScheduler
    from nbflow.core.worker import Worker, WorkerOptions

    report = pipeline(tmp_path)
    source = report().requires()
    for cls in (report, type(source)):
        cls.__module__ = "__main__"  # as if defined in the notebook's cells
    helper = Worker(
        ServerScheduler(server.url, token=TOKEN, worker_id="helper"),
        options=WorkerOptions(workers=2, assistant=True, worker_id="helper"),
    )
    thread = threading.Thread(target=helper.run, daemon=True)
    thread.start()
    try:
        session = Session()
        session.connect(server.url, token=TOKEN)
        result = session.run(report(), display="text")
        ran_on = server.host.read(lambda s: {i.family: i.worker_id for i in s.tasks()})
    finally:
        helper.cancel()
        thread.join(timeout=30)
        helper.stop()

    assert result.scheduling_succeeded
    assert "helper" not in ran_on.values()
    assert set(ran_on) == {"ConnectedSource", "ConnectedReport"}
