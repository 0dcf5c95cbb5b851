"""A pipeline notebook as a papermill production job, ending in ``%nbflow run``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from .conftest import PIPELINE_CELLS

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def _has_magics() -> bool:
    try:
        kernel = importlib.import_module("nbflow.kernel")
    except ImportError:
        return False
    return hasattr(kernel, "load_ipython_extension")


@pytest.mark.notebook
@pytest.mark.skipif(
    not _has_magics(),
    reason="nbflow.kernel (the %nbflow magics) is not available yet: "
    "this test needs its load_ipython_extension",
)
def test_papermill_runs_a_pipeline_notebook_whose_last_cell_runs_the_graph(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    definitions = [
        cell
        for cell in PIPELINE_CELLS
        if not (isinstance(cell, str) and cell.startswith(("%nbflow", "%%")))
    ]
    cells = [*definitions, "%load_ext nbflow", "%nbflow run Report --date {date}"]
    write_notebook("pipeline.ipynb", cells)

    done = subprocess.run(
        [sys.executable, "-m", "papermill", "pipeline.ipynb", "executed.ipynb",
         "-p", "date", "2024-06-02", "--no-progress-bar"],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = tmp_path / "out" / "report-2024-06-02.txt"
    assert report.read_text() == 2 * "0\n1\n4\n9\n16"
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    last = executed["cells"][-1]
    text = "".join(
        "".join(output.get("text", ""))
        for output in last["outputs"]
        if output["output_type"] == "stream"
    )
    assert "Report(date=2024-06-02)" in text  # readable text progress, no widget
    assert "2 ran successfully" in text
    assert not any(o["output_type"] == "error" for o in last["outputs"])
