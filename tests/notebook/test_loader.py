from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING

import pytest

from nbflow.cli import main
from nbflow.core.registry import REGISTRY
from nbflow.notebook.loader import (
    NotebookDefinitionError,
    SkippedCellWarning,
    load_notebook,
    module_name_for,
    select_definitions,
)
from nbflow.notebook.params import NotebookFormatError

from .conftest import PIPELINE_CELLS, notebook_json

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_select_definitions_infers_definition_cells_and_says_why_others_are_skipped() -> (
    None
):
    selection = select_definitions(notebook_json(PIPELINE_CELLS), "p.ipynb")

    assert not selection.tagged
    assert [cell.index for cell in selection.cells] == [1, 2, 3, 5, 6]
    reasons = {cell.index: cell.reason for cell in selection.skipped}
    assert reasons == {
        4: "exploration (line 1: an expression)",
        7: "only magics",
        8: "exploration (line 2: an assignment that is not a constant)",
        9: "a cell magic",
    }
    assert "%env" not in selection.cells[3].source
    assert "def double" in selection.cells[3].source


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        ("LIMIT = compute()", True),
        ("A, B = 1, 2", True),
        ("x: int = 3", True),
        ("x = compute()", False),
        ("obj.attr = 1", False),
        ("CONFIG['a'] = 1", False),
        ('"""A docstring."""\nimport os', True),
        ("for i in range(3):\n    pass", False),
        ("async def f():\n    pass", True),
        ("if True:\n    X = 1", False),
        ("x = (", False),
        ("", False),
    ],
)
def test_select_definitions_inference_rules(source: str, kept: bool) -> None:
    selection = select_definitions(notebook_json([source]))

    assert bool(selection.cells) is kept


def test_select_definitions_tagged_mode_takes_only_tagged_cells_without_displays() -> (
    None
):
    cells = [
        ("import nbflow\n%time X = 1", ["nbflow"]),
        "LIMIT = 3",
        (
            "TOTAL = 1\ndisplay(TOTAL)\nTOTAL\nprint('kept: a call')\nnbflow.namespace('ns')",
            ["nbflow"],
        ),
    ]

    selection = select_definitions(notebook_json(cells))

    assert selection.tagged
    assert [cell.index for cell in selection.cells] == [0, 2]
    assert selection.skipped[0].reason == "not tagged 'nbflow'"
    source = selection.cells[1].source
    assert "display(" not in source
    assert "\nTOTAL\n" not in source
    assert "print('kept: a call')" in source
    assert "nbflow.namespace('ns')" in source


def test_select_definitions_tagged_cell_with_bad_syntax_is_an_error() -> None:
    with pytest.raises(NotebookFormatError) as caught:
        select_definitions(notebook_json([("def broken(:", ["nbflow"])]), "p.ipynb")

    message = str(caught.value)
    assert message.startswith(
        "p.ipynb: cell 0 is tagged 'nbflow' but is not valid Python"
    )
    assert "Fix: correct cell 0, or remove its 'nbflow' tag" in message


def test_load_notebook_registers_tasks_in_a_fresh_module(
    write_notebook: Callable[..., Path],
) -> None:
    path = write_notebook("my-pipeline.ipynb", PIPELINE_CELLS)

    module = load_notebook(path)

    assert module.__name__ == module_name_for(path) == "notebook_my_pipeline"
    assert sys.modules[module.__name__] is module
    assert REGISTRY.lookup("Report") is module.Report
    assert module.date == "2024-06-01"
    assert "PIPELINE_LOADED" not in os.environ  # exploration did not run


def test_load_notebook_again_replaces_the_classes(
    write_notebook: Callable[..., Path],
) -> None:
    path = write_notebook(
        "p.ipynb", ["import nbflow\nclass A(nbflow.Task):\n    X = 1"]
    )
    first = load_notebook(path).A
    write_notebook("p.ipynb", ["import nbflow\nclass A(nbflow.Task):\n    X = 2"])

    second = load_notebook(path).A

    assert first is not second
    assert REGISTRY.lookup("A").X == 2


def test_load_notebook_failing_cell_names_cell_and_line(
    write_notebook: Callable[..., Path],
) -> None:
    path = write_notebook(
        "p.ipynb", ["import os", "def f():\n    pass\n\nLIMIT = 1 / 0"]
    )

    with pytest.raises(NotebookDefinitionError) as caught:
        load_notebook(path)

    message = str(caught.value)
    assert message.startswith(
        f"{path} cell 1, line 4: running the definition cell failed"
    )
    assert "(got ZeroDivisionError: division by zero)" in message
    assert "Fix: correct cell 1" in message
    assert "notebook_p" not in sys.modules


def test_load_notebook_warns_about_a_definition_cell_that_is_not_valid_python(
    write_notebook: Callable[..., Path],
) -> None:
    cells = [
        "import nbflow",
        "class Broken(nbflow.Task):\n    def run(self)\n        pass",
    ]
    path = write_notebook("typo.ipynb", cells)

    with pytest.warns(SkippedCellWarning) as caught:
        load_notebook(path)

    message = str(caught[0].message)
    assert message.startswith(f"{path} cell 1: skipped, its definitions are not loaded")
    assert "(got not valid Python (expected ':' at line 2))" in message
    assert "Fix: correct cell 1" in message


def test_load_notebook_does_not_warn_about_invalid_exploration(
    write_notebook: Callable[..., Path],
) -> None:
    path = write_notebook("explore.ipynb", ["import os", "os.path?", "df.head("])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_notebook(path)


def test_cli_run_notebook_says_which_cell_was_skipped_before_unknown_task(
    write_notebook: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cells = ["import nbflow", "class A(nbflow.Task):\n    def run(self)\n        pass"]
    path = write_notebook("cli_typo.ipynb", cells)

    code = main(["run", str(path), "A", "--no-progress"])

    err = capsys.readouterr().err
    assert code == 2
    assert f"nbflow: warning: {path} cell 1: skipped" in err
    assert "nbflow: error: unknown task 'A'" in err
    assert err.index("warning") < err.index("unknown task")
