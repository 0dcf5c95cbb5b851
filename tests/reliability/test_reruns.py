"""Killing a rerun at any point never loses the previous outputs (issue 9).

Each test runs real `nbflow run` processes (see rerun_harness): a forced rerun of a
two-output task is killed with SIGTERM or SIGKILL, then a plain run follows.
"""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

import pytest

from tests.reliability.rerun_harness import STEPS, RerunProject, kill

if TYPE_CHECKING:
    from pathlib import Path

#: What the next run finds after a kill at each step: the outputs, and what it says.
EXPECTED = {
    "started": ({"a": "old", "b": "old"}, ""),
    "writing-a": ({"a": "old", "b": "old"}, ""),
    "wrote-a": ({"a": "old", "b": "old"}, "restored the previous set"),
    "writing-b": ({"a": "old", "b": "old"}, "restored the previous set"),
    "wrote-b": ({"a": "new", "b": "new"}, "replaced all its outputs"),
}


@pytest.fixture
def rerun_project(tmp_path: Path) -> RerunProject:
    return RerunProject.create(tmp_path)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("step", STEPS)
def test_killed_rerun_leaves_old_or_new_and_next_run_restores_a_set(
    rerun_project: RerunProject, step: str, how: signal.Signals
) -> None:
    project = rerun_project
    process = project.start("new", "--force", "Pair", RERUN_PAUSE_AT=step)
    project.wait_for(step, process)

    kill(process, how)
    at_kill = project.versions()
    after = project.run("new")

    assert set(at_kill.values()) <= {"old", "new"}, at_kill
    outputs, message = EXPECTED[step]
    assert after.returncode == 0, after.stderr
    assert project.versions() == outputs
    assert message in after.stderr
    assert ("Pair()" in after.stderr) == bool(message)
    assert project.leftovers() == []


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15])
def test_rerun_killed_at_any_instant_keeps_whole_outputs(
    rerun_project: RerunProject, delay: float
) -> None:
    project = rerun_project
    process = project.start("new", "--force", "Pair", RERUN_CHUNK_SECONDS="0.02")
    project.wait_for("started", process)

    time.sleep(delay)
    kill(process, signal.SIGKILL)
    at_kill = project.versions()
    project.run("new").check_returncode()

    assert set(at_kill.values()) <= {"old", "new"}, at_kill
    assert set(project.versions().values()) in ({"old"}, {"new"})
    assert project.leftovers() == []


def test_failed_forced_rerun_keeps_the_previous_outputs(
    rerun_project: RerunProject,
) -> None:
    project = rerun_project
    process = project.start("new", "--force", "Pair", RERUN_PAUSE_AT="wrote-a")
    project.wait_for("wrote-a", process)

    kill(process, signal.SIGINT)

    assert project.versions() == {"a": "old", "b": "old"}
    assert project.leftovers() == []
