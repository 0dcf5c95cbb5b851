"""Choosing widgets or text, and the text view of big and failing runs."""

from __future__ import annotations

import io
import types

import pytest

import nbflow
from nbflow.core import config
from nbflow.core.errors import DefinitionTypeError
from nbflow.core.run import Run, worker_options
from nbflow.core.worker import Worker
from nbflow.kernel import display
from nbflow.kernel.display import DisplaySettingError, TextFollower, choose_display
from nbflow.kernel.record import RunRecord
from nbflow.kernel.session import Session

pytestmark = pytest.mark.kernel

KERNEL_SHELL = types.SimpleNamespace(kernel=object(), user_ns={})
TERMINAL_SHELL = types.SimpleNamespace(user_ns={})


@pytest.fixture(autouse=True)
def _no_display_env(monkeypatch) -> None:
    monkeypatch.delenv("NBFLOW_DISPLAY", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def test_server_launched_kernel_gets_widgets(monkeypatch) -> None:
    monkeypatch.setattr(display, "widget_classes", lambda: (object, object))
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/pipeline.ipynb")

    assert choose_display(KERNEL_SHELL) == "widgets"
    assert choose_display(KERNEL_SHELL, text=True) == "text"
    assert choose_display(TERMINAL_SHELL) == "text"


def test_headless_kernels_and_terminals_get_text(monkeypatch) -> None:
    monkeypatch.setattr(display, "widget_classes", lambda: (object, object))

    assert choose_display(KERNEL_SHELL) == "text"  # papermill, nbconvert, nbclient
    assert choose_display(TERMINAL_SHELL) == "text"
    assert choose_display(None) == "text"


def test_environment_forces_the_display(monkeypatch) -> None:
    monkeypatch.setattr(display, "widget_classes", lambda: (object, object))
    monkeypatch.setenv("NBFLOW_DISPLAY", "widgets")
    assert choose_display(None) == "widgets"

    monkeypatch.setenv("JPY_SESSION_NAME", "x.ipynb")
    monkeypatch.setenv("NBFLOW_DISPLAY", "Text")
    assert choose_display(KERNEL_SHELL) == "text"


def test_widgets_fall_back_to_text_without_nbflow_widgets(monkeypatch) -> None:
    monkeypatch.setattr(display, "widget_classes", lambda: None)
    monkeypatch.setenv("NBFLOW_DISPLAY", "widgets")

    assert choose_display(KERNEL_SHELL) == "text"


def test_bad_display_setting_says_what_and_how_to_fix(monkeypatch) -> None:
    monkeypatch.setenv("NBFLOW_DISPLAY", "gui")

    with pytest.raises(DisplaySettingError) as caught:
        choose_display(None)

    assert str(caught.value) == (
        "NBFLOW_DISPLAY: unknown display mode (got 'gui'). Expected widgets or text. "
        "Fix: set NBFLOW_DISPLAY to one of widgets or text, or unset it to choose by "
        "frontend."
    )


class Part(nbflow.Task):
    n = nbflow.IntParameter()

    def run(self) -> None:
        if self.n % 10 == 3:
            raise ValueError(f"bad part {self.n}")


class Whole(nbflow.WrapperTask):
    size = nbflow.IntParameter()

    def requires(self) -> list[Part]:
        return [Part(n=i) for i in range(self.size)]


def follow(size: int) -> tuple[str, RunRecord]:
    settings = config.current_settings()
    options = worker_options(settings, workers=1, executor="sync")
    root = Whole(size=size)
    run = Run(Worker(options=options), [root], settings)
    record = RunRecord(7, run, [root])
    run.subscribe(record)
    out = io.StringIO()
    follower = TextFollower(record, stream=out, interval=0.0)
    run.start()
    run.wait(10)
    follower.drain()
    follower.finish(run.result)
    return out.getvalue(), record


def test_text_view_of_a_big_run_is_concise() -> None:
    text, record = follow(200)

    lines = text.splitlines()
    assert lines[0] == "nbflow run 7: 201 tasks, 0 already complete, 201 to run"
    assert "done    Part(" not in text  # no line per task in a big run
    assert sum("FAILED  Part(" in line for line in lines) == 10  # the first ten
    assert "[180/201] FAILED  Part(n=3): ValueError: bad part 3" in text
    assert "done, 0 running, 20 failed" in text
    assert "* 20 failed:" in text  # the summary counts them all
    assert lines[-1].startswith("nbflow run 7 failed in ")
    assert record.counts()[nbflow.Status.FAILED] == 20


def test_text_view_of_a_small_run_has_a_line_per_task() -> None:
    text, _ = follow(3)

    assert "[1/4] done    Part(n=0) (" in text
    assert "[2/4] done    Part(n=1) (" in text
    assert "FAILED  Part(n=3)" not in text
    assert text.splitlines()[-1].startswith("nbflow run 7 succeeded in")


def test_session_rejects_unknown_options() -> None:
    with pytest.raises(DefinitionTypeError, match="Session.run.keywords"):
        Session().run(Part(n=1), display="text", wrokers=2)
