"""The progress and failure panels rendered from a run's progress: retries, escaping."""

from __future__ import annotations

import builtins
import doctest

import pytest

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
from nbflow.widgets import dag, layout, progress, text
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
