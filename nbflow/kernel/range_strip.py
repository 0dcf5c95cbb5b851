"""The calendar strip of a range run: one cell per date, coloured by its state.

Shown under the live view of a run whose root is a range task (``RangeDaily`` and
the like), and updated as the run goes: done, missing, running or failed per date
(:mod:`nbflow.core.range_summary` decides which). It is plain HTML with a text
twin, so the notebook keeps its last state without a kernel. Dates beyond
:data:`CELLS_MAX` are folded, several to a cell, which then shows the worst state of
its dates.

Imports: stdlib, nbflow.core.range_summary (nbflow.core.range_task if imported).
"""

from __future__ import annotations

import html
import sys
from typing import TYPE_CHECKING, Any

from nbflow.core.range_summary import STATES, date_states, summary_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.core.progress import RunProgress
    from nbflow.core.range_task import RangeBase, RangePlan

#: At most this many cells; longer ranges fold several dates into a cell.
CELLS_MAX = 740
#: Drawn task states (nbflow.core.progress) as date states.
_TASK_STATES = {
    "DONE": "done",
    "complete": "done",
    "unversioned": "done",
    "RUNNING": "running",
    "BATCH_RUNNING": "running",
    "FAILED": "failed",
    "DISABLED": "failed",
    "broken": "failed",
}
#: Colours that read on light and dark themes; missing is an outline only.
_COLOURS = {
    "done": "#43a047",
    "failed": "#e53935",
    "running": "#1e88e5",
    "missing": "transparent",
}
#: The worst state wins a folded cell.
_RANK = {"failed": 3, "running": 2, "missing": 1, "done": 0}
_STYLE = """<style>
.nbflow-range-strip { font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  color: var(--jp-ui-font-color1, #1f1f1f); font-size: 12px; margin: 4px 0; }
.nbflow-range-cells { display: flex; flex-wrap: wrap; gap: 2px; margin: 4px 0;
  max-width: 760px; }
.nbflow-range-cell { width: 9px; height: 14px; border-radius: 2px;
  box-sizing: border-box; border: 1px solid #9e9e9e; }
.nbflow-range-legend span.nbflow-range-key { display: inline-block; width: 9px;
  height: 9px; border-radius: 2px; border: 1px solid #9e9e9e; margin: 0 3px 0 10px; }
</style>"""


def range_root(roots: Sequence[Any]) -> RangeBase | None:
    """Return the first range task among a run's roots, if any.

    The range tools are not imported for this: if nothing imported them, no root is
    a range (and the kernel registers no range task family of its own).
    """
    ranges = sys.modules.get("nbflow.core.range_task")
    if ranges is None:
        return None
    found: RangeBase | None = next(
        (task for task in roots if isinstance(task, ranges.RangeBase)), None
    )
    return found


def task_states(plan: RangePlan, progress: RunProgress) -> dict[str, str]:
    """Return the date state of each required task the run knows about."""
    found = {}
    for task_id in plan.required_ids:
        record = progress.tasks.get(task_id)
        if record is not None:
            found[task_id] = _TASK_STATES.get(record.state, "missing")
    return found


def strip_bundle(task: RangeBase, progress: RunProgress | None) -> dict[str, str]:
    """Return the strip as HTML and text (read ``progress`` under the run's lock)."""
    plan = task.plan
    title = f"{task.get_task_family()} of {task.of.get_task_family()}"
    if plan is None:
        text = f"{title}: checking which {task.moment_noun} are missing ..."
        return {"text/plain": text, "text/html": _frame(html.escape(text), "", "")}
    states = date_states(plan, {} if progress is None else task_states(plan, progress))
    text = summary_text(title, plan, states)
    heading = html.escape(text.splitlines()[0])
    return {
        "text/plain": text,
        "text/html": _frame(heading, _cells(plan.labels, states), _legend(states)),
    }


def _frame(heading: str, cells: str, legend: str) -> str:
    return (
        f'{_STYLE}<div class="nbflow-range-strip"><div class="nbflow-range-title">'
        f"{heading}</div>{cells}{legend}</div>"
    )


def _cells(labels: Sequence[str], states: Sequence[str]) -> str:
    """Return one cell per date (or per group of dates, for long ranges)."""
    size = max(1, -(-len(states) // CELLS_MAX))  # dates per cell, rounded up
    cells = []
    for first in range(0, len(states), size):
        group = states[first : first + size]
        state = max(group, key=_RANK.__getitem__)
        last = min(first + size, len(states)) - 1
        span = labels[first] if last == first else f"{labels[first]}..{labels[last]}"
        cells.append(
            f'<div class="nbflow-range-cell nbflow-range-{state}" '
            f'data-state="{state}" title="{html.escape(span)}: {state}" '
            f'style="background: {_COLOURS[state]}"></div>'
        )
    return f'<div class="nbflow-range-cells">{"".join(cells)}</div>'


def _legend(states: Sequence[str]) -> str:
    parts = []
    for state in STATES:
        count = states.count(state)
        if count:
            parts.append(
                f'<span class="nbflow-range-key" style="background: '
                f'{_COLOURS[state]}"></span>{state} {count}'
            )
    return f'<div class="nbflow-range-legend">{"".join(parts)}</div>'
