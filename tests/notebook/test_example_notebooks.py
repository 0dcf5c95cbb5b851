"""The tutorial notebooks 02-05 run cleanly (nbval, in a scratch copy of notebooks/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
MINE = (
    "02_top_artists_etl.ipynb",
    "03_notebook_as_task.ipynb",
    "04_production_papermill.ipynb",
    "05_export_to_cli.ipynb",
)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("name", MINE)
def test_example_notebook_runs_under_nbval(name: str, tmp_path: Path) -> None:
    scratch = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, scratch, ignore=shutil.ignore_patterns("data", ".*"))

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", "--rootdir", str(scratch), name],
        capture_output=True, text=True, cwd=scratch, check=False, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_example_notebooks_are_stored_without_outputs() -> None:
    import json

    for name in (*MINE, "tasks/clean.ipynb"):
        notebook = json.loads((NOTEBOOKS / name).read_text())
        for cell in notebook["cells"]:
            assert cell.get("outputs", []) == [], name
            assert cell.get("execution_count") is None, name
