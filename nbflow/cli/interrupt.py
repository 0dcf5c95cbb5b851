"""What ``nbflow`` does on Ctrl-C: summarise the stopped run; quit at once if need be.

The first Ctrl-C reaches the worker, which starts nothing more, interrupts the running
tasks, waits for them to unwind (their temporaries go with them) and raises
:class:`~nbflow.core.interruption.RunInterrupted`. Here the run's summary is printed, as
after any run, and the command exits with 130. A second Ctrl-C while that happens, or
tasks that did not stop (the worker gave up on them at a second Ctrl-C, after removing
their temporaries), end the process at once: a thread stuck in a task would otherwise
keep it alive, and a Ctrl-C during interpreter shutdown prints a traceback.

Imports: stdlib, nbflow.core.{interruption, summary}.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from nbflow.core.interruption import RunInterrupted
from nbflow.core.summary import summarize

if TYPE_CHECKING:
    from collections.abc import Callable

#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130


def report_interrupt(exc: KeyboardInterrupt) -> int:
    """Print the interrupted run's summary and the error line; return the exit code."""
    restore = _quit_on_next_interrupt()
    try:
        stopped = _run_interrupted(exc)
        if stopped is not None:
            worker = stopped.worker
            result = summarize(
                worker.scheduler.tasks(), worker.scheduling_errors, worker=worker
            )
            sys.stdout.write(result.summary_text + "\n")
        sys.stderr.write("nbflow: error: interrupted\n")
        if stopped is not None and stopped.abandoned:
            quit_now()
    finally:
        restore()
    return INTERRUPTED_EXIT


def quit_now(*_: object) -> None:
    """End the process at once with exit code 130, output flushed, nothing joined."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed: nothing more to say
            stream.flush()
    os._exit(INTERRUPTED_EXIT)


def _run_interrupted(exc: BaseException | None) -> RunInterrupted | None:
    """Find the worker's RunInterrupted in ``exc`` or what it interrupted in turn."""
    while exc is not None:
        if isinstance(exc, RunInterrupted):
            return exc
        exc = exc.__context__
    return None


def _quit_on_next_interrupt() -> Callable[[], None]:
    """Make Ctrl-C quit at once (main thread only); return what puts it back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGINT, quit_now)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore
