"""The quickstart's edit loop does what its text says: why names the change, one task runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.notebook, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"


def _text(cell: dict) -> str:
    return "".join(
        output.get("text", "") for output in cell["outputs"] if "text" in output
    )


def test_quickstart_edit_loop_runs_only_the_changed_task() -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(ROOT)}}
    )

    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    why = next(cell for cell in code if cell.source.startswith("%nbflow why Report"))
    runs = [
        cell for cell in code if cell.source == "%nbflow run Report --day 2024-06-01"
    ]
    reads = [
        cell for cell in code if cell.source.startswith('with Report(day="2024-06-01")')
    ]
    assert "RUN   Report(day=2024-06-01)    stale: code changed in Report.run" in _text(
        why
    )
    assert "1 of 3 tasks would run." in _text(why)
    first, again, edited = (_text(cell) for cell in runs)
    assert "3 ran, 0 failed" in first
    assert "nothing to do" in again
    assert "1 ran, 0 failed" in edited
    assert "* 1 ran successfully:\n    - 1 Report(day=2024-06-01)" in edited
    assert [_text(cell).strip() for cell in reads] == [
        "total: 49",
        "total: 49 in 3 sales",
    ]
