"""The kernel session from code: runs, Ctrl-C, numbering, and the interruptible pool."""

from __future__ import annotations

import _thread
import threading
import time
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.run import Run
from nbflow.kernel.interrupt import InterruptibleThreadExecutor
from nbflow.kernel.session import (
    RunCancelledError,
    RunFailedError,
    Session,
    UnknownRunError,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel


def slow_task(path: Path, started: threading.Event) -> nbflow.Task:
    class Slow(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(path))

        def run(self):
            with self.output().open("w") as out:
                out.write("partial ")
                started.set()  # inside the atomic write: interrupting now must clean up
                for _ in range(400):  # 20 s unless interrupted
                    time.sleep(0.05)
                out.write("whole")

    return Slow()


def test_run_returns_the_result_and_numbers_runs(tmp_path, capsys) -> None:
    class Quick(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "quick.txt"))

        def run(self):
            with self.output().open("w") as out:
                out.write("ok")

    session = Session()

    result = session.run(Quick(), display="text")
    again = session.run(Quick(), display="text")

    assert result.scheduling_succeeded
    assert again.tasks == {"already_done": [Quick().task_id]}
    assert [record.number for record in session.runs] == [1, 2]
    assert session.record().number == 2
    assert "nbflow run 2: nothing to do" in capsys.readouterr().out


def test_background_run_is_a_run_handle(capsys) -> None:
    gate = threading.Event()

    class Gated(nbflow.Task):
        def run(self):
            gate.wait(10)

    session = Session()

    handle = session.run(Gated(), background=True, display="text")

    assert isinstance(handle, Run)
    assert handle.state == "running"
    assert capsys.readouterr().out == ""  # nothing printed from the run's thread
    gate.set()
    assert handle.wait(10).scheduling_succeeded
    assert session.runs[0].state == "succeeded"


def test_ctrl_c_while_waiting_cancels_and_leaves_no_output(tmp_path, capsys) -> None:
    started = threading.Event()
    task = slow_task(tmp_path / "slow.txt", started)
    session = Session()

    def interrupt_when_started() -> None:
        started.wait(10)
        time.sleep(0.2)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    begun = time.monotonic()
    with pytest.raises(RunCancelledError, match="run 1: cancelled"):
        session.run(task, display="text")

    assert time.monotonic() - begun < 5
    assert session.runs[0].state == "cancelled"
    assert not (tmp_path / "slow.txt").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    assert "cancelled after" in capsys.readouterr().out


def test_cancel_a_background_run(tmp_path) -> None:
    started = threading.Event()
    session = Session()
    handle = session.run(
        slow_task(tmp_path / "slow.txt", started), background=True, display="text"
    )
    assert started.wait(10)

    session.cancel(1)

    handle.wait(5)
    assert handle.state == "cancelled"
    executor = session.runs[0].executor
    deadline = time.monotonic() + 5
    while executor.busy and time.monotonic() < deadline:  # the task thread unwinds
        time.sleep(0.01)
    assert executor.busy == 0
    assert list(tmp_path.iterdir()) == []


def test_failed_run_raises_unless_check_is_off() -> None:
    class Fails(nbflow.Task):
        def run(self):
            raise RuntimeError("nope")

    session = Session()

    with pytest.raises(RunFailedError) as caught:
        session.run(Fails(), display="text")
    result = session.run(Fails(), display="text", check=False)

    message = str(caught.value)
    assert "nbflow run 1: failed (got Fails() failing: RuntimeError: nope)" in message
    assert "Expected every task to succeed. Fix:" in message
    assert not result.scheduling_succeeded


def test_unknown_run_number() -> None:
    with pytest.raises(UnknownRunError) as caught:
        Session().attach(2)

    assert str(caught.value).startswith("nbflow: no run number 2 in this kernel")
    assert "Expected a run number (none yet)" in str(caught.value)


def test_find_class_prefers_the_namespace_newest_first() -> None:
    class Shadow(nbflow.Task):
        pass

    old = Shadow

    class Shadow(nbflow.Task):  # a re-run cell
        pass

    namespace = {"old_alias": old, "new_alias": Shadow}
    session = Session(type("FakeShell", (), {"user_ns": namespace})())

    assert session.find_class("Shadow") is Shadow
    assert session.find_class("new_alias") is Shadow
    assert session.find_class("Nothing") is None


def test_graph_from_code() -> None:
    class Leaf(nbflow.ExternalTask):
        def output(self):
            return nbflow.MemoryTarget("kernel-test-leaf-missing")

    class Top(nbflow.Task):
        def requires(self):
            return Leaf()

    graph = Session().graph(Top(), display="text")

    assert [node.state for node in graph.nodes] == ["PENDING", "missing"]
    assert "missing       Leaf()" in graph.to_text()
    assert repr(graph) == graph.to_text()
    assert graph._repr_mimebundle_() == {"text/plain": graph.to_text()}


def test_interruptible_pool_interrupts_only_running_calls() -> None:
    pool = InterruptibleThreadExecutor(2)
    started = threading.Event()

    def spin() -> str:
        started.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return "finished"

    future = pool.submit(spin)
    assert started.wait(5)

    assert pool.interrupt() == 1
    with pytest.raises(KeyboardInterrupt):
        future.result(5)
    assert pool.interrupt() == 0
    assert pool.submit(pow, 3, 2).result(5) == 9  # the pool still works
    pool.shutdown()
