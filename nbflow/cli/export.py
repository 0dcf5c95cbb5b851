"""``nbflow export NOTEBOOK.ipynb [-o MODULE.py] [--force]``: a notebook as a module.

Imports: stdlib, nbflow.core.cmdline, nbflow.notebook.export, nbflow.cli.arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nbflow.cli.arguments import take_options
from nbflow.core import cmdline
from nbflow.notebook.export import export_notebook

EXPORT_HELP = """\
usage: nbflow export NOTEBOOK.ipynb [-o MODULE.py] [--force]

Write the task definitions of a pipeline notebook to an importable module (default:
the notebook's name with .py, next to it), atomically. Then run it headless with
`nbflow run --module MODULE TASK --param VALUE`.

options:
  -o, --output MODULE.py  the file to write; its folder must exist
  --force                 replace MODULE.py if it exists (without it, an existing
                          file is left alone and the command exits with 2: it may
                          be a hand-written module)

Which cells are definitions:
  - if any cell is tagged `nbflow`: exactly the code cells tagged `nbflow`
    (top-level displays such as `display(df)` or a bare `df` are dropped);
  - otherwise: code cells whose top-level statements are only imports, def/class
    definitions, docstrings and constant assignments (UPPER_CASE names, or any name
    set to a simple literal such as a papermill parameters cell). Any other statement
    (df.head(), a call, a loop) makes the cell exploration, and it is skipped.
  Lines starting with % or ! (magics, shell escapes) are always removed. The module's
  header lists the cells taken and the reason each other code cell was skipped.

`nbflow run NOTEBOOK.ipynb TASK ...` runs exactly the same cells, without exporting."""


def export_command(argv: list[str]) -> int:
    """Carry out ``nbflow export NOTEBOOK.ipynb [-o MODULE.py] [--force]``."""
    if {"-h", "--help"} & set(argv):
        sys.stdout.write(EXPORT_HELP + "\n")
        return 0
    force = "--force" in argv
    argv = [arg for arg in argv if arg != "--force"]
    options, positional = take_options(argv, {"-o": "output", "--output": "output"})
    if len(positional) != 1 or not positional[0].endswith(".ipynb"):
        raise cmdline.UsageError(
            "export needs one notebook",
            " ".join(argv),
            "write `nbflow export pipeline.ipynb -o pipeline.py`",
        )
    notebook = positional[0]
    output = options.get("output") or str(Path(notebook).with_suffix(".py"))
    result = export_notebook(notebook, output, force=force)
    sys.stdout.write(result.summary + "\n")
    return 0
