"""``nbflow worker``: a long-lived worker of an ``nbflow server`` (Luigi's assistant).

``nbflow worker --scheduler-url URL --module m [--workers N]`` imports the modules,
announces itself to the server as an *assistant* (it may run any task, whoever added
it) and runs the tasks the server hands it, building each from its family and
parameters with the classes it imported. It waits for work until stopped.

Stopping: SIGTERM or Ctrl-C asks it to stop. It takes no new task, lets the running
ones finish for ``--grace-period`` seconds (30), then interrupts the rest and hands
them back to the server (they become pending, for another worker), tells the server
it stopped, and exits 0. A task blocked outside Python (one long ``sleep``, a C call)
cannot be interrupted: after ``UNWIND_SECONDS`` more it is handed back anyway and the
process ends without waiting for it, so a pod's termination grace period of
``--grace-period`` + 15 s is always enough. A second Ctrl-C stops at once.

Imports: stdlib, nbflow.core.*, nbflow.cli.run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

from nbflow.cli.arguments import add_scheduler_options
from nbflow.cli.run import import_user_modules
from nbflow.core import cmdline
from nbflow.core.config import Settings, current_settings, use_settings
from nbflow.core.interface import server_for
from nbflow.core.logging_setup import LOG_LEVELS, InterfaceLogging, LoggingOptions
from nbflow.core.run import worker_options
from nbflow.core.worker import Worker

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger("nbflow.cli")

#: Seconds tasks interrupted at the end of the grace period may take to unwind before
#: they are handed back anyway (a task blocked outside Python cannot be interrupted).
UNWIND_SECONDS = 5.0

_DESCRIPTION = """\
Work for an nbflow server: take any task of the families this worker can import
(Luigi's assistant mode), whoever added it, until stopped. SIGTERM or Ctrl-C stops
it: running tasks get --grace-period seconds to finish, the rest are handed back
to the server for another worker."""

_EPILOG = """\
examples:
  nbflow worker --scheduler-url http://sched:8082 --module pipeline --workers 4
  NBFLOW_TOKEN=... nbflow worker --scheduler-url http://sched:8082 --module a --module b"""


def worker_command(argv: list[str]) -> int:
    """Carry out ``nbflow worker ARGV`` and return the exit code."""
    args = _parser().parse_args(argv)
    settings = current_settings()
    InterfaceLogging.setup(
        LoggingOptions.from_config(settings, log_level=args.log_level or "INFO")
    )
    for module in args.module:
        import_user_modules(module, None)
    server = server_for(
        {
            "scheduler_url": args.scheduler_url,
            "scheduler_host": args.scheduler_host,
            "scheduler_port": args.scheduler_port,
        },
        args.scheduler_token,
    )
    if server is None:
        raise cmdline.UsageError(
            "no scheduler server given",
            " ".join(argv),
            "pass --scheduler-url http://host:port (or set [core] default_scheduler_url)",
        )
    executor = args.executor or settings.get("worker", "executor", "auto")
    options = worker_options(
        settings,
        workers=args.workers,
        executor="threads" if executor == "auto" else executor,  # interruptible
    )
    worker = Worker(server, options=dataclasses.replace(options, assistant=True))
    logger.info(
        "nbflow worker %s: working for %s (%d slot(s))",
        worker.id,
        server.url,
        options.workers,
    )
    # the address is read whenever the worker makes an executor, not only the first
    with (
        _dask_scheduler(args.dask_scheduler),
        worker,
        _stop_on_signals(worker, args.grace_period),
    ):
        worker.prepare()
        worker.run()
    logger.info("nbflow worker %s: stopped", worker.id)
    if _stuck_threads():  # handed back already; they must not finish the task later
        _exit_now()
    return 0


def _stuck_threads() -> list[threading.Thread]:
    """Return the threads (a task stuck outside Python) that would keep the process up."""
    return [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon
    ]


def _exit_now() -> NoReturn:
    """End the process with exit code 0, output flushed, no thread joined."""
    logger.warning(
        "nbflow worker: ending the process: %d task thread(s) did not stop",
        len(_stuck_threads()),
    )
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing more to say
            stream.flush()
    os._exit(0)


def _dask_scheduler(address: str | None) -> contextlib.AbstractContextManager[Any]:
    """Make ``--dask-scheduler`` the ``[dask] scheduler_address`` inside the block."""
    if not address:
        return contextlib.nullcontext()
    given = Settings.from_mapping({"dask": {"scheduler_address": address}})
    return use_settings(current_settings().merged(given))


@contextlib.contextmanager
def _stop_on_signals(worker: Worker, grace: float) -> Iterator[None]:
    """Make SIGTERM and a first Ctrl-C stop the worker gracefully."""

    def stop(number: int, _frame: Any) -> None:
        logger.warning(
            "nbflow worker: %s: stopping (running tasks have %g s to finish; "
            "Ctrl-C again to stop now)",
            signal.Signals(number).name,
            grace,
        )
        signal.signal(signal.SIGINT, signal.default_int_handler)
        worker.cancel(grace=grace, unwind=UNWIND_SECONDS)

    previous = {
        number: signal.signal(number, stop)
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbflow worker",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_scheduler_options(parser, "the server, http://host:port")
    add = parser.add_argument
    add(
        "--module",
        metavar="MODULE",
        action="append",
        default=[],
        help="import MODULE, whose task families this worker runs; repeatable",
    )
    add("--workers", metavar="N", type=_positive, help="tasks run at once (1)")
    add(
        "--executor",
        metavar="NAME",
        help="threads (default), processes, sync, or an executor plugin",
    )
    add(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="with --executor dask: run tasks on the Dask cluster at "
        "tcp://HOST:8786 ([dask] scheduler_address; else a LocalCluster of "
        "--workers processes)",
    )
    add(
        "--grace-period",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="on SIGTERM or Ctrl-C, how long running tasks may take to finish "
        "before they are handed back (30)",
    )
    add("--log-level", metavar="LEVEL", help=f"one of {', '.join(LOG_LEVELS)} (INFO)")
    return parser


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        msg = f"must be a positive whole number (got {text!r})"
        raise argparse.ArgumentTypeError(msg)
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(worker_command(sys.argv[1:]))
