"""``nbflow run`` and ``nbflow why``: parse a task command line, run it, report.

``nbflow run [options] [--module m] Task [--param v] [--Family-param v]`` is Luigi's
``luigi --module m Task --param v``: the task's command line is parsed by
:mod:`nbflow.core.cmdline` (shared with ``nbflow.run`` and the kernel magics), the run
is started by :func:`nbflow.core.interface.build`, and the exit code comes from the
``[retcode]`` settings. Logging is set up here (once per process, shared with Luigi's
command-line forms: :mod:`nbflow.core.logging_setup`); importing nbflow never touches
it.

Imports: stdlib, nbflow.core.*, nbflow.cli.{progress, why}.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from typing import TYPE_CHECKING, TextIO

from nbflow.cli import why as _why
from nbflow.cli.arguments import add_scheduler_options, spell_dask_scheduler
from nbflow.cli.progress import progress_for
from nbflow.core import cmdline, interface
from nbflow.core.config import RetCodes, current_settings
from nbflow.core.errors import DefinitionError, NbflowError
from nbflow.core.lock import command_lock
from nbflow.core.logging_setup import LOG_LEVELS, InterfaceLogging, LoggingOptions
from nbflow.core.progress import first_line, task_label
from nbflow.core.range_summary import date_states, states_from_categories, summary_text
from nbflow.core.range_task import RangeBase
from nbflow.core.registry import REGISTRY
from nbflow.core.run import start_run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from nbflow.core.run import Run
    from nbflow.core.summary import RunResult

logger = logging.getLogger("nbflow.cli")

#: Failed tasks whose traceback is logged after a run; the rest are counted.
_TRACEBACKS_SHOWN = 5

_RUN_DESCRIPTION = """\
Run a task and everything it requires that is not complete yet, on the embedded
scheduler. Task parameters follow the task name: --param VALUE for the task's own,
--Family-param VALUE for any task family's (Luigi's spelling). Run
`nbflow run --module MODULE TASK --help` to list a task's parameters."""

_RUN_EPILOG = """\
exit codes (the [retcode] section of the config changes them; highest wins):
  0   success (also: missing external data, tasks not run, the same command
      already running; see below)
  1   a task failed (task_failed), or a task could not be scheduled because its
      requires() or complete() raised (scheduling_error)
  2   command-line, parameter, task-definition or config-file error
  4   an unexpected error inside nbflow (unhandled_exception)
  130 interrupted (Ctrl-C), or the run cancelled by the scheduler server

differences from luigi: a failed task exits with 1, not 0 (Luigi's default
task_failed = 0 hides failures from cron and CI), and so does a scheduling error.
Put `[retcode]` `task_failed = 0` and `scheduling_error = 0` in nbflow.toml (or
luigi.cfg) to get Luigi's behaviour back. missing_data, not_run and
already_running default to 0.

examples:
  nbflow run --module pipeline Report --date 2024-06-01
  nbflow run pipeline:Report --date 2024-06-01 --Clean-min-amount 5 --workers 4"""


class ModuleImportError(DefinitionError):
    """The user's module could not be imported (it raised, or has a syntax error)."""

    def __init__(self, module: str, error: str, location: str) -> None:
        super().__init__(module, error, location)
        self.module, self.error, self.location = module, error, location

    def __str__(self) -> str:
        at = f" at {self.location}" if self.location else ""
        return (
            f"module {self.module!r}: importing it failed (got {self.error}{at}). "
            "Expected a module that imports without errors. "
            f"Fix: correct the error{at}; run `python -c 'import {self.module}'` "
            "or re-run with NBFLOW_DEBUG=1 to see the traceback."
        )


def run_command(argv: list[str], *, explain: bool = False) -> int:
    """Carry out ``nbflow run ARGV`` (or ``nbflow why ARGV``) and return the exit code."""
    show_progress = "--no-progress" not in argv
    # -h means --help, as in argparse; --no-progress is the CLI's own, not cmdline's.
    argv = ["--help" if arg == "-h" else arg for arg in argv if arg != "--no-progress"]
    argv, token = take_token(argv)  # the CLI's own too (kept out of the lock's key)
    argv = spell_dask_scheduler(argv)
    values, task_token = _scan(argv)
    settings = current_settings()  # a broken config file is reported before any work
    logging_options = LoggingOptions.from_config(
        settings,
        log_level=values.get("log_level"),
        logging_conf_file=values.get("logging_conf_file"),
        hide_summary=True,  # printed on stdout below
    )
    InterfaceLogging.setup(logging_options)  # once per process, as Luigi's
    import_user_modules(values.get("module"), task_token)
    invocation = cmdline.parse(argv)
    if invocation.wants_help:
        sys.stdout.write(_help_for(invocation) + "\n")
        return 0
    with interface.overrides_in_force(invocation):
        task = interface.instantiate(invocation)
        if explain:
            return _why.why_command(task, invocation)
        stop = _why.before_run(task, invocation)
        if stop is not None:
            return stop
        options = interface.run_options(invocation, token=token)
        with (
            command_lock(argv, invocation),  # Luigi's lock; task claims
            _progress(enabled=show_progress, stream=sys.stderr) as views,
        ):
            result = start_run([task], options, views=views).wait()
    _log_failures(result)
    sys.stdout.write(result.summary_text + "\n")
    if isinstance(task, RangeBase) and task.plan is not None:  # a backfill: per date
        states = date_states(task.plan, states_from_categories(result.tasks))
        title = f"{task.get_task_family()} of {task.plan.family}"
        sys.stdout.write(summary_text(title, task.plan, states) + "\n")
    return result.exit_code(RetCodes.from_settings(current_settings()))


def take_token(argv: list[str]) -> tuple[list[str], str | None]:
    """Take ``--scheduler-token T`` (or ``=T``) out of ``argv``; return the rest and T."""
    rest: list[str] = []
    token = None
    words = iter(argv)
    for word in words:
        flag, sep, value = word.partition("=")
        if flag == "--scheduler-token":
            token = value if sep else next(words, "")
            if not token:
                raise cmdline.UsageError(
                    "--scheduler-token needs a value", word, "write --scheduler-token T"
                )
        else:
            rest.append(word)
    return rest, token


def _scan(argv: list[str]) -> tuple[dict[str, str], str | None]:
    """Return the run options' values and the task word, without importing anything.

    This mirrors :func:`nbflow.core.cmdline.parse` just enough to set up logging and
    import the user's modules (with a clear error) before the real parse.
    """
    values: dict[str, str] = {}
    task_token = None
    tokens = iter(argv)
    for token in tokens:
        if token.startswith("--"):
            name, sep, value = token[2:].partition("=")
            name = name.replace("-", "_")
            if name in cmdline.VALUE_OPTIONS:
                values[name] = value if sep else next(tokens, "")
            elif cmdline.takes_value(token):  # its value is not the task's name
                next(tokens, "")
        elif task_token is None:
            task_token = token
    return values, task_token


def import_user_modules(module: str | None, task_token: str | None) -> None:
    """Import the user's module (and the one a MODULE:TASK word names), clearly."""
    names = [module] if module else []
    if task_token and ":" in task_token:
        names.append(task_token.split(":", 1)[0])
    for name in names:
        try:
            cmdline.import_module(name)
        except NbflowError:
            raise
        except Exception as exc:  # user code ran at import: any error can come
            raise ModuleImportError(
                name, f"{type(exc).__name__}: {_message(exc)}", _location(exc)
            ) from exc


def _message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return exc.msg
    return first_line(str(exc))


def _location(exc: BaseException) -> str:
    """Return ``file:line`` where ``exc`` was raised (outside importlib)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen")
    ]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _help_for(invocation: cmdline.Invocation) -> str:
    if invocation.task_name is None:
        return _run_parser().format_help().rstrip("\n")
    task_cls = REGISTRY.lookup(invocation.task_name)
    return (
        cmdline.describe_params(task_cls)
        + "\n\nrun options (--workers, --executor, ...): see `nbflow run --help`"
    )


@contextlib.contextmanager
def _progress(
    *, enabled: bool, stream: TextIO
) -> Iterator[list[Callable[[Run], None]]]:
    """Yield the views a run attaches (none without progress), closed at the end."""
    if not enabled:
        yield []
        return
    with progress_for(stream) as display:
        yield [display.attach]


def _log_failures(result: RunResult) -> None:
    """Log the tracebacks of the first few failed tasks (Luigi logs every one)."""
    worker = result.worker
    if worker is None:
        return
    failed = [worker.scheduler.task_info(t) for t in result.tasks.get("failed", [])]
    # a task whose process died has no traceback: its error says what happened
    failures = [(info.task_id, info.traceback or info.error) for info in failed]
    failures += [
        (task_id, worker.scheduling_errors[task_id][1])
        for task_id in result.tasks.get("scheduling_error", [])
    ]
    failures = [(task_id, trace) for task_id, trace in failures if trace]
    for task_id, trace in failures[:_TRACEBACKS_SHOWN]:
        info = worker.scheduler.task_info(task_id)
        logger.error("%s failed:\n%s", task_label(info.family, info.params), trace)
    if len(failures) > _TRACEBACKS_SHOWN:
        logger.error("...and %d more failures", len(failures) - _TRACEBACKS_SHOWN)


def _run_parser() -> argparse.ArgumentParser:
    """Return a parser that documents every option of ``nbflow run``."""
    parser = argparse.ArgumentParser(
        prog="nbflow run",
        usage="%(prog)s [OPTIONS] [--module MODULE] TASK [--PARAM VALUE ...]\n"
        "       %(prog)s [OPTIONS] MODULE:TASK [--PARAM VALUE ...]\n"
        "       %(prog)s [OPTIONS] NOTEBOOK.ipynb TASK [--PARAM VALUE ...]",
        description=_RUN_DESCRIPTION,
        epilog=_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--module",
        metavar="MODULE",
        help="import MODULE (a dotted name: pkg.pipeline) first",
    )
    add("--workers", metavar="N", help="run N tasks at once ([core] workers; 1)")
    add(
        "--executor",
        metavar="NAME",
        help="auto (sync for one worker, else threads), sync, threads, processes, "
        "or an installed executor plugin such as dask ([worker] executor; auto)",
    )
    add(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="with --executor dask: run on the Dask cluster at tcp://HOST:8786 (left "
        "running) instead of a LocalCluster of --workers processes ([dask] "
        "scheduler_address)",
    )
    add("--keep-alive", action="store_true", help="wait and retry failed tasks")
    add(
        "--parallel-scheduling",
        action="store_true",
        help="check completeness in parallel threads",
    )
    add(
        "--parallel-scheduling-processes",
        metavar="N",
        help="how many threads check completeness with --parallel-scheduling (4)",
    )
    add(
        "--log-level",
        metavar="LEVEL",
        help=f"log to stderr at one of {', '.join(LOG_LEVELS)} "
        "([core] log_level; WARNING)",
    )
    add(
        "--logging-conf-file",
        metavar="FILE",
        help="set logging up from FILE (logging.config.fileConfig form) instead "
        "([core] logging_conf_file; [core] no_configure_logging = true leaves "
        "logging alone)",
    )
    add("--no-progress", action="store_true", help="do not show progress on stderr")
    add(
        "--completeness",
        metavar="MODE",
        help="exists (outputs exist: Luigi's rule) or fingerprint (outputs exist and "
        "were made by the same code, parameters and inputs) ([core] completeness; exists)",
    )
    add(
        "--force",
        metavar="TASK",
        action="append",
        help="run TASK (a family name or task id) again with everything downstream "
        "of it, even if complete; repeatable",
    )
    add(
        "--accept",
        metavar="TASK",
        action="append",
        help="record TASK's current fingerprint without running it (and that of "
        "downstream tasks whose only change is TASK); repeatable",
    )
    add(
        "--dry-run",
        action="store_true",
        help="list what would run, and why; run nothing",
    )
    _add_lock_options(parser)
    _add_server_options(parser)
    luigi = parser.add_argument_group("accepted for Luigi compatibility, no effect")
    for name in cmdline.VALUE_OPTIONS:
        documented = (
            "module",
            "workers",
            "executor",
            "log_level",
            "logging_conf_file",
            "completeness",
            "parallel_scheduling_processes",
        )
        if name not in documented and not name.startswith(("lock_", "scheduler_")):
            luigi.add_argument("--" + name.replace("_", "-"), metavar="VALUE")
    for name in ("assistant", "detailed-summary", "help-all"):
        luigi.add_argument(f"--{name}", action="store_true")
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    """Document the options that run on a central scheduler (nbflow server)."""
    server = parser.add_argument_group(
        "a central scheduler (nbflow server; the embedded scheduler is the default)",
        "The run adds its graph to the server and works on it with its own workers, "
        "as a Luigi worker does: a task never runs twice at once across clients, and "
        "a task another client runs is waited for. A lost server is waited for "
        "([scheduler] reconnect_timeout, 600 s) while running tasks go on.",
    )
    add_scheduler_options(
        server,
        "the server, http://host:port (http://user:TOKEN@host:port carries "
        "the token) ([core] default_scheduler_url)",
    )
    server.add_argument(
        "--local-scheduler",
        action="store_true",
        help="use the embedded scheduler even if a server is configured",
    )


def _add_lock_options(parser: argparse.ArgumentParser) -> None:
    """Document Luigi's command lock and nbflow's task claims (nbflow.core.lock)."""
    lock = parser.add_argument_group(
        "one run of a command at a time (Luigi's lock; the [core] keys of the same "
        "names set them too)",
        "A second run of the same command (same arguments, folder and task module) "
        "prints who runs it and exits with [retcode] already_running (0). Runs on one "
        "machine never run the same task at once: a task another run is running is "
        "waited for, and not run again if that run completed it.",
    )
    lock.add_argument(
        "--lock-pid-dir",
        metavar="DIR",
        help="where lock files and task claims live (default: nbflow-<uid> in the "
        "temp directory)",
    )
    lock.add_argument(
        "--lock-size", metavar="N", help="let N runs of the command work at once (1)"
    )
    lock.add_argument(
        "--take-lock",
        action="store_true",
        help="take over from the running copy: it is told (SIGUSR1) and starts no new "
        "task while this run lives; its running tasks finish",
    )
    lock.add_argument(
        "--no-lock", action="store_true", help="no command lock and no task claims"
    )
