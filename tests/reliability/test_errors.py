"""Errors that used to read as crashes, seen from a real `nbflow` process (issue 9).

Each test runs `python -m nbflow` in a fresh interpreter, bounded by a timeout, and
checks the exit code and what a user reads: the user's paths and code, never nbflow's
temporary names or frames.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

TIMEOUT = 120

PIPELINE = """
import nbflow


class Write(nbflow.Task):
    folder = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(f"{self.folder}/out.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("new")


class RequiresTarget(nbflow.Task):
    def requires(self):
        return nbflow.LocalTarget("somewhere.txt")

    def run(self):
        pass


class RequiresName(nbflow.Task):
    def requires(self):
        return "Write"

    def run(self):
        pass


class OutputString(nbflow.Task):
    def output(self):
        return "out.txt"

    def run(self):
        pass


class YieldsNumber(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget("yields.txt")

    def run(self):
        yield 42


class Numbered(nbflow.Task):
    i = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(f"numbered/{self.i}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("x")


class AllNumbered(nbflow.WrapperTask):
    def requires(self):
        return [Numbered(i=i) for i in range(1, 13)]
"""

#: Where each definition error is in PIPELINE: the method's `def` line (for run(), the
#: line of the bad `yield`).
DEFINITION_ERRORS = {
    "RequiresTarget": ("requires", 17, "return the task that makes this target"),
    "RequiresName": ("requires", 25, "return an instance such as Write()"),
    "OutputString": ("output", 33, "wrap the path in a target"),
    "YieldsNumber": ("run", 45, "yield Task instances"),  # the `yield` itself
}


def nbflow_cli(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m nbflow ARGS` in ``cwd`` with the pipeline importable."""
    environ = {**os.environ, "PYTHONPATH": str(cwd), **(env or {})}
    for name in ("NBFLOW_DEBUG", "LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH"):
        environ.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "errors_pipeline.py").write_text(textwrap.dedent(PIPELINE), "utf-8")
    return tmp_path


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable for this user (root included: chattr +i)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    done = chattr and subprocess.run(
        [chattr, "+i", str(folder)], capture_output=True, timeout=30, check=False
    )
    if not done or done.returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], timeout=30, check=True)


@pytest.mark.parametrize("existing", [False, True], ids=["first run", "rerun"])
def test_read_only_output_folder_is_the_tasks_failure_naming_the_output(
    project: Path, existing: bool
) -> None:
    folder = project / "locked"
    folder.mkdir()
    if existing:
        (folder / "out.txt").write_text("old")

    with read_only(folder):
        done = nbflow_cli(
            project,
            "run",
            "--no-progress",
            "--module",
            "errors_pipeline",
            "Write",
            "--folder",
            "locked",
            "--force",
            "Write",
        )

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Write(folder=locked): cannot write output 'locked/out.txt'" in output
    assert "Fix: make 'locked' writable" in output
    assert "nbflow-tmp" not in output
    assert "unexpected" not in output
    assert sorted(p.name for p in folder.iterdir()) == (["out.txt"] if existing else [])
    if existing:
        assert (folder / "out.txt").read_text() == "old"


@pytest.mark.parametrize("task", list(DEFINITION_ERRORS))
def test_definition_error_shows_the_users_line_and_fix_and_exits_2(
    project: Path, task: str
) -> None:
    method, line, fix = DEFINITION_ERRORS[task]

    done = nbflow_cli(
        project, "run", "--no-progress", "--module", "errors_pipeline", task
    )

    pipeline = project / "errors_pipeline.py"
    assert done.returncode == 2, done.stderr
    assert f"{task}().{method}() ({pipeline}:{line})" in done.stderr
    assert f"Fix: {fix}" in done.stderr
    assert "/nbflow/" not in done.stderr
    assert "Traceback" not in done.stderr


def test_log_level_info_prints_the_summary_once(project: Path) -> None:
    done = nbflow_cli(
        project,
        "run",
        "--no-progress",
        "--log-level",
        "INFO",
        "--module",
        "errors_pipeline",
        "AllNumbered",
    )

    both = done.stdout + done.stderr
    assert done.returncode == 0, both
    assert both.count("This progress looks") == 1
    assert "- 12 Numbered(i=1...12)" in done.stdout


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys")
def test_export_into_sys_is_a_usage_error_naming_the_file(project: Path) -> None:
    notebook = project / "nb.ipynb"
    notebook.write_text(
        '{"cells": [{"cell_type": "code", "source": "X = 1", "metadata": {},'
        ' "outputs": [], "execution_count": null}], "metadata": {},'
        ' "nbformat": 4, "nbformat_minor": 5}',
        "utf-8",
    )

    done = nbflow_cli(project, "export", "nb.ipynb", "-o", "/sys/nbflow-export.py")

    assert done.returncode == 2, done.stderr
    assert "nbflow export: cannot write the module" in done.stderr
    assert "'/sys/nbflow-export.py'" in done.stderr
    assert "nbflow-tmp" not in done.stderr


def test_unknown_core_key_warns_with_the_closest_key(project: Path) -> None:
    (project / "luigi.cfg").write_text("[core]\nworkerz = 3\n", "utf-8")

    done = nbflow_cli(
        project, "run", "--no-progress", "--module", "errors_pipeline", "AllNumbered"
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr.count("nbflow: warning: ") == 1
    assert "unknown key in [core], ignored (got 'workerz')" in done.stderr
    assert "Did you mean: workers?" in done.stderr
