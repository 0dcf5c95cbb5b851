from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from nbflow.cli.progress import (
    PlainProgress,
    RichProgress,
    progress_for,
)
from nbflow.core.events import (
    Status,
    TaskAdded,
    TaskMessage,
    TaskProgressed,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.progress import RunProgress, first_line, task_label

REPO = Path(__file__).resolve().parents[1]


def added(task_id: str, *, done: bool = False, at: float = 0.0) -> TaskAdded:
    family, _, value = task_id.partition("_")
    status = Status.DONE if done else Status.PENDING
    return TaskAdded(0, at, task_id, family, (("x", value),), (), status, done)


def changed(
    task_id: str, status: Status, previous: Status, *, at: float = 0.0, error: str = ""
) -> TaskStatusChanged:
    return TaskStatusChanged(0, at, task_id, status, previous, error=error)


def start(task_id: str, at: float = 0.0) -> TaskStatusChanged:
    return changed(task_id, Status.RUNNING, Status.PENDING, at=at)


def finish(task_id: str, at: float) -> TaskStatusChanged:
    return changed(task_id, Status.DONE, Status.RUNNING, at=at)


def feed(listener: PlainProgress | RichProgress, *notifications: object) -> None:
    for notification in notifications:
        listener.on_notification(notification)  # type: ignore[arg-type]


def plain_lines(*notifications: object, close: bool = True) -> list[str]:
    stream = io.StringIO()
    progress = PlainProgress(stream)
    feed(progress, *notifications)
    if close:
        progress.close()
    return stream.getvalue().splitlines()


def test_plain_progress_writes_one_line_per_change() -> None:
    lines = plain_lines(
        added("A_1"),
        added("A_2", done=True),
        added("B_1"),
        start("A_1", at=10.0),
        TaskProgressed(0, 10.1, "A_1", 50.0),
        TaskMessage(0, 10.1, "A_1", "halfway\nmore detail"),
        TaskTrackingUrl(0, 10.2, "A_1", "http://logs/a1"),
        finish("A_1", at=10.25),
        start("B_1", at=11.0),
        changed("B_1", Status.FAILED, Status.RUNNING, error="ValueError: boom\nTrace"),
    )

    assert lines == [
        "nbflow: 3 tasks, 1 already complete",
        "[1/3] RUNNING A(x=1)",
        "      A(x=1): halfway",
        "      A(x=1): http://logs/a1",
        "[2/3] DONE    A(x=1) 0.25 s",
        "[2/3] RUNNING B(x=1)",
        "[2/3] FAILED  B(x=1): ValueError: boom",
    ]


def test_plain_progress_pads_the_counter_to_the_total() -> None:
    tasks = [added(f"T_{i}") for i in range(12)]

    lines = plain_lines(*tasks, start("T_3"))

    assert lines[1] == "[ 0/12] RUNNING T(x=3)"


def test_plain_progress_holds_early_failures_until_the_graph_is_known() -> None:
    broken = changed("A_1", Status.FAILED, Status.PENDING, error="RuntimeError: x")

    lines = plain_lines(added("A_1"), broken, added("B_1"), added("C_1"), start("B_1"))

    assert lines == [
        "nbflow: 3 tasks, 0 already complete",
        "[0/3] FAILED  A(x=1): RuntimeError: x",
        "[0/3] RUNNING B(x=1)",
    ]


def test_plain_progress_close_writes_the_first_line_when_nothing_ran() -> None:
    assert plain_lines(added("A_1", done=True)) == [
        "nbflow: 1 task, 1 already complete"
    ]
    assert plain_lines(added("A_1", done=True), close=False) == []


def test_plain_progress_close_twice_writes_once() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.on_notification(added("A_1", done=True))

    with progress:
        progress.close()

    assert stream.getvalue().count("nbflow:") == 1


def test_plain_progress_writes_nothing_more_when_the_run_raised() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.on_notification(added("A_1"))

    progress.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)

    assert stream.getvalue() == ""


def test_plain_progress_is_silent_for_upstream_failures_and_progress() -> None:
    lines = plain_lines(
        added("A_1"),
        start("A_1"),
        TaskProgressed(0, 0.0, "A_1", 10.0),
        TaskMessage(0, 0.0, "A_1", ""),
        changed("B_1", Status.UPSTREAM_FAILED, Status.PENDING),
        changed("A_1", Status.PENDING, Status.FAILED),
    )

    assert lines == ["nbflow: 1 task, 0 already complete", "[0/1] RUNNING A(x=1)"]


def test_plain_progress_reports_disabled_and_batch_running() -> None:
    lines = plain_lines(
        added("A_1"),
        changed("A_1", Status.BATCH_RUNNING, Status.PENDING),
        changed("A_1", Status.DISABLED, Status.BATCH_RUNNING, error="too many"),
    )

    assert lines[1:] == ["[0/1] RUNNING A(x=1)", "[0/1] DISABLED A(x=1): too many"]


def test_run_progress_counts_statuses_and_tracks_running_tasks() -> None:
    progress = RunProgress()
    for notification in (
        added("A_1"),
        added("A_2", done=True),
        added("A_3"),
        start("A_1", at=5.0),
        start("A_3"),
        TaskProgressed(0, 0.0, "A_1", 40.0),
        TaskMessage(0, 0.0, "A_1", "reading"),
        TaskTrackingUrl(0, 0.0, "A_1", "http://x"),
        TaskMessage(0, 0.0, "gone", "ignored"),
        changed("A_3", Status.FAILED, Status.RUNNING),
    ):
        progress.on_notification(notification)

    task = progress.tasks["A_1"]
    assert (
        progress.total,
        progress.done,
        progress.failures,
        progress.already_complete,
    ) == (3, 1, 1, 1)
    assert (task.started, task.percentage, task.message, task.url) == (
        5.0,
        40.0,
        "reading",
        "http://x",
    )
    assert list(progress.running) == ["A_1"]
    assert progress.status_counts[Status.RUNNING] == 1
    assert progress.counts == {"PENDING": 0, "complete": 1, "RUNNING": 1, "FAILED": 1}
    assert progress.label("A_1") == "A(x=1)"
    assert progress.label("unknown_id") == "unknown_id"


def test_task_label_and_first_line() -> None:
    assert task_label("Clean", (("day", "2024-01-31"),)) == "Clean(day=2024-01-31)"
    assert task_label("Top", ()) == "Top()"
    assert first_line("\n  \nfirst\nsecond") == "first"
    assert first_line("") == ""


def render(progress: RichProgress) -> str:
    console = Console(file=io.StringIO(), width=140, color_system=None)
    console.print(progress)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_rich_progress_renders_bar_and_running_tasks() -> None:
    progress = RichProgress(io.StringIO())
    feed(
        progress,
        added("A_1"),
        added("A_2", done=True),
        added("A_3"),
        start("A_1"),
        TaskProgressed(0, 0.0, "A_1", 50.0),
        TaskMessage(0, 0.0, "A_1", "step [2] of 4"),
        TaskTrackingUrl(0, 0.0, "A_1", "http://logs/1"),
    )

    text = render(progress)

    assert "1/3 done" in text
    assert "1 already complete" in text
    assert "1 running" in text
    assert "A(x=1)" in text
    assert "50%" in text
    assert "step [2] of 4" in text
    assert "http://logs/1" in text


def test_rich_progress_prints_failures_and_counts_extra_running_tasks() -> None:
    stream = io.StringIO()
    progress = RichProgress(stream)
    tasks = [added(f"T_{i}") for i in range(12)]
    feed(progress, *tasks, *(start(f"T_{i}") for i in range(11)))

    progress.on_notification(
        changed("T_0", Status.FAILED, Status.RUNNING, error="KeyError: [k]\nmore")
    )

    assert "FAILED T(x=0): KeyError: [k]" in stream.getvalue()
    text = render(progress)
    assert "1 failed" in text
    assert "...and 2 more running" in text


def test_rich_progress_live_display_starts_and_stops() -> None:
    stream = io.StringIO()

    with RichProgress(stream, refresh_per_second=20) as progress:
        feed(progress, added("A_1"), start("A_1"), finish("A_1", at=1.0))

    assert "1/1 done" in stream.getvalue()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_for_picks_rich_on_a_terminal_only() -> None:
    assert isinstance(progress_for(io.StringIO()), PlainProgress)
    assert isinstance(progress_for(FakeTerminal()), RichProgress)


@pytest.mark.parametrize("module", ["nbflow.cli.main", "nbflow.cli.progress"])
def test_importing_the_cli_loads_no_rich_and_configures_no_logging(
    module: str,
) -> None:
    code = (
        f"import logging, sys, {module}\n"
        "print('rich' in sys.modules, logging.getLogger().handlers)"
    )

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout

    assert out.strip() == "False []"
