"""Stale results are never shown as fresh (issue 9), through real `nbflow` processes.

A user runs a pipeline in exists mode (the CLI default), switches to fingerprints,
adopts the outputs, then edits a constant in a helper module.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

HELPER = 'SUFFIX = "!"\n'

PIPELINE = """
import nbflow

import stale_helper

OUT = {out!r}


class Base(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(OUT + "/base.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("base" + stale_helper.SUFFIX)


class Top(nbflow.Task):
    def requires(self):
        return Base()

    def output(self):
        return nbflow.LocalTarget(OUT + "/top.txt")

    def run(self):
        with self.input().open() as f, self.output().open("w") as out:
            out.write(f.read().upper())
"""


def _nbflow(folder: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbflow", *argv, "--module", "stale_pipeline", "Top"],
        cwd=folder,  # python -m puts it on sys.path: the modules import
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _sidecars(folder: Path) -> set[str]:
    return {path.name for path in folder.glob(".*.nbflow.json")}


def test_stale_exists_mode_pipeline_adopted_then_a_constant_edit_reruns(
    tmp_path: Path,
) -> None:
    (tmp_path / "stale_helper.py").write_text(HELPER)
    (tmp_path / "stale_pipeline.py").write_text(PIPELINE.format(out=str(tmp_path)))
    fingerprint = ("--completeness", "fingerprint")
    _nbflow(tmp_path, "run", "--no-progress")

    unversioned = _nbflow(tmp_path, "why", *fingerprint)
    dry = _nbflow(tmp_path, "run", *fingerprint, "--accept", "Top", "--dry-run")
    sidecars_after_dry_run = _sidecars(tmp_path)
    _nbflow(tmp_path, "run", *fingerprint, "--accept", "Top", "--no-progress")
    (tmp_path / "stale_helper.py").write_text('SUFFIX = "?"\n')
    stale = _nbflow(tmp_path, "why", *fingerprint)
    _nbflow(tmp_path, "run", *fingerprint, "--no-progress")
    fresh = _nbflow(tmp_path, "why", *fingerprint)

    assert "skip  Top()   unversioned" in unversioned
    assert "--accept Top to adopt them, --force Top to rebuild" in unversioned
    assert "would accept  Top()" in dry
    assert sidecars_after_dry_run == set()
    assert "RUN   Top()   stale: upstream Base() changed" in stale
    assert "RUN   Base()  stale: unversioned" in stale
    assert (tmp_path / "top.txt").read_text() == "BASE?"
    assert "0 of 2 tasks would run." in fresh
