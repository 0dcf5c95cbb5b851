"""Per-date states of a range run, and their compact text summary.

A range's plan (:class:`~nbflow.core.range_task.RangePlan`) says which moments were
checked, which were missing and which were required. Joined with the states of the
required tasks (from a finished run's summary, or live from its progress), every
moment gets one state: ``done`` (complete before, or run now), ``failed``,
``running``, or ``missing`` (not complete and not run: past ``task_limit``, waiting,
or held back by a failure). The CLI prints the text summary, grouped into runs of
consecutive moments; the notebook draws the same states as a calendar strip.

Imports: nbflow.core.range_task (types only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.core.range_task import RangePlan

__all__ = [
    "STATES",
    "DateRun",
    "date_runs",
    "date_states",
    "states_from_categories",
    "summary_text",
]

#: The states of a moment, in the order the summary lists them.
STATES = ("done", "failed", "running", "missing")
#: One character per state for the text strip.
_STRIP = {"done": "#", "failed": "X", "running": ">", "missing": "."}
#: A finished run's summary categories (``RunResult.tasks``) as moment states.
_CATEGORY_STATES = {
    "already_done": "done",
    "completed": "done",
    "failed": "failed",
    "scheduling_error": "failed",
    "disabled": "failed",
}
#: Runs listed per state before "... and N more".
_RUNS_SHOWN = 6
#: Strips are drawn for ranges up to this many moments, this many a row.
_STRIP_MAX, _STRIP_ROW = 400, 50


class DateRun(NamedTuple):
    """Consecutive moments in the same state."""

    state: str
    first: str
    last: str
    length: int

    @property
    def text(self) -> str:
        """``first`` alone, or ``first..last``."""
        return self.first if self.length == 1 else f"{self.first}..{self.last}"


def states_from_categories(tasks: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Return task id -> moment state for a finished run's ``RunResult.tasks``.

    Examples
    --------
    >>> states_from_categories({"completed": ["a"], "upstream_failure": ["b"]})
    {'a': 'done', 'b': 'missing'}
    """
    return {
        task_id: _CATEGORY_STATES.get(category, "missing")
        for category, ids in tasks.items()
        for task_id in ids
    }


def date_states(plan: RangePlan, task_states: Mapping[str, str]) -> list[str]:
    """Return the state of each checked moment of ``plan``, oldest first.

    ``task_states`` maps required task ids to ``done``, ``failed``, ``running`` or
    ``missing``; a required task it does not name is ``missing``.
    """
    required = dict(zip(plan.required, plan.required_ids, strict=True))
    missing = set(plan.missing)
    states = []
    for moment in plan.moments:
        if moment not in missing:
            states.append("done")
        elif moment in required:
            states.append(task_states.get(required[moment], "missing"))
        else:
            states.append("missing")
    return states


def date_runs(labels: Sequence[str], states: Sequence[str]) -> list[DateRun]:
    """Group consecutive moments in the same state.

    Examples
    --------
    >>> [r.text for r in date_runs("abcde", ["done", "done", "failed", "done", "done"])]
    ['a..b', 'c', 'd..e']
    """
    runs: list[DateRun] = []
    for label, state in zip(labels, states, strict=True):
        if runs and runs[-1].state == state:
            last = runs[-1]
            runs[-1] = DateRun(state, last.first, label, last.length + 1)
        else:
            runs.append(DateRun(state, label, label, 1))
    return runs


def summary_text(title: str, plan: RangePlan, states: Sequence[str]) -> str:
    """Return the per-date summary: counts and runs per state, then a strip.

    Examples
    --------
    >>> import datetime as dt
    >>> from nbflow.core.range_task import RangePlan
    >>> days = tuple(dt.datetime(2024, 1, d) for d in range(1, 6))
    >>> plan = RangePlan("Report", days, days[2:], days[2:4], ("c", "d"),
    ...                  tuple(f"2024-01-0{d}" for d in range(1, 6)))
    >>> print(summary_text("RangeDaily of Report", plan,
    ...                    date_states(plan, {"c": "done", "d": "failed"})))
    RangeDaily of Report: 5 dates, 2024-01-01..2024-01-05
      done     3  2024-01-01..2024-01-03
      failed   1  2024-01-04
      missing  1  2024-01-05
      2024-01-01 ###X.
    """
    if not plan.moments:
        heading = f"{title}: no {plan.noun} to check"
    else:
        span = f"{plan.labels[0]}..{plan.labels[-1]}"
        heading = f"{title}: {len(plan.moments)} {plan.noun}, {span}"
    lines = [heading]
    runs = date_runs(plan.labels, states)
    for state in STATES:
        mine = [run for run in runs if run.state == state]
        if not mine:
            continue
        shown = ", ".join(run.text for run in mine[:_RUNS_SHOWN])
        if len(mine) > _RUNS_SHOWN:
            shown += f", ... and {len(mine) - _RUNS_SHOWN} more runs"
        count = sum(run.length for run in mine)
        lines.append(f"  {state:<7} {count:>2}  {shown}")
    if 0 < len(states) <= _STRIP_MAX:
        for row in range(0, len(states), _STRIP_ROW):
            strip = "".join(_STRIP[s] for s in states[row : row + _STRIP_ROW])
            lines.append(f"  {plan.labels[row]} {strip}")
    if plan.outside:
        lines.append(
            f"  ({plan.outside} {plan.noun} of the range lie outside the window around now "
            "and were not checked: widen it with --days-back and the like)"
        )
    return "\n".join(lines)
