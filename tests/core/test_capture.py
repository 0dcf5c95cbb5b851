from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
import types
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core import capture
from nbflow.core.capture import (
    MAX_LINE_CHARS,
    MAX_LINES,
    CapturedOutput,
    LiveOutput,
    LogDelta,
    capturing,
    installed,
    resolve_mode,
)
from nbflow.core.errors import CaptureModeError
from nbflow.core.events import Status, TaskAdded, TaskOutput, TaskStatusChanged
from nbflow.core.progress import RunProgress
from nbflow.core.run import RunOptions, start_run
from nbflow.core.stream import RecordingListener

if TYPE_CHECKING:
    from collections.abc import Iterator


def _console(monkeypatch: pytest.MonkeyPatch) -> tuple[io.StringIO, io.StringIO]:
    """Put fresh stand-ins for the console streams (what the user would see).

    Called in the test's body: pytest's own capture resets the streams after fixtures.
    """
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


def _in_thread(function) -> None:
    errors: list[BaseException] = []

    def call() -> None:
        try:
            function()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


# --- modes --------------------------------------------------------------------------


def test_resolve_mode_auto_captures_background_runs_and_tees_blocking_ones() -> None:
    assert resolve_mode(None, background=True) == "capture"
    assert resolve_mode("auto", background=False) == "tee"
    assert resolve_mode(" Tee ", background=True) == "tee"


def test_resolve_mode_unknown_value_says_what_and_how_to_fix() -> None:
    with pytest.raises(CaptureModeError) as raised:
        resolve_mode("loud", background=False)

    message = str(raised.value)
    assert "capture_output: unknown mode (got 'loud')" in message
    assert "Expected one of auto, tee, capture, off" in message
    assert "Fix:" in message
    assert "[worker]" in message


def test_run_options_reject_an_unknown_capture_mode() -> None:
    class CaptureModeCheck(nbflow.Task):
        def run(self) -> None:
            pass

    with pytest.raises(CaptureModeError):
        start_run([CaptureModeCheck()], RunOptions(capture_output="loud"))


# --- the tail -----------------------------------------------------------------------


def test_task_output_keeps_the_last_lines_only() -> None:
    output = CapturedOutput("A")

    output.write("".join(f"line {n}\n" for n in range(MAX_LINES + 50)))

    lines = output.lines()
    assert len(lines) == MAX_LINES
    assert lines[0] == "line 50"
    assert lines[-1] == f"line {MAX_LINES + 49}"


def test_task_output_cuts_long_lines() -> None:
    output = CapturedOutput("A")

    output.write("x" * (MAX_LINE_CHARS * 3) + "\nshort\n")
    output.write("y" * (MAX_LINE_CHARS * 3))  # no newline yet

    long_line, short, partial = output.lines()
    assert len(long_line) == MAX_LINE_CHARS
    assert long_line.endswith("[... cut]")
    assert short == "short"
    assert len(partial) == MAX_LINE_CHARS


def test_task_output_carriage_return_rewrites_the_line() -> None:
    output = CapturedOutput("A")

    output.write("10%\r")
    output.write("60%\r100%\r\n")
    output.write("done\r\n")

    assert output.lines() == ("100%", "done")


def test_task_output_progress_bar_keeps_only_its_latest_state() -> None:
    output = CapturedOutput("A")

    output.write("50%\r")
    shown_between = output.lines()
    output.write("100%")
    for n in range(10_000):  # a progress bar that never ends its line
        output.write(f"\r{n}")

    assert shown_between == ("50%",)
    assert output.lines() == ("9999",)


def test_task_output_joins_writes_into_lines() -> None:
    output = CapturedOutput("A")

    output.write("a")
    output.write("b\nc")

    assert output.lines() == ("ab", "c")
    assert CapturedOutput("B").lines() == ()


# --- routing by thread --------------------------------------------------------------


def test_capture_mode_keeps_a_task_threads_writes_off_the_console(monkeypatch) -> None:
    out, err = _console(monkeypatch)
    captured: list[tuple[str, ...]] = []

    def task() -> None:
        with capturing("A", "capture") as output:
            print("from the task")  # noqa: T201
            print("to stderr", file=sys.stderr)  # noqa: T201
            assert output is not None
            captured.append(output.lines())

    with installed("capture"):
        print("from the main thread")  # noqa: T201
        _in_thread(task)

    assert captured == [("from the task", "to stderr")]
    assert out.getvalue() == "from the main thread\n"
    assert err.getvalue() == ""
    assert sys.stdout is out
    assert sys.stderr is err


def test_tee_mode_captures_and_still_writes_to_the_console(monkeypatch) -> None:
    out, _ = _console(monkeypatch)

    with capturing("A", "tee") as output:
        print("seen twice")  # noqa: T201

    assert output is not None
    assert output.lines() == ("seen twice",)
    assert out.getvalue() == "seen twice\n"


def test_off_mode_touches_nothing(monkeypatch) -> None:
    out, _ = _console(monkeypatch)

    with capturing("A", "off") as output, installed("off"):
        assert sys.stdout is out
        print("plain")  # noqa: T201

    assert output is None
    assert out.getvalue() == "plain\n"


def test_streams_are_put_back_after_an_error(monkeypatch) -> None:
    out, err = _console(monkeypatch)

    def interrupted() -> None:
        with installed("capture"), capturing("A", "capture"):
            assert sys.stdout is not out
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()

    assert sys.stdout is out
    assert sys.stderr is err
    assert capture._CAPTURE.outputs == {}


def test_a_stream_replaced_meanwhile_is_left_alone(monkeypatch) -> None:
    _console(monkeypatch)
    theirs = io.StringIO()

    with installed("capture"):
        sys.stdout = theirs

    assert sys.stdout is theirs


def test_the_dispatching_stream_passes_other_attributes_through(monkeypatch) -> None:
    out, _ = _console(monkeypatch)

    with installed("capture"):
        assert sys.stdout.getvalue() == ""  # type: ignore[attr-defined]
        sys.stdout.writelines(["a", "b\n"])
        sys.stdout.flush()

    assert out.getvalue() == "ab\n"


def test_nested_capture_gives_the_outer_task_its_thread_back(monkeypatch) -> None:
    _console(monkeypatch)
    with capturing("outer", "capture") as outer:
        print("one")  # noqa: T201
        with capturing("inner", "capture") as inner:
            print("two")  # noqa: T201
        print("three")  # noqa: T201

    assert outer is not None
    assert inner is not None
    assert outer.lines() == ("one", "three")
    assert inner.lines() == ("two",)


# --- logging ------------------------------------------------------------------------


def test_console_log_handlers_are_captured_per_thread_and_restored(monkeypatch) -> None:
    out, err = _console(monkeypatch)
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("nbflow-tests.capture.console")
    log.addHandler(handler)
    log.propagate = False
    try:
        with installed("capture"):
            log.warning("from the main thread")
            with capturing("A", "capture") as output:
                log.warning("from the task")
    finally:
        log.removeHandler(handler)

    assert output is not None
    assert output.lines() == ("WARNING from the task",)
    assert err.getvalue() == "WARNING from the main thread\n"
    assert handler.stream is err
    assert out.getvalue() == ""


def test_records_without_a_handler_are_captured_from_last_resort(monkeypatch) -> None:
    _, err = _console(monkeypatch)
    log = logging.getLogger("nbflow-tests.capture.unhandled")
    log.propagate = False

    with capturing("A", "capture") as output:
        log.warning("nobody configured logging")

    assert output is not None
    assert output.lines() == ("nobody configured logging",)
    assert err.getvalue() == ""


def test_file_handlers_are_not_touched(monkeypatch, tmp_path) -> None:
    _console(monkeypatch)
    handler = logging.FileHandler(tmp_path / "log.txt")
    log = logging.getLogger("nbflow-tests.capture.file")
    log.addHandler(handler)
    log.propagate = False
    try:
        with capturing("A", "capture") as output:
            log.warning("to the file")
    finally:
        log.removeHandler(handler)
        handler.close()

    assert output is not None
    assert output.lines() == ()
    assert (tmp_path / "log.txt").read_text() == "to the file\n"


def test_console_handler_subclasses_are_captured_and_unopened_files_left(
    monkeypatch, tmp_path
) -> None:
    _, err = _console(monkeypatch)

    class Colored(logging.StreamHandler):  # e.g. a colouring handler
        pass

    console_handler = Colored(err)
    unopened = logging.FileHandler(tmp_path / "later.txt", delay=True)
    log = logging.getLogger("nbflow-tests.capture.subclass")
    log.addHandler(console_handler)
    log.addHandler(unopened)
    log.propagate = False
    try:
        with installed("capture"):
            assert unopened.stream is None
            with capturing("A", "capture") as output:
                log.warning("colored")
    finally:
        log.removeHandler(console_handler)
        log.removeHandler(unopened)
        unopened.close()

    assert output is not None
    assert output.lines() == ("colored",)
    assert err.getvalue() == ""
    assert console_handler.stream is err
    assert (tmp_path / "later.txt").read_text() == "colored\n"


# --- live snapshots -----------------------------------------------------------------


def test_live_snapshots_reach_the_callback_while_the_task_runs(monkeypatch) -> None:
    _console(monkeypatch)
    seen: list[tuple[str, str, LiveOutput]] = []
    arrived = threading.Event()

    def on_output(task_id: str, kind: str, live: LiveOutput) -> None:
        seen.append((task_id, kind, live))
        arrived.set()

    with capturing("A", "capture", on_output):
        print("working")  # noqa: T201
        assert arrived.wait(30)

    assert seen[0] == (
        "A",
        "output",
        LiveOutput(("working",), LogDelta(0, "working\n")),
    )


def test_a_failing_live_callback_is_dropped_and_logged(monkeypatch, caplog) -> None:
    _console(monkeypatch)
    calls: list[int] = []
    done = threading.Event()

    def broken(task_id: str, kind: str, live: LiveOutput) -> None:
        calls.append(len(live.lines))
        done.set()
        raise BrokenPipeError

    with capturing("A", "capture", broken) as output:
        print("x")  # noqa: T201
        assert done.wait(30)
        assert output is not None
        # the sender drops the callback just after it raised, in its own thread
        deadline = time.monotonic() + 30
        while output.reporter is not None and time.monotonic() < deadline:
            time.sleep(0.01)

    assert output is not None
    assert output.reporter is None
    assert calls == [1]
    assert "live output of A could not be sent" in caplog.text


# --- through a run ------------------------------------------------------------------


#: Logs to the console as ``logging.basicConfig()`` would (pytest's handler aside).
_SHOUTER_LOG = logging.getLogger("nbflow-tests.shouter")
_SHOUTER_LOG.propagate = False


@contextlib.contextmanager
def _shouter_console() -> Iterator[None]:
    """Give the shouter's logger a console handler (on stderr, as basicConfig does)."""
    handler = logging.StreamHandler(sys.stderr)
    _SHOUTER_LOG.addHandler(handler)
    try:
        yield
    finally:
        _SHOUTER_LOG.removeHandler(handler)


class CaptureShouter(nbflow.Task):
    """Prints, logs and fails on request (module level: processes import it)."""

    n = nbflow.IntParameter()

    def run(self) -> None:
        print(f"shout {self.n}")  # noqa: T201
        _SHOUTER_LOG.warning("warned %d", self.n)
        if self.n < 0:
            raise ValueError(self.n)


class CaptureShouters(nbflow.WrapperTask):
    def requires(self) -> list[CaptureShouter]:
        return [CaptureShouter(n=1), CaptureShouter(n=2), CaptureShouter(n=-1)]


@pytest.mark.parametrize(
    ("executor", "workers"), [("sync", 1), ("threads", 2), ("processes", 2)]
)
def test_a_run_puts_each_tasks_output_in_its_state(capfd, executor, workers) -> None:
    recorder = RecordingListener()
    options = RunOptions(workers=workers, executor=executor, capture_output="capture")

    with _shouter_console():
        run = start_run([CaptureShouters()], options, listeners=[recorder])

    assert run.progress is not None
    states = {s.label: s for s in run.progress.tasks.values()}
    assert states["CaptureShouter(n=1)"].output == ("shout 1", "warned 1")
    assert states["CaptureShouter(n=2)"].output == ("shout 2", "warned 2")
    failed = states["CaptureShouter(n=-1)"]
    assert failed.state == "FAILED"
    assert failed.output == ("shout -1", "warned -1")
    ended = [
        n
        for n in recorder.notifications
        if isinstance(n, TaskStatusChanged) and n.status is Status.DONE and n.output
    ]
    assert len(ended) == 2  # the wrapper printed nothing: no output on its change
    if executor != "processes":  # a child's stdout is whatever it inherited
        assert "shout" not in capfd.readouterr().out


def test_tee_run_still_prints_each_line(capsys) -> None:
    options = RunOptions(executor="sync", capture_output="tee")

    run = start_run([CaptureShouter(n=7)], options)

    assert run.progress is not None
    assert "shout 7" in capsys.readouterr().out
    assert run.progress.tasks[CaptureShouter(n=7).task_id].output[0] == "shout 7"


def test_a_task_printing_nothing_carries_no_output() -> None:
    class CaptureQuiet(nbflow.Task):
        def run(self) -> None:
            pass

    recorder = RecordingListener()

    start_run(
        [CaptureQuiet()], RunOptions(capture_output="capture"), listeners=[recorder]
    )

    changes = [n for n in recorder.notifications if isinstance(n, TaskStatusChanged)]
    assert changes
    assert all(n.output == () for n in changes)


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_live_output_is_published_while_the_task_runs(executor, tmp_path) -> None:
    # the task waits until its first lines were published, so nothing is timed
    module = types.ModuleType("capture_live_cell")
    sys.modules[module.__name__] = module
    flag = tmp_path / "seen"
    source = (
        "import nbflow, os, time\n"
        "class CaptureLive(nbflow.Task):\n"
        "    def run(self):\n"
        "        print('started')\n"
        "        for _ in range(3000):\n"
        f"            if os.path.exists({str(flag)!r}):\n"
        "                break\n"
        "            time.sleep(0.01)\n"
        "        print('finished')\n"
    )
    exec(compile(source, "<capture cell>", "exec"), module.__dict__)

    class Seen(RecordingListener):
        def on_notification(self, notification) -> None:
            super().on_notification(notification)
            if isinstance(notification, TaskOutput):
                flag.write_text("yes")

    recorder = Seen()
    try:
        options = RunOptions(workers=2, executor=executor, capture_output="capture")
        run = start_run([module.CaptureLive()], options, listeners=[recorder])
    finally:
        del sys.modules[module.__name__]

    live = [n for n in recorder.notifications if isinstance(n, TaskOutput)]
    assert live[0].lines == ("started",)
    assert run.progress is not None
    (state,) = run.progress.tasks.values()
    assert state.output == ("started", "finished")


def test_the_model_keeps_live_output_and_forgets_it_on_a_retry() -> None:
    progress = RunProgress()
    progress.on_notification(TaskAdded(1, 0.0, "A", "A", (), (), Status.PENDING))
    progress.on_notification(
        TaskStatusChanged(2, 1.0, "A", Status.RUNNING, Status.PENDING)
    )

    progress.on_notification(TaskOutput(2, 1.5, "A", ("half way",)))
    live = progress.tasks["A"].output
    progress.on_notification(
        TaskStatusChanged(
            3,
            2.0,
            "A",
            Status.FAILED,
            Status.RUNNING,
            error="E",
            output=("half way", "failed"),
            full_traceback="Traceback ...",
        )
    )
    failed = (progress.tasks["A"].output, progress.tasks["A"].full_traceback)
    detail = progress.detail("A")
    progress.on_notification(
        TaskStatusChanged(4, 3.0, "A", Status.RUNNING, Status.FAILED)
    )

    assert live == ("half way",)
    assert failed == (("half way", "failed"), "Traceback ...")
    assert detail["output"] == ["half way", "failed"]
    assert detail["full_traceback"] == "Traceback ..."
    assert progress.tasks["A"].output == ()
    assert progress.tasks["A"].full_traceback == ""


def test_a_background_run_captures_and_keeps_no_live_snapshots(capfd, tmp_path) -> None:
    flag = tmp_path / "seen"

    class CaptureInBackground(nbflow.Task):
        def run(self) -> None:
            print("first")  # noqa: T201
            while not flag.exists():
                threading.Event().wait(0.01)
            print("second")  # noqa: T201

    class Seen(RecordingListener):
        def on_notification(self, notification) -> None:
            super().on_notification(notification)
            if isinstance(notification, TaskOutput):
                flag.write_text("yes")

    recorder = Seen()
    run = start_run(
        [CaptureInBackground()],
        RunOptions(executor="threads", workers=2),
        listeners=[recorder],
        background=True,
    )
    run.wait(60)

    assert any(isinstance(n, TaskOutput) for n in recorder.notifications)
    assert not any(isinstance(n, TaskOutput) for n in run.notifications)
    assert run.progress is not None
    (state,) = run.progress.tasks.values()
    assert state.output == ("first", "second")
    assert "first" not in capfd.readouterr().out
