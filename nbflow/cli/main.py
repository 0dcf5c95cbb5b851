"""The ``nbflow`` command: dispatch to a subcommand, turn every error into an exit code.

Subcommands live in their own modules: :mod:`~nbflow.cli.run` (``run`` and ``why``),
:mod:`~nbflow.cli.notebook` (``run NOTEBOOK.ipynb``), :mod:`~nbflow.cli.export` and
:mod:`~nbflow.cli.graph`. Every error ends as one ``nbflow: error: ...`` line on stderr
and an exit code, never as a bare traceback (``NBFLOW_DEBUG=1`` adds it).

Imports: stdlib, nbflow (for ``__version__``), nbflow.core.*, nbflow.cli.run; the
notebook subcommands lazily (they import papermill and nbformat).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import traceback
import warnings
from typing import TextIO

from nbflow.cli.interrupt import report_interrupt
from nbflow.cli.run import ModuleImportError, run_command
from nbflow.core import cmdline
from nbflow.core.config import RetCodes, current_settings
from nbflow.core.errors import (
    DefinitionError,
    GraphError,
    NbflowError,
    NbflowWarning,
    PluginError,
    SchedulerError,
    TaskFailedError,
)
from nbflow.core.progress import first_line

__all__ = ["ModuleImportError", "exit_code_for", "main"]

#: Exit code for command-line and definition errors (argparse's, too).
USAGE_EXIT = 2
COMMANDS = ("run", "export", "graph", "why", "server")


def main(argv: list[str] | None = None) -> int:
    """Run the ``nbflow`` command line and return its exit code.

    Parameters
    ----------
    argv
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The process exit code (see ``nbflow run --help``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", NbflowWarning)  # shown, once per place
            warnings.showwarning = _show_warning
            return _dispatch(args)
    except KeyboardInterrupt as exc:
        return report_interrupt(exc)
    except Exception as exc:  # noqa: BLE001  (the boundary: every error becomes a code)
        return _report(exc)


def _dispatch(args: list[str]) -> int:
    if not args:
        _parser().print_usage(sys.stderr)
        raise cmdline.UsageError(
            "no command given", "", "write `nbflow run ...`, or `nbflow --help`"
        )
    command = args[0]
    if command in ("-h", "--help"):
        _parser().print_help(sys.stdout)
        return 0
    if command == "--version":
        from nbflow import __version__  # noqa: PLC0415  (the facade; only needed here)

        sys.stdout.write(f"nbflow {__version__}\n")
        return 0
    if command == "why":
        return run_command(args[1:], explain=True)
    if command == "worker":
        from nbflow.cli.worker import worker_command  # noqa: PLC0415  (only when used)

        return worker_command(args[1:])
    if command in ("run", "export", "graph"):
        return _notebook_command(command, args[1:])
    if command == "server":
        from nbflow.cli.server import server_command  # noqa: PLC0415  (tornado, SQLAlchemy)

        return server_command(args[1:])
    hint = "write `nbflow run " + " ".join(args) + "`"
    if not command.startswith("-"):
        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f"use `nbflow {close[0]}`" if close else "use `nbflow run`"
    raise cmdline.UsageError(f"unknown command {command!r}", command, hint)


def _notebook_command(command: str, argv: list[str]) -> int:
    """Carry out run/export/graph; the notebook layer is imported only when needed."""
    if command == "export":
        from nbflow.cli import export  # noqa: PLC0415  (imports nbformat)

        return export.export_command(argv)
    if command == "graph":
        from nbflow.cli import graph  # noqa: PLC0415  (imports the notebook layer)

        return graph.graph_command(argv)
    from nbflow.cli import notebook  # noqa: PLC0415

    if notebook.notebook_index(argv) is not None:
        return notebook.run_notebook_command(argv)
    return run_command(argv)


# --- errors ---------------------------------------------------------------------------


def _report(exc: Exception) -> int:
    """Print ``exc`` as one ``nbflow: error:`` line and return its exit code."""
    debug = os.environ.get("NBFLOW_DEBUG", "").strip() not in ("", "0")
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if isinstance(exc, NbflowError):
        _print_error(str(exc))
    else:
        hint = "" if debug else " (re-run with NBFLOW_DEBUG=1 for the traceback)"
        message = first_line(str(exc))
        _print_error(f"unexpected {type(exc).__name__}: {message}{hint}")
    return exit_code_for(exc)


def exit_code_for(exc: Exception) -> int:
    """Return the exit code for an error that ended a command."""
    if isinstance(exc, (DefinitionError, PluginError)):
        return USAGE_EXIT
    codes = _retcodes()
    if isinstance(exc, (GraphError, SchedulerError)):
        return codes.scheduling_error
    if isinstance(exc, TaskFailedError):
        return codes.task_failed
    return codes.unhandled_exception


def _retcodes() -> RetCodes:
    try:
        return RetCodes.from_settings(current_settings())
    except NbflowError:  # the config itself is broken: fall back to the defaults
        return RetCodes()


def _print_error(message: str) -> None:
    sys.stderr.write(f"nbflow: error: {message}\n")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Show nbflow's warnings as one ``nbflow: warning:`` line, others as usual."""
    if issubclass(category, NbflowWarning):
        (file or sys.stderr).write(f"nbflow: warning: {message}\n")
        return
    text = warnings.formatwarning(message, category, filename, lineno, line)
    (file or sys.stderr).write(text)


# --- help -------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    """Return the top-level parser (used for help; `run` parses its own arguments)."""
    parser = argparse.ArgumentParser(
        prog="nbflow",
        description="Luigi's pipeline model, at home in Jupyter.",
        epilog="Run `nbflow COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="store_true", help="print the version")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    commands.add_parser("run", help="run a task and its missing requirements")
    commands.add_parser("export", help="write a pipeline notebook's tasks to a module")
    commands.add_parser("graph", help="draw a task's graph (dot, json, svg, png)")
    commands.add_parser(
        "why", help="say which tasks a run would run and why (same arguments as run)"
    )
    commands.add_parser(
        "worker", help="work for an nbflow server (any task it can import)"
    )
    commands.add_parser(
        "server", help="run the central scheduler (HTTP API, luigid's protocol)"
    )
    return parser
