"""Two `nbflow run` processes at once: the command lock and the per-task claims.

Real processes on a 50-task graph written into a temporary folder. Every task notes
each start of its run() in a shared log, so a test counts how often each task ran.
``Leaf(i=0)`` can be held at a gate (a file the test creates; at most 30 s) so that a
test knows a run is alive and holds its lock.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Seconds any wait in these tests may last.
BOUND = 30.0
#: Tasks in the graph of ``Root``.
TASKS = 50
#: The task to run, after the options.
ROOT = ("--module", "pipeline", "Root")

PIPELINE = textwrap.dedent(
    """
    import os
    import pathlib
    import time

    import nbflow

    HERE = pathlib.Path(__file__).parent


    class Work(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(HERE / "out" / f"{self.task_id}.txt"))

        def run(self):
            with (HERE / "runs.log").open("a") as log:
                log.write(f"{self.task_id} {os.getpid()}\\n")
            time.sleep(float(os.environ.get("RUNS_SLEEP", "0.01")))
            with self.output().open("w") as out:
                out.write("done\\n")


    class Leaf(Work):
        i = nbflow.IntParameter()

        def run(self):
            if self.i == 0 and os.environ.get("RUNS_GATE"):
                (HERE / f"at-gate-{os.getpid()}").write_text("")
                deadline = time.monotonic() + 30
                while not (HERE / "gate").exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
            super().run()


    class Group(Work):
        g = nbflow.IntParameter()

        def requires(self):
            return [Leaf(i=self.g * 5 + k) for k in range(5)]


    class Root(Work):
        def requires(self):
            return [Group(g=g) for g in range(8)] + [Leaf(i=40)]
    """
)


@dataclass
class Project:
    """A folder with the pipeline module, its outputs and the run log."""

    root: Path
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, *options: str, gate: bool = False) -> subprocess.Popen[str]:
        """Start ``nbflow run --module pipeline Root`` with ``options``."""
        env = dict(os.environ, RUNS_GATE="1" if gate else "")
        env["NBFLOW_LOCK_PID_DIR"] = str(self.root / "locks")
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "run", "--no-progress", *options, *ROOT],
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        """Kill the runs still alive (after a failed test)."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate()

    def runs(self) -> collections.Counter[str]:
        """Return how many times each task's run() began."""
        log = self.root / "runs.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return collections.Counter(line.split()[0] for line in lines)

    def wait_at_gate(self, process: subprocess.Popen[str]) -> None:
        """Wait until ``process`` holds Leaf(i=0) at the gate."""
        marker = self.root / f"at-gate-{process.pid}"
        deadline = time.monotonic() + BOUND
        while not marker.exists():
            assert process.poll() is None, finish(process)
            assert time.monotonic() < deadline, "the run never reached the gate"
            time.sleep(0.02)

    def wait_for_holders(self, count: int) -> None:
        """Wait until ``count`` runs have written themselves into lock files."""
        deadline = time.monotonic() + BOUND
        while sum(bool(path.read_text()) for path in self.lock_files()) < count:
            assert time.monotonic() < deadline, "the runs never took their locks"
            time.sleep(0.02)

    def lock_files(self) -> list[Path]:
        """Return the command lock's slot files."""
        return list((self.root / "locks").glob("*.pid"))

    def open_gate(self) -> None:
        """Let Leaf(i=0) go on."""
        (self.root / "gate").write_text("")

    def reset(self) -> None:
        """Forget the outputs and the log, for another trial."""
        for path in [*self.root.glob("out/*"), *self.root.glob("runs.log")]:
            path.unlink()


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait (bounded) for ``process``; return its exit code, stdout and stderr."""
    try:
        out, err = process.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"run did not end in {BOUND} s:\n{out}\n{err}")
    return process.returncode, out, err


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "out").mkdir()
    made = Project(tmp_path)
    yield made
    made.stop_all()


def _assert_succeeded(result: tuple[int, str, str]) -> None:
    code, out, err = result
    assert code == 0, f"exit {code}\n{out}\n{err}"
    assert "This progress looks :)" in out, out
    assert re.search(r"^\* \d+ failed", out, re.MULTILINE) is None, out
    assert "Traceback" not in err, err


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((), ("--workers", "3")),
        (("--workers", "2"), ("--workers", "3")),
        (("--workers", "4"), ()),
    ],
    ids=["sync-threads", "threads-threads", "threads-sync"],
)
def test_concurrent_runs_run_every_task_once(
    project: Project, first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    for _ in range(2):
        project.reset()

        runs = [project.start(*first), project.start(*second)]
        results = [finish(process) for process in runs]

        for result in results:
            _assert_succeeded(result)
        counts = project.runs()
        assert len(counts) == TASKS
        assert {task: n for task, n in counts.items() if n != 1} == {}


def test_command_lock_second_identical_run_exits_with_already_running_code(
    project: Project,
) -> None:
    (project.root / "luigi.cfg").write_text("[retcode]\nalready_running = 3\n")
    first = project.start(gate=True)
    project.wait_at_gate(first)

    second = finish(project.start())
    project.open_gate()

    code, out, err = second
    assert code == 3, (code, out, err)
    assert f"already running: the same command runs as pid {first.pid}" in err
    assert "--take-lock" in err
    assert "--no-lock" in err
    _assert_succeeded(finish(first))
    assert set(project.runs().values()) == {1}


def test_command_lock_size_two_lets_two_identical_runs_work(project: Project) -> None:
    (project.root / "luigi.cfg").write_text("[retcode]\nalready_running = 3\n")
    first = project.start("--lock-size", "2", gate=True)
    project.wait_at_gate(first)
    second = project.start("--lock-size", "2")
    project.wait_for_holders(2)

    third = finish(project.start("--lock-size", "2"))
    project.open_gate()

    assert third[0] == 3, third
    assert "already running" in third[2]
    for result in (finish(first), finish(second)):
        _assert_succeeded(result)
    assert len(project.runs()) == TASKS
    assert set(project.runs().values()) == {1}


def test_command_lock_no_lock_runs_alongside(project: Project) -> None:
    (project.root / "luigi.cfg").write_text("[retcode]\nalready_running = 3\n")
    first = project.start(gate=True)
    project.wait_at_gate(first)

    second = project.start("--no-lock", "--workers", "2", gate=True)
    project.wait_at_gate(second)  # no claims: it runs Leaf(i=0) too
    project.open_gate()

    for result in (finish(first), finish(second)):
        _assert_succeeded(result)
    leaf_zero = [task for task in project.runs() if task.startswith("Leaf_0_")]
    assert [project.runs()[task] for task in leaf_zero] == [2]


def test_command_lock_of_a_killed_run_is_ignored(project: Project) -> None:
    (project.root / "luigi.cfg").write_text("[retcode]\nalready_running = 3\n")
    first = project.start(gate=True)
    project.wait_at_gate(first)
    locks = project.lock_files()
    first.kill()
    finish(first)

    second = finish(project.start())

    assert locks, "the killed run left no lock file"
    assert all(path.exists() for path in locks)
    _assert_succeeded(second)
    assert len(project.runs()) == TASKS


def test_command_lock_take_lock_takes_over_without_running_a_task_twice(
    project: Project,
) -> None:
    (project.root / "luigi.cfg").write_text("[retcode]\nalready_running = 3\n")
    first = project.start("--workers", "2", gate=True)
    project.wait_at_gate(first)
    taker = project.start("--workers", "2", "--take-lock")
    deadline = time.monotonic() + BOUND
    while not list((project.root / "locks").glob("*.taken")):
        assert time.monotonic() < deadline, finish(taker)
        time.sleep(0.02)

    third = finish(project.start("--workers", "2", "--take-lock"))
    project.open_gate()

    assert third[0] == 3, third
    assert "already took over with --take-lock" in third[2]
    old, new = finish(first), finish(taker)
    for result in (old, new):
        _assert_succeeded(result)
    assert "took over (--take-lock)" in old[2]
    assert f"taking over the lock from pid {first.pid}" in new[2]
    assert len(project.runs()) == TASKS
    assert set(project.runs().values()) == {1}
