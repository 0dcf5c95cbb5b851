from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nbflow.notebook.engine import CellProgress, notebook_url

if TYPE_CHECKING:
    from pathlib import Path


def test_notebook_url_is_a_path_outside_jupyter(tmp_path: Path) -> None:
    assert notebook_url("executed/A/a.ipynb", {}) == str(
        tmp_path / "executed/A/a.ipynb"
    )
    assert notebook_url("gs://bucket/a.ipynb", {}) == "gs://bucket/a.ipynb"


def test_notebook_url_finds_the_jupyter_server_serving_the_folder(
    tmp_path: Path,
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "jpserver-1.json").write_text(
        json.dumps({"url": "http://127.0.0.1:8888/", "root_dir": str(tmp_path)})
    )
    (runtime / "jpserver-2.json").write_text("{ half written")
    env = {
        "JPY_SESSION_NAME": "work/pipeline.ipynb",
        "JUPYTER_RUNTIME_DIR": str(runtime),
    }

    url = notebook_url("executed/My Task/a.ipynb", env)

    assert url == "http://127.0.0.1:8888/lab/tree/executed/My%20Task/a.ipynb"
    assert notebook_url("/elsewhere/a.ipynb", env) == "/elsewhere/a.ipynb"


def test_notebook_url_from_an_explicit_server_url(tmp_path: Path) -> None:
    env = {"JUPYTER_SERVER_URL": "https://hub.example/user/me"}

    assert (
        notebook_url("x.ipynb", env) == "https://hub.example/user/me/lab/tree/x.ipynb"
    )


class FakeTask:
    def __init__(self) -> None:
        self.reports: list[tuple[str, Any]] = []

    def set_status_message(self, message: str) -> None:
        self.reports.append(("message", message))

    def set_progress_percentage(self, percentage: float) -> None:
        self.reports.append(("progress", percentage))


class FakeManager:
    def __init__(self, cells: list[dict[str, Any]]) -> None:
        self.nb = type("Notebook", (), {"cells": cells})()
        self.calls: list[tuple[str, int]] = []

    def cell_start(self, cell: Any, cell_index: int | None = None) -> None:
        self.calls.append(("start", cell_index or 0))

    def cell_complete(self, cell: Any, cell_index: int | None = None) -> None:
        self.calls.append(("complete", cell_index or 0))


def test_cell_progress_reports_code_cells_and_maps_to_source_indexes() -> None:
    cells = [
        {"cell_type": "markdown", "source": "# title", "metadata": {}},
        {"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["parameters"]}},
        {
            "cell_type": "code",
            "source": "x = 2",
            "metadata": {"tags": ["injected-parameters"]},
        },
        {"cell_type": "code", "source": ["\n", "y = x * 2\n", "z = 3"], "metadata": {}},
    ]
    task, manager = FakeTask(), FakeManager(cells)
    progress = CellProgress(task)  # type: ignore[arg-type]
    progress.attach(manager)

    for index, cell in enumerate(cells):
        manager.cell_start(cell, index)
        manager.cell_complete(cell, index)

    assert manager.calls[:2] == [("start", 0), ("complete", 0)]
    assert task.reports == [
        ("message", "running cell 1 (1/3): x = 1"),
        ("progress", 33.3),
        ("message", "running the injected parameters (2/3)"),
        ("progress", 66.7),
        ("message", "running cell 2 (3/3): y = x * 2"),
        ("progress", 100.0),
    ]
    assert progress.source_position(3) == (2, "\ny = x * 2\nz = 3")
    assert progress.source_position(None) == (2, "\ny = x * 2\nz = 3")
    assert progress.source_position(99) == (-1, "")
