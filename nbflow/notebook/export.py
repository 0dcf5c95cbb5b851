"""Exporting a pipeline notebook's definitions to an importable Python module.

``nbflow export pipeline.ipynb -o pipeline.py`` writes the definition cells chosen by
:func:`~nbflow.notebook.loader.select_definitions` (the same cells, in the same order,
that ``nbflow run pipeline.ipynb Task`` runs), without magics, displays or exploration,
each under a ``# %% [cell N]`` marker (the "percent" format editors open as cells). A
header lists the cells taken and those skipped, with the reason. The module is compiled
before it is written, and written atomically: the old file stays whole until the new
one replaces it. An existing file is replaced only with ``force`` (it may be a
hand-written module); a folder, a missing folder or an unwritable place is an
:class:`ExportDestinationError` naming the file.

Imports: stdlib, nbflow.core.{errors, fsspec_target}, nbflow.notebook.{loader, params}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbflow.core.errors import DefinitionError
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.notebook.loader import Selection, select_definitions
from nbflow.notebook.params import NotebookFormatError, read_notebook

_REASONS_SHOWN = 12


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: where, and which cells it took and left."""

    output: str
    selection: Selection

    @property
    def summary(self) -> str:
        """One line for the command line."""
        taken = len(self.selection.cells)
        skipped = len(self.selection.skipped)
        mode = "tagged 'nbflow'" if self.selection.tagged else "inferred"
        return (
            f"wrote {self.output}: {taken} definition cell(s) ({mode}), "
            f"{skipped} code cell(s) skipped"
        )


def render_module(selection: Selection, *, command: str = "") -> str:
    r"""Return the text of the module for ``selection``.

    Examples
    --------
    >>> from nbflow.notebook.loader import DefinitionCell
    >>> text = render_module(Selection("p.ipynb", False, (DefinitionCell(0, "X = 1"),), ()))
    >>> print(text.split("\n# %%")[1])
     [cell 0]
    X = 1
    <BLANKLINE>
    """
    name = Path(selection.path).name
    mode = (
        "the cells tagged 'nbflow'"
        if selection.tagged
        else "inferred, as no cell is tagged 'nbflow': imports, definitions, constants"
    )
    taken = ", ".join(str(cell.index) for cell in selection.cells) or "none"
    header = [
        f'"""Pipeline definitions exported from {name} by `nbflow export`.',
        "",
        "Do not edit: change the notebook and export again"
        + (f" ({command})." if command else "."),
        f"Definition cells ({mode}): {taken}.",
    ]
    if selection.skipped:
        header.append("Skipped code cells:")
        header.extend(
            f"  cell {cell.index}: {cell.reason}"
            for cell in selection.skipped[:_REASONS_SHOWN]
        )
        if len(selection.skipped) > _REASONS_SHOWN:
            header.append(f"  ... and {len(selection.skipped) - _REASONS_SHOWN} more")
    header.append('"""')
    parts = ["\n".join(header).replace("\\", "\\\\")]
    for cell in selection.cells:
        body = "\n".join(line.rstrip() for line in cell.source.strip("\n").split("\n"))
        parts.append(f"# %% [cell {cell.index}]\n{body}")
    return "\n\n\n".join(parts) + "\n"


class ExportDestinationError(DefinitionError):
    """The module file cannot be written where ``-o`` (or the default) points."""

    def __init__(self, output: str, problem: str, got: str, fix: str) -> None:
        super().__init__(output, problem, got, fix)
        self.output, self.problem, self.got, self.fix = output, problem, got, fix

    def __str__(self) -> str:
        return (
            f"nbflow export: {self.problem} (got {self.got}). Expected a new .py file "
            f"in an existing, writable folder. Fix: {self.fix}."
        )


def export_notebook(
    notebook: str | Path, output: str | Path, *, force: bool = False
) -> ExportResult:
    """Write the definition cells of ``notebook`` to the module file ``output``.

    Parameters
    ----------
    notebook
        The pipeline notebook.
    output
        The ``.py`` file to write (a path or fsspec URL); replaced atomically.
    force
        Replace ``output`` if it exists (without it, an existing file is an error:
        it may be a hand-written module).

    Returns
    -------
    ExportResult
        Where the module went and which cells it holds.

    Raises
    ------
    NotebookNotFoundError, NotebookFormatError
        The notebook cannot be read, or the exported module would not compile.
    ExportDestinationError
        ``output`` exists (without ``force``), is a folder, is in a missing folder,
        or cannot be written; the message names ``output``.
    """
    source, destination = str(notebook), str(output)
    selection = select_definitions(read_notebook(source), source)
    target = FsspecTarget(destination)
    _check_destination(target, destination, Path(source).stem, force=force)
    text = render_module(
        selection,
        command=f"nbflow export {Path(source).name} -o {Path(destination).name} "
        "--force",
    )
    try:
        compile(text, str(output), "exec")
    except SyntaxError as exc:
        raise NotebookFormatError(
            source,
            "the exported definitions do not compile as one module",
            f"{exc.msg} at line {exc.lineno} of {output}",
            "definition cells that form a valid module",
            "move `from __future__` imports into the first definition cell, or tag "
            "the definition cells 'nbflow'",
        ) from None
    try:
        with target.open("w") as out:
            out.write(text)
    except OSError as exc:
        raise ExportDestinationError(
            destination,
            "cannot write the module",
            f"{type(exc).__name__}: {exc.strerror or exc} for {destination!r}",
            "choose a file in a folder you can write to with -o",
        ) from exc
    return ExportResult(destination, selection)


def _check_destination(
    target: FsspecTarget, output: str, stem: str, *, force: bool
) -> None:
    """Raise :class:`ExportDestinationError` unless ``output`` can take the module."""
    if target.fs.isdir(output):
        name = f"{output.rstrip('/')}/{stem}.py"
        raise ExportDestinationError(
            output, "-o names a folder", repr(output), f"write -o {name}"
        )
    if target.exists() and not force:
        raise ExportDestinationError(
            output,
            "the module file already exists and would be overwritten",
            repr(output),
            "add --force to replace it, or choose another file with -o",
        )
    folder = Path(output).parent
    if "://" not in output and not folder.is_dir():
        raise ExportDestinationError(
            output,
            "the folder of the module file does not exist",
            repr(str(folder)),
            f"create it first (mkdir -p {folder}), or choose another file with -o",
        )
