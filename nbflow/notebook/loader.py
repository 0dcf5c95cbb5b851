"""Loading the task definitions of a pipeline notebook, without a kernel.

Which cells are definitions
---------------------------
A pipeline notebook mixes definitions (imports, helper functions, task classes,
settings) with exploration (``df.head()``, plots, ``%nbflow run ...``). When a notebook
runs headless (``nbflow run pipeline.ipynb Task``) or is exported (``nbflow export``),
only the definitions are taken, by these rules:

1. **Tagged mode.** If any cell carries the tag ``nbflow``, exactly the code cells
   tagged ``nbflow`` are definitions, whatever they contain; a display at their top
   level (a ``display(...)`` call, or a bare expression such as ``df``) is dropped.
2. **Inferred mode** (no cell is tagged ``nbflow``). A code cell is a definition when
   every top-level statement is one of: an ``import``; a ``def``, ``async def`` or
   ``class``; a docstring; or a constant assignment, whose targets are all
   UPPER_CASE names (``DATA = Path("data")``) or whose value is a simple literal
   (``day = "2024-06-01"``, so a papermill ``parameters`` cell counts). Any other
   statement (a call, an expression, a loop, ``x = f()``) makes the whole cell
   exploration, and it is skipped.

In both modes, IPython magics and shell escapes (lines starting with ``%`` or ``!``)
are removed, and markdown and raw cells are ignored. A cell that is not valid Python
after that is an error in tagged mode and skipped in inferred mode, with a
:class:`SkippedCellWarning` when loading if it looks like definitions (a ``class``,
``def`` or ``import`` line): a typo there would otherwise show only as "unknown task".
Tag a cell ``nbflow`` (and the others with it) when the inference gets a notebook wrong.

The definitions run, in notebook order, in a fresh module (``notebook_<stem>``)
registered in ``sys.modules``, so their tasks join the registry as if imported.

Imports: stdlib, nbflow.core.errors, nbflow.notebook.params.
"""

from __future__ import annotations

import ast
import linecache
import re
import sys
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbflow.core.errors import DefinitionError, NbflowWarning
from nbflow.notebook.params import (
    NotebookFormatError,
    cell_source,
    cell_tags,
    read_notebook,
    without_magics,
)

#: The tag that marks definition cells (tagged mode).
DEFINITION_TAG = "nbflow"
_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)
_INVALID = "not valid Python"
#: A line that starts a definition: a cell with one is meant as definitions.
_DEFINES = re.compile(r"^(?:class|def|async\s+def|import|from)\s", re.MULTILINE)
_KINDS: dict[type, str] = {
    ast.Expr: "an expression",
    ast.Assign: "an assignment that is not a constant",
    ast.AnnAssign: "an assignment that is not a constant",
    ast.AugAssign: "an augmented assignment",
}


class NotebookDefinitionError(DefinitionError):
    """A definition cell of a pipeline notebook raised while it was loaded."""

    def __init__(self, path: str, cell_index: int, error: str, line: int) -> None:
        super().__init__(path, cell_index, error, line)
        self.path, self.cell_index, self.error, self.line = (
            path,
            cell_index,
            error,
            line,
        )

    def __str__(self) -> str:
        at = f", line {self.line}" if self.line else ""
        return (
            f"{self.path} cell {self.cell_index}{at}: running the definition cell "
            f"failed (got {self.error}). Expected definition cells (imports, functions, "
            f"classes, constants) that run without a kernel's state. Fix: correct cell "
            f"{self.cell_index}, or keep it out of the definitions (see `nbflow export "
            "--help` for which cells count)."
        )


@dataclass(frozen=True)
class DefinitionCell:
    """A code cell taken as a definition: its index and its source, magics removed."""

    index: int
    source: str


@dataclass(frozen=True)
class SkippedCell:
    """A code cell left out, and why."""

    index: int
    reason: str
    #: Not valid Python, though it looks like definitions (a ``class``, ``def`` or
    #: ``import`` line): most likely a typo that hides a task.
    broken_definition: bool = False


class SkippedCellWarning(NbflowWarning):
    """A cell that looks like definitions was skipped because it is not valid Python."""

    def __init__(self, path: str, cell_index: int, reason: str) -> None:
        super().__init__(path, cell_index, reason)
        self.path, self.cell_index, self.reason = path, cell_index, reason

    def __str__(self) -> str:
        return (
            f"{self.path} cell {self.cell_index}: skipped, its definitions are not "
            f"loaded (got {self.reason}). Expected definition cells that are valid "
            f"Python. Fix: correct cell {self.cell_index} (tasks it defines are "
            "unknown until then), or tag the definition cells 'nbflow' to make such "
            "a mistake an error."
        )


@dataclass(frozen=True)
class Selection:
    """The definition cells of one notebook, and the code cells left out."""

    path: str
    tagged: bool
    cells: tuple[DefinitionCell, ...]
    skipped: tuple[SkippedCell, ...]


def select_definitions(notebook: dict[str, Any], path: str = "notebook") -> Selection:
    r"""Return the definition cells of ``notebook`` (see the module's rules).

    Raises
    ------
    NotebookFormatError
        A cell tagged ``nbflow`` is not valid Python.

    Examples
    --------
    >>> cells = [{"cell_type": "code", "source": src, "metadata": {}}
    ...          for src in ("import os", "df.head()", "%matplotlib inline\nLIMIT = 3")]
    >>> found = select_definitions({"cells": cells})
    >>> [cell.index for cell in found.cells], [s.index for s in found.skipped]
    ([0, 2], [1])
    """
    code = [
        (index, cell)
        for index, cell in enumerate(notebook.get("cells", []))
        if cell.get("cell_type") == "code"
    ]
    tagged = any(DEFINITION_TAG in cell_tags(cell) for _, cell in code)
    kept: list[DefinitionCell] = []
    skipped: list[SkippedCell] = []
    for index, cell in code:
        source = cell_source(cell)
        if tagged and DEFINITION_TAG not in cell_tags(cell):
            skipped.append(SkippedCell(index, f"not tagged {DEFINITION_TAG!r}"))
            continue
        chosen, reason = (_tagged if tagged else _inferred)(source, path, index)
        if chosen is None:
            broken = reason.startswith(_INVALID) and bool(_DEFINES.search(source))
            skipped.append(SkippedCell(index, reason, broken))
        else:
            kept.append(DefinitionCell(index, chosen))
    return Selection(path, tagged, tuple(kept), tuple(skipped))


def _tagged(source: str, path: str, index: int) -> tuple[str | None, str]:
    code = without_magics(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise NotebookFormatError(
            path,
            f"cell {index} is tagged {DEFINITION_TAG!r} but is not valid Python",
            f"{exc.msg} at line {exc.lineno}",
            "Python source (magic lines starting with % or ! are removed)",
            f"correct cell {index}, or remove its {DEFINITION_TAG!r} tag",
        ) from None
    displays = [stmt for stmt in tree.body if _is_display(stmt)]
    code = _blank_statements(code, displays, tree.body)
    return (code, "") if code.strip() else (None, "empty")


def _inferred(source: str, path: str, index: int) -> tuple[str | None, str]:
    del path, index
    if source.lstrip().startswith("%%"):
        return None, "a cell magic"
    code = without_magics(source)
    if not code.strip():
        return None, "only magics" if source.strip() else "empty"
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return None, f"{_INVALID} ({exc.msg} at line {exc.lineno})"
    for stmt in tree.body:
        if not _is_definition(stmt):
            kind = _KINDS.get(type(stmt), f"a {type(stmt).__name__.lower()} statement")
            return None, f"exploration (line {stmt.lineno}: {kind})"
    return code, ""


def _is_definition(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (*_DEFINITIONS, ast.ClassDef)):
        return True
    if isinstance(stmt, ast.Expr):  # a docstring
        return isinstance(stmt.value, ast.Constant) and isinstance(
            stmt.value.value, str
        )
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = _target_names(list(targets))
        if names is None:
            return False  # an attribute or item assignment changes some object
        if all(_CONSTANT_NAME.match(name) for name in names):
            return True
        return stmt.value is not None and _is_literal(stmt.value)
    return False


def _target_names(targets: list[ast.expr]) -> list[str] | None:
    """Return the names assigned, or None if a target is not a (tuple of) name(s)."""
    names: list[str] = []
    stack = list(targets)
    while stack:
        target = stack.pop()
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            stack.extend(target.elts)
        else:
            return None
    return names


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_display(stmt: ast.stmt) -> bool:
    """Whether a top-level statement only shows something (dropped in tagged cells)."""
    if not isinstance(stmt, ast.Expr):
        return False
    value = stmt.value
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return False  # a docstring
    if isinstance(value, ast.Call):
        return isinstance(value.func, ast.Name) and value.func.id == "display"
    return not isinstance(value, (ast.Await, ast.Yield, ast.YieldFrom))


def _blank_statements(code: str, drop: list[ast.stmt], body: list[ast.stmt]) -> str:
    """Blank the lines of ``drop`` that no other top-level statement shares."""
    if not drop:
        return code
    lines = code.split("\n")
    shared = {
        line
        for stmt in body
        if stmt not in drop
        for line in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
    }
    for stmt in drop:
        span = range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
        if not shared.intersection(span):
            for line in span:
                lines[line - 1] = ""
    return "\n".join(lines)


def module_name_for(path: str | Path) -> str:
    """Return the module name a notebook's definitions load as.

    Examples
    --------
    >>> module_name_for("notebooks/02_top-artists.ipynb")
    'notebook_02_top_artists'
    """
    return "notebook_" + re.sub(r"\W", "_", Path(str(path)).stem)


def load_notebook(
    path: str | Path, *, module_name: str | None = None
) -> types.ModuleType:
    """Run the definition cells of the notebook at ``path`` in a new module.

    Parameters
    ----------
    path
        The pipeline notebook (a local path or fsspec URL).
    module_name
        The module's name (default :func:`module_name_for`); it replaces any module of
        that name in ``sys.modules``, so loading again picks up edited definitions.

    Returns
    -------
    types.ModuleType
        The module, whose task classes are now in the registry.

    Raises
    ------
    NotebookNotFoundError, NotebookFormatError
        The notebook cannot be read.
    NotebookDefinitionError
        A definition cell raised; the message names the cell and line.

    Warns
    -----
    SkippedCellWarning
        A cell that looks like definitions is skipped as it is not valid Python.
    """
    text_path = str(path)
    selection = select_definitions(read_notebook(text_path), text_path)
    name = module_name or module_name_for(text_path)
    module = types.ModuleType(name, f"Definitions loaded from {text_path}.")
    module.__file__ = (
        str(Path(text_path).absolute()) if "://" not in text_path else None
    )
    for skipped in selection.skipped:
        if skipped.broken_definition:
            warning = SkippedCellWarning(text_path, skipped.index, skipped.reason)
            warnings.warn(warning, stacklevel=2)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        for cell in selection.cells:
            _run_cell(module, text_path, cell)
    except NotebookDefinitionError:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise
    return module


def _run_cell(module: types.ModuleType, path: str, cell: DefinitionCell) -> None:
    filename = f"{path} [cell {cell.index}]"
    lines = cell.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(cell.source), None, lines, filename)
    try:
        code = compile(cell.source, filename, "exec")
        exec(code, module.__dict__)  # noqa: S102  (running the user's own definitions)
    except Exception as exc:
        line = _line_in(exc, filename)
        error = f"{type(exc).__name__}: {exc}"
        raise NotebookDefinitionError(path, cell.index, error, line) from exc


def _line_in(exc: BaseException, filename: str) -> int:
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno or 0
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == filename
    ]
    return (frames[-1].lineno or 0) if frames else 0
