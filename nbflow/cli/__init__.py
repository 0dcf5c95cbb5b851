"""The ``nbflow`` command, one module per subcommand.

- :mod:`nbflow.cli.main`: dispatch and exit codes (the ``nbflow`` entry point);
- :mod:`nbflow.cli.run`: ``nbflow run`` and ``nbflow why`` for tasks in modules;
- :mod:`nbflow.cli.notebook`: ``nbflow run pipeline.ipynb Task``;
- :mod:`nbflow.cli.export`, :mod:`nbflow.cli.graph`: ``nbflow export``, ``nbflow graph``;
- :mod:`nbflow.cli.why`: ``--dry-run``, ``--accept`` and ``why`` output;
- :mod:`nbflow.cli.progress`: the terminal and plain-text renderers of a run's progress.

The CLI is a shell: it may import the core and the notebook layer; nothing imports it
(import-linter checks this).
"""

from __future__ import annotations

from nbflow.cli.main import ModuleImportError, exit_code_for, main

__all__ = ["ModuleImportError", "exit_code_for", "main"]
