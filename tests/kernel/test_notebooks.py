"""The tutorial notebooks run top to bottom (nbval, in its own pytest process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.notebook]

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_notebook_runs_under_nbval() -> None:
    notebook = ROOT / "notebooks" / "01_quickstart.ipynb"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            str(notebook),
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def test_quickstart_notebook_is_stored_without_outputs() -> None:
    import nbformat

    notebook = nbformat.read(ROOT / "notebooks" / "01_quickstart.ipynb", as_version=4)

    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None
