"""The progress and failure panels rendered from a run's progress: retries, escaping."""

from __future__ import annotations

import builtins
import doctest

import pytest

from nbflow.core import layout
from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskMessage,
    TaskStatusChanged,
    TaskTrackingUrl,
)
from nbflow.core.progress import RunProgress
from nbflow.widgets import dag, progress, text
from nbflow.widgets.progress import failures_html, progress_html

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED
EVIL = '<script>alert("x")</script>'


def board_of(*notifications: object) -> RunProgress:
    board = RunProgress()
    for notification in notifications:
        board.on_notification(notification)  # type: ignore[arg-type]
    return board


def test_board_retry_leaves_the_failure_panel() -> None:
    board = board_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        TaskStatusChanged(2, 1.0, "a", R, P),
        TaskStatusChanged(3, 2.0, "a", F, R, error="E: boom", traceback="tb"),
    )
    assert "a" in board.failed

    board.on_notification(TaskStatusChanged(4, 3.0, "a", P, F))
    board.on_notification(TaskStatusChanged(5, 4.0, "a", R, P))
    board.on_notification(TaskStatusChanged(6, 5.0, "a", D, R))

    assert not board.failed
    assert failures_html(board) == ""
    assert board.detail("a")["error"] == ""


def test_html_escapes_everything_from_tasks() -> None:
    board = board_of(
        TaskAdded(1, 0.0, EVIL, EVIL, ((EVIL, EVIL),), (), P),
        RunStarted(2, 0.0, "r", (), 1),
        TaskStatusChanged(3, 1.0, EVIL, R, P),
        TaskMessage(4, 1.0, EVIL, EVIL),
        TaskTrackingUrl(5, 1.0, EVIL, "https://x/" + EVIL),
    )
    running = progress_html(board, now=2.0)
    board.on_notification(
        TaskStatusChanged(6, 2.0, EVIL, F, R, error=EVIL, traceback=EVIL)
    )
    board.on_notification(RunFinished(7, 3.0, "r", EVIL, ()))

    for html in (running, progress_html(board), failures_html(board)):
        assert "<script" not in html
        assert 'alert("x")' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in running
    assert 'rel="noopener noreferrer"' in running


@pytest.mark.parametrize("module", [dag, layout, progress, text])
def test_widget_doctests_pass(module: object, monkeypatch: pytest.MonkeyPatch) -> None:
    # doctest's displayhook writes builtins._, which stops IPython shells in later
    # tests from setting `_`: let monkeypatch put builtins back as they were
    monkeypatch.setattr(builtins, "_", None, raising=False)

    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]

    assert failures == 0


def run_of(done: int, failed: int) -> RunProgress:
    notifications: list[object] = [
        TaskAdded(i, 0.0, f"t{i}", "T", (("i", str(i)),), (), P)
        for i in range(done + failed)
    ]
    notifications.append(RunStarted(10_000, 0.0, "r", (), done + failed))
    for i in range(done + failed):
        final = D if i < done else F
        notifications.append(TaskStatusChanged(20_000 + i, 1.0, f"t{i}", R, P))
        notifications.append(TaskStatusChanged(30_000 + i, 2.0, f"t{i}", final, R))
    notifications.append(RunFinished(40_000, 3.0, "r", "failed", ()))
    return board_of(*notifications)


def test_progress_of_a_failed_run_never_reads_100_percent() -> None:
    html = progress_html(run_of(2018, 3))

    assert "2018/2021 done (99%) · 3 failed" in html
    assert "(100%)" not in html
    assert 'aria-valuenow="99"' in html


def test_progress_reads_100_percent_only_when_all_is_done() -> None:
    assert "3/3 done (100%)" in progress_html(run_of(3, 0))
    assert progress.percent_done(199, 200) == 99
    assert progress.percent_done(1, 3) == 33


def test_tracking_link_looks_like_a_link_with_its_url_on_hover() -> None:
    board = board_of(
        TaskAdded(1, 0.0, "a", "A", (), (), P),
        RunStarted(2, 0.0, "r", (), 1),
        TaskStatusChanged(3, 1.0, "a", R, P),
        TaskTrackingUrl(4, 1.0, "a", "https://ci.example/job/7"),
    )

    html = progress_html(board, now=2.0)

    assert 'class="nbflow-link"' in html
    assert 'title="https://ci.example/job/7"' in html
    assert "var(--jp-content-link-color" in html
    assert ".nbflow-link:hover" in html  # underlined on hover


def test_failure_panel_shows_the_tail_of_the_task_output() -> None:
    board = run_of(0, 1)
    board.tasks["t0"].output = tuple(f"line {i} <b>" for i in range(30))

    html = failures_html(board)

    assert "Output (last 20 lines)" in html
    assert "line 29 &lt;b&gt;" in html
    assert "line 9 &lt;b&gt;" not in html
    assert "<b>" not in html.replace("<b>T(i=0)</b>", "")


def test_output_tail_splits_chunks_into_lines() -> None:
    board = run_of(0, 1)
    board.tasks["t0"].output = ("one\ntwo\n", "three")

    assert progress.output_tail(board.tasks["t0"], limit=2) == ["two", "three"]
    assert progress.output_tail(board.tasks["t0"], limit=0) == []
