"""Notebooks in pipelines: notebook tasks, pipeline notebooks run headless, exports.

- :class:`~nbflow.notebook.task.NotebookTask` runs a parameterised notebook with
  papermill as one task of a graph (also ``nbflow.NotebookTask``);
- :func:`~nbflow.notebook.loader.load_notebook` loads the task definitions of a
  pipeline notebook (``nbflow run pipeline.ipynb Task``);
- :func:`~nbflow.notebook.export.export_notebook` writes them to an importable module
  (``nbflow export pipeline.ipynb -o pipeline.py``).

Importing this package is light: papermill, nbclient and jupyter_client load only when
a notebook runs.

Imports: nbflow.core.*, the modules of this package.
"""

from __future__ import annotations

from nbflow.notebook.export import export_notebook
from nbflow.notebook.loader import load_notebook, select_definitions
from nbflow.notebook.params import (
    NotebookFormatError,
    NotebookNotFoundError,
    NotebookParameterError,
    inspect_parameters,
    read_notebook,
)
from nbflow.notebook.task import (
    NotebookCellError,
    NotebookKernelError,
    NotebookTask,
    NotebookTimeoutError,
)

__all__ = [
    "NotebookCellError",
    "NotebookFormatError",
    "NotebookKernelError",
    "NotebookNotFoundError",
    "NotebookParameterError",
    "NotebookTask",
    "NotebookTimeoutError",
    "export_notebook",
    "inspect_parameters",
    "load_notebook",
    "read_notebook",
    "select_definitions",
]
