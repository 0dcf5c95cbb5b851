"""``nbflow why`` and the planning options of ``nbflow run``: --dry-run, --accept.

``nbflow why --module m Task --param v`` prints, for every task in Task's graph, whether
a run would run it and why::

    RUN   Report(day=2024-06-01)   stale: upstream Clean(day=2024-06-01) changed
    RUN   Clean(day=2024-06-01)    stale: code changed in clean_rows
    skip  Download(day=2024-06-01) up to date

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


def mode_of(invocation: Invocation) -> str:
    """Return the completeness mode: --completeness, else [core] completeness, else exists."""
    given = invocation.options.get("completeness")
    return str(given or current_settings().get("core", "completeness", "exists"))


def forced(invocation: Invocation, root: Task) -> frozenset[str]:
    """Return the task ids --force names, with everything downstream of them."""
    names = invocation.options.get("force") or []
    return planning.forced_ids([root], names)


def write_explanations(items: list[planning.Explanation], out: TextIO) -> None:
    """Print one line per task: RUN or skip, its label, and the reason."""
    if items:
        out.write(planning.format_explanations(items) + "\n")


def why_command(root: Task, invocation: Invocation, out: TextIO | None = None) -> int:
    """Explain, for every task under ``root``, whether a run would run it and why."""
    out = out or sys.stdout
    items = planning.explain(
        [root], mode=mode_of(invocation), force=forced(invocation, root)
    )
    write_explanations(items, out)
    will_run = sum(item.will_run for item in items)
    out.write(f"\n{will_run} of {len(items)} tasks would run.\n")
    return 0


def before_run(
    root: Task, invocation: Invocation, out: TextIO | None = None
) -> int | None:
    """Carry out --accept and --dry-run; return an exit code if the run must stop here."""
    out = out or sys.stdout
    accepted = invocation.options.get("accept") or []
    if accepted:
        out.writelines(
            f"accepted  {label}\n" for label in planning.accept([root], accepted)
        )
    if invocation.options.get("dry_run"):
        items = planning.plan(
            [root], mode=mode_of(invocation), force=forced(invocation, root)
        )
        write_explanations(items, out)
        out.write(f"\n{len(items)} tasks would run (dry run: nothing was run).\n")
        return 0
    return None
