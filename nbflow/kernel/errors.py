"""Errors of kernel runs: a run failed, was cancelled, or does not exist.

Messages are built in ``__str__`` from picklable fields, in nbflow's shape
(``<where>: <what> (got <repr>). Expected <x>. Fix: <y>.``); the magics show them as one
``UsageError`` line.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import shlex

from nbflow.core.errors import NbflowError


def show_command(family: str, params: tuple[tuple[str, str], ...]) -> str:
    """Return the ``%nbflow show`` line for a task, its parameters quoted for the magic.

    Examples
    --------
    >>> show_command("Clean", (("day", "2024-06-03"), ("min_amount", "0.5")))
    '%nbflow show Clean --day 2024-06-03 --min-amount 0.5'
    >>> show_command("Say", (("text", "a # b"), ("offset", "-3")))
    "%nbflow show Say --text 'a # b' --offset=-3"
    """
    parts = ["%nbflow show", family]
    for name, value in params:
        flag = "--" + name.replace("_", "-")
        if value.startswith("-"):  # would read as an option: glue it to its flag
            parts.append(f"{flag}={shlex.quote(value)}")
        else:
            parts += [flag, shlex.quote(value)]
    return " ".join(parts)


class RunFailedError(NbflowError):
    """A run started from the kernel ended with failed or unschedulable tasks."""

    def __init__(
        self, number: int, failed: tuple[str, ...], error: str, show: str = ""
    ) -> None:
        super().__init__(number, failed, error, show)
        self.number, self.failed, self.error = number, failed, error
        #: The ``%nbflow show`` line of the first failed task (see show_command).
        self.show = show

    def __str__(self) -> str:
        first = self.failed[0] if self.failed else "?"
        more = f" and {len(self.failed) - 1} more" if len(self.failed) > 1 else ""
        show = self.show or f"%nbflow show {first.split('(')[0]}"
        return (
            f"nbflow run {self.number}: failed (got {first}{more} failing: "
            f"{self.error}). Expected every task to succeed. Fix: see the traceback "
            f"with {show}, correct the task and run again (complete tasks are not "
            "run twice)."
        )


class RunCancelledError(NbflowError):
    """A run the cell was waiting for was cancelled with Ctrl-C (kernel interrupt)."""

    def __init__(self, number: int, stopping: bool) -> None:
        super().__init__(number, stopping)
        self.number, self.stopping = number, stopping

    def __str__(self) -> str:
        still = (
            "its running tasks are still stopping in the background (their results "
            "are ignored)"
            if self.stopping
            else "its unfinished tasks were stopped and wrote no outputs"
        )
        return (
            f"nbflow run {self.number}: cancelled (got a kernel interrupt); {still}. "
            "Fix: run it again to finish; complete tasks are not run twice."
        )


class UnknownRunError(NbflowError, LookupError):
    """``attach``/``cancel`` named a run number this kernel does not have."""

    def __init__(self, number: int, count: int) -> None:
        super().__init__(number, count)
        self.number, self.count = number, count

    def __str__(self) -> str:
        known = f"1 to {self.count}" if self.count else "none yet"
        return (
            f"nbflow: no run number {self.number} in this kernel (got {self.number}). "
            f"Expected a run number ({known}). Fix: see %nbflow status for the runs."
        )
