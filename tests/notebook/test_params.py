from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import pytest

from nbflow.core.errors import DefinitionError
from nbflow.notebook.params import (
    NotebookFormatError,
    NotebookNotFoundError,
    NotebookParameterError,
    check_signature,
    inspect_parameters,
    read_notebook,
)

from .conftest import notebook_json

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PARAMS = """\
day: str
n = 3
ratio: float = 0.5
tags: list[str] = []
flag = False
limit: int | None = None
when = None
start = date(2024, 1, 1)  # not a literal: any type
%load_ext something
"""


def cell_of(source: str):
    return inspect_parameters(notebook_json([(source, ["parameters"])]), "n.ipynb")


def test_read_notebook_missing_file_is_named_with_a_fix() -> None:
    with pytest.raises(NotebookNotFoundError) as caught:
        read_notebook("nope/missing.ipynb", where="Clean.notebook")

    message = str(caught.value)
    assert message.startswith(
        "Clean.notebook: notebook not found (got 'nope/missing.ipynb')"
    )
    assert "Expected the path of an existing .ipynb file" in message
    assert "Fix:" in message
    assert isinstance(caught.value, DefinitionError)


def test_read_notebook_not_json_says_where(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text("{ this is not json")

    with pytest.raises(NotebookFormatError) as caught:
        read_notebook(tmp_path / "bad.ipynb")

    message = str(caught.value)
    assert "not a notebook: the file is not valid JSON (got " in message
    assert "line 1" in message
    assert "Fix: restore the file" in message


def test_read_notebook_json_without_cells(tmp_path: Path) -> None:
    (tmp_path / "list.ipynb").write_text("[1, 2]")

    with pytest.raises(NotebookFormatError, match="no list of cells"):
        read_notebook(tmp_path / "list.ipynb")


def test_read_notebook_wrong_nbformat_version(
    write_notebook: Callable[..., Path],
) -> None:
    path = write_notebook("old.ipynb", ["x = 1"], nbformat=3)

    with pytest.raises(NotebookFormatError) as caught:
        read_notebook(path)

    message = str(caught.value)
    assert (
        "unsupported nbformat version (got nbformat 3). Expected nbformat 4." in message
    )
    assert "jupyter nbconvert --to notebook --nbformat 4" in message


def test_read_notebook_through_fsspec_memory() -> None:
    import json

    import fsspec

    with fsspec.open("memory://nbflow-tests/p.ipynb", "w") as out:
        out.write(json.dumps(notebook_json(["x = 1"])))

    assert read_notebook("memory://nbflow-tests/p.ipynb")["nbformat"] == 4
    with pytest.raises(NotebookNotFoundError):
        read_notebook("memory://nbflow-tests/none.ipynb")


def test_inspect_parameters_reads_names_types_and_defaults() -> None:
    cell = cell_of(PARAMS)

    assert cell is not None
    found = {
        p.name: (p.type_name, p.has_default, p.optional)
        for p in cell.parameters.values()
    }
    assert found == {
        "day": ("str", False, False),
        "n": ("int", True, False),
        "ratio": ("float", True, False),
        "tags": ("list", True, False),
        "flag": ("bool", True, False),
        "limit": ("int", True, True),
        "when": (None, True, True),
        "start": (None, True, True),
    }


def test_inspect_parameters_understands_optional_and_string_annotations() -> None:
    cell = cell_of("a: Optional[int] = 1\nb: 'float' = 2.0\nc: typing.Dict = {}")

    assert cell is not None
    assert cell.parameters["a"].type_name == "int"
    assert cell.parameters["a"].optional
    assert cell.parameters["b"].type_name == "float"
    assert cell.parameters["c"].type_name == "dict"


def test_inspect_parameters_none_without_a_parameters_cell() -> None:
    assert inspect_parameters(notebook_json(["x = 1"])) is None


def test_inspect_parameters_syntax_error_names_the_cell() -> None:
    with pytest.raises(
        NotebookFormatError, match=r"parameters cell \(cell 0\) is not valid"
    ):
        cell_of("x = = 1")


def test_check_signature_accepts_matching_values() -> None:
    cell = cell_of(PARAMS)

    check_signature(
        "T()", "n.ipynb", cell,
        {"day": "2024-06-01", "n": 4, "ratio": 1, "tags": ["a"], "limit": None, "start": "x"},
    )  # fmt: skip


def test_check_signature_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(NotebookParameterError) as caught:
        check_signature(
            "T(dya=x)", "n.ipynb", cell_of(PARAMS), {"day": "x", "dya": "x"}
        )

    message = str(caught.value)
    assert message.startswith(
        "T(dya=x) (n.ipynb): parameter 'dya' is not in the notebook's"
    )
    assert "Expected one of [" in message
    assert "Fix: add `dya = ...` to the parameters cell" in message
    assert "Did you mean: day?" in message


def test_check_signature_missing_required_value() -> None:
    with pytest.raises(NotebookParameterError) as caught:
        check_signature("T()", "n.ipynb", cell_of(PARAMS), {"n": 1})

    message = str(caught.value)
    assert "the notebook requires parameter 'day' (day: str)" in message
    assert "Fix: declare day = nbflow.Parameter(...) on the task" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("n", "5", "a int"),
        ("n", True, "a int"),
        ("ratio", "0.1", "a float"),
        ("flag", 1, "a bool"),
        ("limit", "x", "a int or None"),
        ("day", None, "a str"),
    ],
)
def test_check_signature_wrong_type(name: str, value: object, expected: str) -> None:
    values = {"day": "d", name: value}

    with pytest.raises(NotebookParameterError) as caught:
        check_signature("T()", "n.ipynb", cell_of(PARAMS), values)

    message = str(caught.value)
    assert f"parameter {name!r} has the wrong type for the notebook" in message
    assert f"(got {value!r}, a {type(value).__name__})" in message
    assert f"Expected {expected}." in message


def test_check_signature_without_parameters_cell() -> None:
    with pytest.raises(NotebookParameterError) as caught:
        check_signature("T(day=d)", "n.ipynb", None, {"day": "d"})

    message = str(caught.value)
    assert (
        "the notebook has no cell tagged 'parameters' (got parameters ['day'])"
        in message
    )
    assert "give it the tag 'parameters'" in message
    check_signature("T()", "n.ipynb", None, {})  # nothing to inject: fine


def test_notebook_errors_pickle() -> None:
    error = NotebookParameterError("T()", "n.ipynb", "p", "g", "e", "f")

    assert str(pickle.loads(pickle.dumps(error))) == str(error)
