"""Temporaries of dead runs are cleaned up by the next run; a live run's never (issue 9).

Real `nbflow run` processes (see rerun_harness), killed with SIGKILL.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import pytest

from tests.reliability.rerun_harness import RerunProject, kill

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def temporaries_project(tmp_path: Path) -> RerunProject:
    return RerunProject.create(tmp_path)


def test_next_run_keeps_a_live_runs_temporaries_and_removes_a_dead_ones(
    temporaries_project: RerunProject,
) -> None:
    project = temporaries_project
    live = project.start("new", "--force", "Pair", RERUN_PAUSE_AT="writing-b")
    project.wait_for("writing-b", live)
    during = project.leftovers()

    beside = project.run("new")
    kept = project.leftovers()
    kill(live, signal.SIGKILL)
    after = project.run("new")

    assert beside.returncode == 0, beside.stderr
    assert any(name.endswith("-b.txt") for name in during), during
    assert any(name.endswith(".journal") for name in during), during
    assert kept == during
    assert after.returncode == 0, after.stderr
    assert project.leftovers() == []
    assert project.versions() == {"a": "old", "b": "old"}


def test_next_run_removes_temporaries_of_a_killed_first_run(tmp_path: Path) -> None:
    project = RerunProject.create(tmp_path)
    for name in "ab":
        (project.out / f"{name}.txt").unlink()
    first = project.start("new", RERUN_PAUSE_AT="writing-a")
    project.wait_for("writing-a", first)
    kill(first, signal.SIGKILL)
    left = project.leftovers()

    again = project.run("new")

    assert len(left) == 1, left
    assert again.returncode == 0, again.stderr
    assert project.leftovers() == []
    assert project.versions() == {"a": "new", "b": "new"}
