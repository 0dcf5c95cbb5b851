"""A run's outputs: shown live, made static when the run ends, notices for background runs."""

from __future__ import annotations

import threading
import time

import pytest

import nbflow
from nbflow.kernel import output as output_module
from nbflow.kernel.session import Session

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Recording:
    """A publisher that keeps what would be displayed: (kind, bundle, display id)."""

    sent: list[tuple[str, dict, str]] = []

    def display(self, bundle: dict, display_id: str) -> None:
        self.sent.append(("display", bundle, display_id))

    def update(self, bundle: dict, display_id: str) -> None:
        self.sent.append(("update", bundle, display_id))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict, str]]:
    monkeypatch.setattr(Recording, "sent", [])
    monkeypatch.setattr(output_module, "IPythonPublisher", Recording)
    monkeypatch.delenv("NBFLOW_DISPLAY", raising=False)
    return Recording.sent


class OutputGated(nbflow.Task):
    """Waits for the test's gate, then fails or succeeds."""

    fail = nbflow.BoolParameter(default=False)
    day = nbflow.Parameter(default="2024-06-03")

    gate = threading.Event()
    started = threading.Event()

    def run(self) -> None:
        OutputGated.started.set()
        deadline = time.monotonic() + 10
        while not OutputGated.gate.is_set():  # short sleeps: a cancel interrupts them
            if time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.01)
        if self.fail:
            raise ValueError("boom")


@pytest.fixture
def gate() -> threading.Event:
    OutputGated.gate, OutputGated.started = threading.Event(), threading.Event()
    return OutputGated.gate


def test_background_failure_is_announced_at_once(sent, gate) -> None:
    session = Session()
    handle = session.run(
        OutputGated(fail=True, day="d1"), background=True, display="text"
    )
    assert sent == []

    gate.set()
    handle.wait(10)

    [(kind, notice, _)] = sent
    assert kind == "display"
    assert notice["text/plain"].startswith(
        "nbflow run 1 (OutputGated(fail=True, day=d1)) failed after "
    )
    assert "1 failed." in notice["text/plain"]
    assert (
        "see it with %nbflow show OutputGated --fail True --day d1."
        in (notice["text/plain"])
    )
    assert "nbflow-notice-failed" in notice["text/html"]


def test_background_success_says_nothing_unasked(sent, gate) -> None:
    session = Session()
    handle = session.run(OutputGated(day="d2"), background=True, display="text")
    assert sent == []

    gate.set()
    handle.wait(10)

    assert sent == []


def test_cancelled_background_run_is_announced(sent, gate) -> None:
    session = Session()
    handle = session.run(OutputGated(day="d3"), background=True, display="text")
    assert OutputGated.started.wait(10)

    session.cancel(1)
    handle.wait(10)
    gate.set()

    [(kind, notice, _)] = sent
    assert kind == "display"
    assert " cancelled after " in notice["text/plain"]
    assert "Run it again to finish" in notice["text/plain"]


def test_a_shown_run_is_updated_to_its_last_state(sent, gate) -> None:
    session = Session()
    handle = session.run(
        OutputGated(fail=True, day="d4"), background=True, display="text"
    )
    session.display_run(handle)
    [(kind, live, display_id)] = sent
    assert kind == "display"
    assert "running" in live["text/plain"]

    gate.set()
    handle.wait(10)

    kinds = [(kind, shown_id == display_id) for kind, _, shown_id in sent]
    assert kinds == [("display", True), ("update", True), ("display", False)]
    final = sent[1][1]
    assert final["text/plain"].splitlines()[:2] == [
        "nbflow run 1 (OutputGated(fail=True, day=d4)): failed",
        final["text/plain"].splitlines()[1],
    ]
    assert final["text/plain"].splitlines()[1].startswith("failed: 1 tasks: 1 failed")
    assert "running" not in final["text/plain"]
    assert "data:image/svg+xml;base64," in final["text/html"]


def test_a_run_shown_after_its_end_shows_its_last_state(sent, gate) -> None:
    gate.set()
    session = Session()
    handle = session.run(OutputGated(day="d5"), background=True, display="text")
    handle.wait(10)

    session.display_run(handle)

    [(kind, bundle, _)] = sent
    assert kind == "display"
    assert bundle["text/plain"].startswith(
        "nbflow run 1 (OutputGated(fail=False, day=d5)): succeeded"
    )
    assert "succeeded: 1 tasks: 1 done" in bundle["text/plain"]


def test_widget_run_is_replaced_by_its_snapshot_when_it_ends(sent, gate) -> None:
    pytest.importorskip("anywidget")
    session = Session()

    def open_once_shown() -> None:  # the task ends only after the live view is shown
        deadline = time.monotonic() + 10
        while not sent and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()

    opener = threading.Thread(target=open_once_shown, daemon=True)
    opener.start()
    with pytest.raises(nbflow.NbflowError):
        session.run(OutputGated(fail=True, day="d6"), display="widgets")
    opener.join()
    # the snapshot replaces the view from the run's view thread as it ends
    deadline = time.monotonic() + 10
    while len(sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    [(first, live, live_id), (second, final, final_id)] = sent
    assert (first, second, live_id) == ("display", "update", final_id)
    assert WIDGET_MIME in live
    assert WIDGET_MIME not in final
    assert set(final) == {"text/html", "text/plain"}
    assert "failed: 1 tasks: 1 failed" in final["text/plain"]
    assert "ValueError: boom" in final["text/html"]
    session.runs[0].run.view.close()
