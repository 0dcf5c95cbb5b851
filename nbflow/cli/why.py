"""``nbflow why`` and the planning options of ``nbflow run``: --dry-run, --accept.

``nbflow why --module m Task --param v`` prints, for every task in Task's graph, whether
a run would run it and why::

    RUN   Report(day=2024-06-01)   stale: upstream Clean(day=2024-06-01) changed
    RUN   Clean(day=2024-06-01)    stale: code changed in clean_rows
    skip  Download(day=2024-06-01) up to date

The logic lives in :mod:`nbflow.core.planning` (shared with the ``%nbflow`` magic);
this module only reads the options and prints.

Imports: nbflow.core (the CLI layer).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from nbflow.core import planning
from nbflow.core.config import current_settings

if TYPE_CHECKING:
    from nbflow.core.cmdline import Invocation
    from nbflow.core.task import Task


def plan_options(invocation: Invocation) -> planning.PlanOptions:
    """Return the planning options; the mode defaults to [core] completeness, else exists."""
    default = str(current_settings().get("core", "completeness", "exists"))
    return planning.PlanOptions.from_invocation(invocation, default_mode=default)


def why_command(root: Task, invocation: Invocation, out: TextIO | None = None) -> int:
    """Explain, for every task under ``root``, whether a run would run it and why."""
    (out or sys.stdout).write(planning.why([root], plan_options(invocation)) + "\n")
    return 0


def before_run(
    root: Task, invocation: Invocation, out: TextIO | None = None
) -> int | None:
    """Carry out --accept and --dry-run; return an exit code if the run must stop here."""
    preflight = planning.prepare_run([root], plan_options(invocation))
    if preflight.text:
        (out or sys.stdout).write(preflight.text + "\n")
    return 0 if preflight.stop else None
