"""The run board's bounds, in process: runs kept, details of big runs, log tails.

A :class:`~nbflow.core.progress.RunProgress` fed notifications stands for a big run
(no 2,000 tasks are run); a real in-process session run checks the board it writes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import comm
import pytest

import nbflow
from nbflow.core.events import Status, TaskAdded, TaskOutput, TaskStatusChanged
from nbflow.core.progress import RunProgress
from nbflow.core.run import Run
from nbflow.kernel import board as board_module
from nbflow.kernel.board import (
    DETAILED_TASKS,
    KEPT_RUNS,
    LOG_LINES,
    RECENT_FINISHED,
    Board,
    _detailed,
    _outputs,
    _task_entry,
    kernel_board,
)
from nbflow.kernel.session import Session
from tests.lab.lab_server import wait_for

if TYPE_CHECKING:
    from pathlib import Path


def big_progress(size: int) -> RunProgress:
    """A run of ``size`` tasks: 3 failed, 2 running, the rest done in order."""
    progress = RunProgress()
    seq = 0
    for number in range(size):
        seq += 1
        progress.on_notification(
            TaskAdded(
                seq, 0.0, f"T_{number}", "T", (("n", str(number)),), (), Status.PENDING
            )
        )
    for number in range(size):
        task_id = f"T_{number}"
        seq += 1
        progress.on_notification(
            TaskStatusChanged(
                seq, float(number), task_id, Status.RUNNING, Status.PENDING
            )
        )
        if number in (10, 11):
            continue
        final = Status.FAILED if number in (1, 2, 3) else Status.DONE
        seq += 1
        progress.on_notification(
            TaskStatusChanged(seq, float(number) + 0.5, task_id, final, Status.RUNNING)
        )
    return progress


def test_a_big_run_keeps_details_of_failed_running_and_last_finished() -> None:
    size = DETAILED_TASKS + 100
    progress = big_progress(size)

    detailed = _detailed(progress)

    assert {"T_1", "T_2", "T_3", "T_10", "T_11"} <= detailed
    assert f"T_{size - 1}" in detailed
    assert len(detailed) == 5 + RECENT_FINISHED
    assert "T_500" not in detailed


def test_a_run_within_the_limit_keeps_every_task_detailed() -> None:
    progress = big_progress(50)

    assert _detailed(progress) == set(progress.tasks)


def test_a_tasks_log_keeps_its_last_lines() -> None:
    progress = big_progress(1)
    lines = tuple(f"line {number}" for number in range(LOG_LINES + 300))
    progress.on_notification(TaskOutput(99, 1.0, "T_0", lines))

    entry = _task_entry(progress.tasks["T_0"], detailed=True)
    light = _task_entry(progress.tasks["T_0"], detailed=False)

    assert entry["log"].splitlines() == list(lines[-LOG_LINES:])
    assert set(light) == {"label", "family", "state", "deps"}


def test_the_board_keeps_the_last_runs(tmp_path: Path) -> None:
    board = Board(tmp_path / "nbflow" / "kernel-k.json", "k")

    for number in range(1, KEPT_RUNS + 6):
        board.put(number, json.dumps({"number": number, "tasks": {}}))

    kept = json.loads(board.path.read_text())
    assert [run["number"] for run in kept["runs"]] == list(range(6, KEPT_RUNS + 6))
    assert kept["kernel_id"] == "k"
    assert [p.name for p in board.path.parent.iterdir()] == ["kernel-k.json"]


def test_no_board_outside_a_jupyter_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "_BOARD", None)
    monkeypatch.setattr(board_module, "_LOOKED", False)
    made_comms_with = comm.create_comm

    assert kernel_board() is None
    # nothing of ipykernel's kernel was imported: a shell's widgets keep their comms
    assert comm.create_comm is made_comms_with


class LabLimitsPart(nbflow.Task):
    def run(self) -> None:
        print("part ran")  # noqa: T201  (captured into the task's log)


def test_a_session_run_is_on_the_board_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = Board(tmp_path / "kernel-s.json", "s")
    monkeypatch.setattr(board_module, "_BOARD", board)
    monkeypatch.setattr(board_module, "_LOOKED", True)
    session = Session()

    session.run(LabLimitsPart(), display="text")

    (run,) = json.loads(board.path.read_text())["runs"]
    (task,) = run["tasks"].values()
    assert run["state"] == "succeeded"
    assert run["finished"] is not None
    assert task["state"] == "DONE"
    assert "part ran" in task["log"]
    assert task["outputs"] == []
    assert task["notebook"] is None


def test_a_notebook_tasks_executed_notebook_and_outputs_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbflow.notebook.task import NotebookTask

    class LabLimitsNotebook(NotebookTask):
        notebook = "clean.ipynb"

        def output(self) -> nbflow.LocalTarget:
            return nbflow.LocalTarget("data/clean.csv")

    monkeypatch.chdir(tmp_path)

    paths, notebook = _outputs(LabLimitsNotebook())

    assert paths == [str(tmp_path / "data" / "clean.csv")]
    assert notebook is not None
    assert notebook.startswith(str(tmp_path / "executed" / "LabLimitsNotebook") + "/")
    assert notebook.endswith(".ipynb")


class LabLimitsNever(nbflow.Task):
    def run(self) -> None:
        pass


def test_a_run_that_stops_on_an_error_ends_failed_on_the_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbflow.core.worker import Worker

    board = Board(tmp_path / "kernel-e.json", "e")
    monkeypatch.setattr(board_module, "_BOARD", board)
    monkeypatch.setattr(board_module, "_LOOKED", True)

    def broken_add(self: Worker, roots: object) -> None:
        raise RuntimeError("the graph could not be expanded")

    monkeypatch.setattr(Worker, "add", broken_add)
    run = Session().run(LabLimitsNever(), display="text", background=True)
    assert isinstance(run, Run)
    with pytest.raises(RuntimeError):
        run.wait(30)

    def ended() -> dict[str, Any] | None:
        (found,) = json.loads(board.path.read_text())["runs"]
        return found if found["state"] != "running" else None

    assert wait_for("the run's end on the board", ended)["state"] == "failed"


class LabLimitsLeaf(nbflow.Task):
    n = nbflow.IntParameter()

    def run(self) -> None:
        if self.n == 7:
            raise ValueError("leaf seven")


class LabLimitsMany(nbflow.WrapperTask):
    def requires(self) -> list[LabLimitsLeaf]:
        return [LabLimitsLeaf(n=n) for n in range(DETAILED_TASKS + 100)]


def test_a_real_run_over_the_limit_keeps_details_of_the_failure_and_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = Board(tmp_path / "kernel-m.json", "m")
    monkeypatch.setattr(board_module, "_BOARD", board)
    monkeypatch.setattr(board_module, "_LOOKED", True)

    Session().run(LabLimitsMany(), display="text", check=False)

    (run,) = json.loads(board.path.read_text())["runs"]
    tasks = run["tasks"]
    detailed = {task["label"] for task in tasks.values() if "log" in task}
    assert run["state"] == "failed"
    assert run["total"] == DETAILED_TASKS + 101
    assert len(tasks) == run["total"]
    assert "LabLimitsLeaf(n=7)" in detailed
    assert len(detailed) <= 1 + RECENT_FINISHED
    seven = next(
        task for task in tasks.values() if task["label"] == "LabLimitsLeaf(n=7)"
    )
    assert "leaf seven" in seven["error"]
    assert all(
        set(task) >= {"label", "family", "state", "deps"} for task in tasks.values()
    )


def test_a_board_that_cannot_be_written_does_not_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    board = Board(blocker / "nbflow" / "kernel-r.json", "r")
    monkeypatch.setattr(board_module, "_BOARD", board)
    monkeypatch.setattr(board_module, "_LOOKED", True)

    result = Session().run(LabLimitsPart(), display="text")

    assert not isinstance(result, Run)
    assert result.status.name == "SUCCESS"
    assert "is not on the run board" in caplog.text


def test_the_reader_sees_every_write_however_close(tmp_path: Path) -> None:
    from nbflow.lab.boards import BoardReader

    board = Board(tmp_path / "kernel-w.json", "w")
    reader = BoardReader(tmp_path)
    seen = []

    for letter in "abcdef":  # same size, a few microseconds apart
        board.put(1, json.dumps({"number": 1, "letter": letter}))
        read = reader.board("w")
        assert read is not None
        seen.append(read["runs"][0]["letter"])

    assert seen == list("abcdef")
    assert reader.board("nobody") is None
    assert reader.board("../w") is None
