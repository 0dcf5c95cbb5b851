"""Reading ``.ipynb`` files and inspecting their ``parameters`` cell, without a kernel.

:func:`read_notebook` loads a notebook as plain JSON (nbformat 4 only) with one clear
error for each way a file can be wrong: missing, not JSON, another nbformat version.
:func:`inspect_parameters` parses the cell tagged ``parameters`` (papermill's
convention) with :mod:`ast` and returns, for each top-level assignment, its name,
default and type. The type comes from an annotation (``n: int = 3``; ``int``,
``float``, ``str``, ``bool``, ``list``, ``dict``, ``tuple``, ``Optional[...]`` and
``X | None`` are understood) or else from a literal default (``n = 3``). A name with an
annotation and no value (``day: str``) is *required*: the task must supply it.

:func:`check_signature` compares those parameters with the values a task injects and
raises :class:`NotebookParameterError` for an unknown name, a missing required value or
a wrong type, so a mismatch is caught before any kernel starts.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbflow.core.errors import DefinitionError, did_you_mean

#: The only nbformat major version nbflow reads (papermill's, too).
NBFORMAT_MAJOR = 4
#: The tag that marks the parameters cell (papermill's convention).
PARAMETERS_TAG = "parameters"
#: Type names the check understands, and the Python types each accepts.
_ACCEPTED: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
    "tuple": (list, tuple),
    "dict": (dict,),
}
_OPTIONAL_NAMES = frozenset({"Optional"})


class NotebookNotFoundError(DefinitionError, FileNotFoundError):
    """A notebook file does not exist."""

    def __init__(self, where: str, path: str) -> None:
        super().__init__(where, path)
        self.where, self.path = where, path

    def __str__(self) -> str:
        return (
            f"{self.where}: notebook not found (got {self.path!r}). Expected the path "
            "of an existing .ipynb file, relative to the current directory "
            f"({Path.cwd()}). Fix: check the spelling, or give an absolute path."
        )


class NotebookFormatError(DefinitionError, ValueError):
    """A file is not a notebook nbflow can read, or one of its cells is malformed."""

    def __init__(
        self, path: str, problem: str, got: str, expected: str, fix: str
    ) -> None:
        super().__init__(path, problem, got, expected, fix)
        self.path, self.problem, self.got = path, problem, got
        self.expected, self.fix = expected, fix

    def __str__(self) -> str:
        return (
            f"{self.path}: {self.problem} (got {self.got}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )


class NotebookParameterError(DefinitionError, TypeError):
    """A task's parameters do not match its notebook's ``parameters`` cell."""

    def __init__(
        self, task: str, notebook: str, problem: str, got: str, expected: str, fix: str
    ) -> None:
        super().__init__(task, notebook, problem, got, expected, fix)
        self.task, self.notebook, self.problem = task, notebook, problem
        self.got, self.expected, self.fix = got, expected, fix

    def __str__(self) -> str:
        return (
            f"{self.task} ({self.notebook}): {self.problem} (got {self.got}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )


@dataclass(frozen=True)
class NotebookParameter:
    """One name assigned in a notebook's parameters cell."""

    name: str
    #: One of ``int float str bool list tuple dict``, or None for "any type".
    type_name: str | None
    #: Whether the cell gives a value (``n = 3``) rather than only a type (``n: int``).
    has_default: bool
    #: Whether None is an accepted value (``Optional``, ``| None``, or a None default).
    optional: bool
    #: The assignment's source line, for messages.
    source: str


@dataclass(frozen=True)
class ParametersCell:
    """The parameters cell of a notebook: its position and what it declares."""

    index: int
    parameters: dict[str, NotebookParameter]


def read_notebook(path: str | Path, *, where: str = "notebook") -> dict[str, Any]:
    """Return the notebook at ``path`` (a local path or fsspec URL) as a JSON dict.

    Raises
    ------
    NotebookNotFoundError
        Nothing exists at ``path``.
    NotebookFormatError
        The file is not JSON, not a notebook, or not nbformat 4.
    """
    text = _read_text(str(path), where)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(
            str(path),
            "not a notebook: the file is not valid JSON",
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}",
            "an .ipynb file as saved by Jupyter",
            "restore the file from version control or save it again from JupyterLab",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookFormatError(
            str(path),
            "not a notebook: no list of cells",
            f"a JSON {type(data).__name__}",
            "a JSON object with 'cells', 'metadata' and 'nbformat'",
            "check that this is the .ipynb file you meant",
        )
    version = data.get("nbformat")
    if version != NBFORMAT_MAJOR:
        raise NotebookFormatError(
            str(path),
            "unsupported nbformat version",
            f"nbformat {version!r}",
            f"nbformat {NBFORMAT_MAJOR}",
            f"convert it: jupyter nbconvert --to notebook --nbformat {NBFORMAT_MAJOR} "
            f"--output {Path(str(path)).name} {path}",
        )
    return data


def _read_text(path: str, where: str) -> str:
    if "://" in path:
        import fsspec  # noqa: PLC0415  (remote notebooks only)

        try:
            with fsspec.open(path, "r", encoding="utf-8") as stream:
                return str(stream.read())
        except FileNotFoundError:
            raise NotebookNotFoundError(where, path) from None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotebookNotFoundError(where, path) from None


def cell_source(cell: dict[str, Any]) -> str:
    r"""Return a cell's source as one string (nbformat allows a list of lines).

    Examples
    --------
    >>> cell_source({"source": ["a = 1\n", "b = 2"]})
    'a = 1\nb = 2'
    """
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_tags(cell: dict[str, Any]) -> list[str]:
    """Return a cell's tags (``metadata.tags``), or an empty list."""
    tags = cell.get("metadata", {}).get("tags", [])
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def without_magics(source: str) -> str:
    r"""Blank out IPython magics and shell escapes (lines starting with ``%`` or ``!``).

    Line numbers are kept, so errors still point at the right line.

    Examples
    --------
    >>> without_magics("%matplotlib inline\nx = 1\n!ls")
    '\nx = 1\n'
    """
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in source.split("\n")
    )


def find_parameters_cell(notebook: dict[str, Any]) -> int | None:
    """Return the index of the first code cell tagged ``parameters``, or None."""
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in cell_tags(cell):
            return index
    return None


def inspect_parameters(
    notebook: dict[str, Any], path: str = "notebook"
) -> ParametersCell | None:
    r"""Return what the parameters cell of ``notebook`` declares, or None if it has none.

    Raises
    ------
    NotebookFormatError
        The parameters cell is not valid Python.

    Examples
    --------
    >>> cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...         "source": "day: str\nn = 3\nratio: float | None = None"}
    >>> found = inspect_parameters({"cells": [cell]})
    >>> [(p.name, p.type_name, p.has_default, p.optional)
    ...  for p in found.parameters.values()]
    [('day', 'str', False, False), ('n', 'int', True, False), ('ratio', 'float', True, True)]
    """
    index = find_parameters_cell(notebook)
    if index is None:
        return None
    source = without_magics(cell_source(notebook["cells"][index]))
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookFormatError(
            path,
            f"the parameters cell (cell {index}) is not valid Python",
            f"{exc.msg} at line {exc.lineno}",
            "assignments such as `day = '2024-06-01'` or `n: int = 3`",
            "correct the parameters cell",
        ) from None
    lines = source.split("\n")
    found: dict[str, NotebookParameter] = {}
    for statement in tree.body:
        for parameter in _declared(statement, lines):
            found[parameter.name] = parameter
    return ParametersCell(index, found)


def _declared(statement: ast.stmt, lines: list[str]) -> list[NotebookParameter]:
    text = lines[statement.lineno - 1].strip()
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        type_name, optional = _annotation_type(statement.annotation)
        has_default = statement.value is not None
        if has_default and type_name is None:
            type_name, optional = _literal_type(statement.value)
        if has_default and _is_none(statement.value):
            optional = True
        return [
            NotebookParameter(
                statement.target.id, type_name, has_default, optional, text
            )
        ]
    if isinstance(statement, ast.Assign):
        type_name, optional = _literal_type(statement.value)
        names = [
            node.id
            for target in statement.targets
            for node in ast.walk(target)
            if isinstance(node, ast.Name)
        ]
        return [NotebookParameter(n, type_name, True, optional, text) for n in names]
    return []


def _annotation_type(node: ast.expr) -> tuple[str | None, bool]:  # noqa: PLR0911  (one case per annotation form)
    """Return ``(type name or None, accepts None)`` for an annotation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation_type(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if _is_none(node.right):
            return _annotation_type(node.left)[0], True
        if _is_none(node.left):
            return _annotation_type(node.right)[0], True
        return None, True
    if isinstance(node, ast.Subscript):
        base = _name_of(node.value)
        if base in _OPTIONAL_NAMES:
            return _annotation_type(node.slice)[0], True
        return (base.lower() if base.lower() in _ACCEPTED else None), False
    name = _name_of(node)
    return (name if name in _ACCEPTED else None), False


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _literal_type(node: ast.expr | None) -> tuple[str | None, bool]:
    """Return the type of a literal default, ``(None, True)`` for None or non-literals."""
    if node is None:
        return None, True
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, True
    name = type(value).__name__
    return (name if name in _ACCEPTED else None), value is None


def check_signature(
    task: str,
    notebook: str,
    cell: ParametersCell | None,
    values: dict[str, Any],
) -> None:
    """Check the values a task injects against the notebook's parameters cell.

    Parameters
    ----------
    task
        The task, for messages (``Clean(day=2024-06-01)``).
    notebook
        The notebook's path, for messages.
    cell
        What :func:`inspect_parameters` found (None: no parameters cell).
    values
        Parameter name -> the value that will be injected.

    Raises
    ------
    NotebookParameterError
        No parameters cell although there are values; an unknown name; a required
        notebook parameter without a value; a value of the wrong type.
    """
    if cell is None:
        if values:
            raise NotebookParameterError(
                task,
                notebook,
                "the notebook has no cell tagged 'parameters'",
                f"parameters {sorted(values)}",
                "a code cell tagged 'parameters' that assigns each of them",
                "add a cell such as `day = '2024-06-01'`, and give it the tag "
                "'parameters' (JupyterLab: Property Inspector > Cell Tags)",
            )
        return
    declared = cell.parameters
    for name, value in values.items():
        if name not in declared:
            raise NotebookParameterError(
                task,
                notebook,
                f"parameter {name!r} is not in the notebook's parameters cell "
                f"(cell {cell.index})",
                repr(name),
                f"one of {sorted(declared)}",
                f"add `{name} = ...` to the parameters cell, or mark the task's "
                "parameter significant=False so it is not injected"
                + did_you_mean(name, declared),
            )
        _check_type(task, notebook, declared[name], value)
    for name, parameter in declared.items():
        if not parameter.has_default and name not in values:
            raise NotebookParameterError(
                task,
                notebook,
                f"the notebook requires parameter {name!r} ({parameter.source}) "
                "and the task does not give it",
                f"task parameters {sorted(values)}",
                f"a parameter named {name!r} on the task",
                f"declare {name} = nbflow.Parameter(...) on the task, or give it a "
                "default value in the parameters cell",
            )


def _check_type(
    task: str, notebook: str, parameter: NotebookParameter, value: Any
) -> None:
    if parameter.type_name is None:
        return
    if value is None:
        accepted = parameter.optional
    elif isinstance(value, bool) and parameter.type_name != "bool":
        accepted = False
    else:
        accepted = isinstance(value, _ACCEPTED[parameter.type_name])
    if not accepted:
        raise NotebookParameterError(
            task,
            notebook,
            f"parameter {parameter.name!r} has the wrong type for the notebook "
            f"({parameter.source})",
            f"{value!r}, a {type(value).__name__}",
            f"a {parameter.type_name}" + (" or None" if parameter.optional else ""),
            f"declare {parameter.name} with a matching parameter type "
            "(IntParameter, FloatParameter, BoolParameter, ListParameter, "
            "DictParameter), or change the annotation in the notebook",
        )
