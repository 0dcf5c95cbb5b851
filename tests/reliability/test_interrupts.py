"""Ctrl-C and dying processes, with real `nbflow run` processes and real signals.

Every task notes the start of its run() in ``runs.log``, so a test can tell whether a
task started after the signal. Tasks write their output through ``open("w")`` (a
temporary sibling until the write completes), so a test can look for leftovers.
Every wait is bounded; a process still alive at the end of a test is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

#: Seconds any wait in these tests may last (the tasks would take 60 s).
BOUND = 10.0

PIPELINE = textwrap.dedent(
    """
    import os
    import pathlib
    import signal
    import time

    import nbflow

    HERE = pathlib.Path(__file__).parent
    OUT = HERE / "out"


    def note(line):
        with (HERE / "runs.log").open("a") as log:
            log.write(line + "\\n")


    class Slow(nbflow.Task):
        '''Writes its output in small steps for 60 s: Ctrl-C lands between steps.'''

        n = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(str(OUT / f"slow-{self.n}.txt"))

        def run(self):
            note(f"start {self.task_id}")
            with self.output().open("w") as out:
                for _ in range(1200):
                    out.write("x")
                    out.flush()
                    time.sleep(0.05)


    class Stuck(Slow):
        '''Blocks in one C call for 60 s: an interrupt cannot land until it returns.'''

        def run(self):
            note(f"start {self.task_id}")
            with self.output().open("w") as out:
                out.write("partial")
                out.flush()
                time.sleep(60)


    class Slows(nbflow.WrapperTask):
        def requires(self):
            return [Slow(n=n) for n in range(4)]


    class Stucks(nbflow.WrapperTask):
        def requires(self):
            return [Stuck(n=n) for n in range(2)]


    class Killed(nbflow.Task):
        '''Kills its own process once its sibling runs too.'''

        def output(self):
            return nbflow.LocalTarget(str(OUT / "killed.txt"))

        def run(self):
            note(f"start {self.task_id}")
            deadline = time.monotonic() + 30
            while not (HERE / "sibling-runs").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(os.getpid(), signal.SIGKILL)


    class Sibling(Slow):
        def run(self):
            (HERE / "sibling-runs").write_text("")
            super().run()


    class Later(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(OUT / "later.txt"))

        def run(self):
            with self.output().open("w") as out:
                out.write("done")


    class Broken(nbflow.WrapperTask):
        def requires(self):
            return [Killed(), Sibling(n=9), Later()]
    """
)


class Command:
    """One `nbflow run` process on the pipeline in a temporary folder."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.folder = folder
        self.stderr_path = folder / "stderr.txt"
        env = {**os.environ, "PYTHONPATH": str(folder), "NBFLOW_DEBUG": ""}
        command = [sys.executable, "-m", "nbflow", "run", "--no-lock"]
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [*command, "--module", "pipeline", *args],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,  # its own group: a timeout kills all of it
                # as in a terminal, even if this test runs with SIGINT ignored
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
            )
        self.stdout = ""

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def starts(self) -> list[str]:
        log = self.folder / "runs.log"
        return log.read_text().splitlines() if log.exists() else []

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> int:
        """Wait (bounded) for the process to exit; return its exit code."""
        try:
            self.stdout, _ = self.process.communicate(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.kill_all()
            pytest.fail(f"still running {BOUND} s after the signal:\n{self.stderr}")
        return self.process.returncode

    def kill_all(self) -> None:
        """Kill the process and anything it started (bounded)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.communicate(timeout=BOUND)

    def leftovers(self) -> list[str]:
        out = self.folder / "out"
        return sorted(path.name for path in out.iterdir()) if out.exists() else []


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {BOUND} s for {what}")
        time.sleep(0.02)


@pytest.fixture
def run_nbflow(tmp_path: Path) -> Iterator[Callable[..., Command]]:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    started: list[Command] = []

    def start(*args: str) -> Command:
        command = Command(tmp_path, *args)
        started.append(command)
        return command

    yield start
    for command in started:
        command.kill_all()


def writing_in_two_threads(run_nbflow: Callable[..., Command], root: str) -> Command:
    """Start ``root`` on two threads; return once two tasks write their temporaries."""
    command = run_nbflow(root, "--workers", "2", "--executor", "threads")
    wait_until(lambda: len(command.leftovers()) == 2, "two temporaries")
    return command


def test_ctrl_c_stops_threads_at_once_and_reports_them_cancelled(run_nbflow) -> None:
    command = writing_in_two_threads(run_nbflow, "Slows")

    command.interrupt()
    code = command.finish()

    assert code == 130
    assert len(command.starts()) == 2  # none of the other two started
    assert command.leftovers() == []  # no output, no temporary
    assert "* 2 were cancelled" in command.stdout
    assert "failed" not in command.stdout
    assert "Traceback" not in command.stderr
    assert "nbflow: error: interrupted" in command.stderr


def test_second_ctrl_c_quits_at_once_and_removes_temporaries(run_nbflow) -> None:
    command = writing_in_two_threads(run_nbflow, "Stucks")
    command.interrupt()
    wait_until(lambda: "Ctrl-C again" in command.stderr, "the hint to press again")

    command.interrupt()
    code = command.finish()

    assert code == 130
    assert command.leftovers() == []
    assert "Traceback" not in command.stderr
    assert "* 2 were cancelled" in command.stdout


def test_two_quick_ctrl_c_leave_no_traceback_and_no_temporaries(run_nbflow) -> None:
    command = writing_in_two_threads(run_nbflow, "Slows")

    command.interrupt()
    time.sleep(0.01)
    if command.process.poll() is None:
        command.interrupt()
    code = command.finish()

    assert code == 130
    assert command.leftovers() == []
    assert "Traceback" not in command.stderr


def test_killed_pool_process_names_its_task_and_signal(run_nbflow) -> None:
    command = run_nbflow(
        "Broken", "--workers", "2", "--executor", "processes", "--no-progress"
    )

    code = command.finish()

    assert code == 1
    killed = [line for line in command.stderr.splitlines() if "Killed()" in line]
    assert any("killed by signal SIGKILL" in line for line in killed), command.stderr
    assert "Sibling(n=9): stopped because another process of the pool died" in (
        command.stderr
    )
    assert "BrokenProcessPool" not in command.stderr
    assert "* 2 failed" in command.stdout
    assert (command.folder / "out" / "later.txt").exists()  # a fresh pool ran it


def test_killed_run_leaves_no_helper_process_holding_its_output(run_nbflow) -> None:
    command = run_nbflow(
        "Slows", "--workers", "2", "--executor", "processes", "--no-progress"
    )
    wait_until(lambda: len(command.starts()) == 2, "two tasks running")

    command.process.kill()  # SIGKILL: no clean-up runs in nbflow's process
    out, _ = command.process.communicate(timeout=BOUND)  # EOF: no one holds stdout

    assert command.process.returncode == -signal.SIGKILL
    assert out == ""
