"""The progress and failure panels of a run view, as HTML rendered from the run's model.

Both render the run's one :class:`~nbflow.core.progress.RunProgress`: the progress panel
(overall bar, a bar per running task with its status message, tracking link and elapsed
time, the final summary line) and the failure panel (each failed task's error,
parameters, collapsed traceback and the tail of its captured output). Every value that
came from a task is escaped, and only http(s) URLs become links. Percentages are floored
(a failed run of 2021 tasks reads 99%, never 100%). Callers hold the run's lock while
rendering.

Imports: stdlib, nbflow.core.progress.
"""

from __future__ import annotations

import html
import math
import time
from typing import TYPE_CHECKING

from nbflow.core.progress import FAILED_STATES, format_seconds, is_web_url, last_line

if TYPE_CHECKING:
    from nbflow.core.progress import RunProgress, TaskState

#: Running tasks listed one by one; the rest are counted.
SHOWN_RUNNING = 12
#: Failed tasks shown in full; the rest are counted.
SHOWN_FAILURES = 20
#: Lines of a failed task's captured output shown under it (its last ones).
OUTPUT_TAIL = 20
#: How links look: the theme's link colour, underlined on hover and focus.
LINK_CSS = (
    "<style>.nbflow-link { color: var(--jp-content-link-color, #0b62c4); "
    "text-decoration: none; cursor: pointer; } "
    ".nbflow-link:hover, .nbflow-link:focus { text-decoration: underline; }</style>"
)


# --- HTML ---------------------------------------------------------------------------


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def percent_done(done: int, total: int) -> int:
    """Return the whole percentage of ``total`` that is done, floored.

    100 only when everything is done, so a run with one failure never reads 100%.

    Examples
    --------
    >>> percent_done(2018, 2021), percent_done(2021, 2021), percent_done(0, 0)
    (99, 100, 0)
    """
    if total <= 0:
        return 0
    return min(done * 100 // total, 100)


def floor_percent(percentage: float) -> int:
    """Return a task's reported percentage as a whole number in 0-100, floored.

    Examples
    --------
    >>> floor_percent(99.7), floor_percent(-3), floor_percent(250)
    (99, 0, 100)
    """
    if math.isnan(percentage):
        return 0
    return int(min(max(math.floor(percentage), 0), 100))


def _bar(percentage: float, css_class: str) -> str:
    width = min(max(percentage, 0.0), 100.0)
    return (
        f'<div class="nbflow-bar {css_class}" role="progressbar" aria-valuemin="0" '
        f'aria-valuemax="100" aria-valuenow="{floor_percent(width)}">'
        f'<div class="nbflow-fill" style="width: {width:.1f}%"></div></div>'
    )


def link_html(url: str, text: str = "tracking") -> str:
    """Return an escaped link opening in a new tab, or the escaped URL if not http(s).

    The link has the theme's link colour (:data:`LINK_CSS` adds the underline on
    hover) and shows its URL as a tooltip.

    Examples
    --------
    >>> print(link_html('https://x.test/?a=1&b="2"', "log"))  # doctest: +NORMALIZE_WHITESPACE
    <a class="nbflow-link" href="https://x.test/?a=1&amp;b=&quot;2&quot;"
       title="https://x.test/?a=1&amp;b=&quot;2&quot;" target="_blank"
       rel="noopener noreferrer"
       style="color: var(--jp-content-link-color, #0b62c4)">log</a>
    >>> print(link_html("javascript:alert(1)"))
    <span class="nbflow-url">javascript:alert(1)</span>
    """
    if not is_web_url(url):
        return f'<span class="nbflow-url">{_escape(url)}</span>'
    return (
        f'<a class="nbflow-link" href="{_escape(url)}" title="{_escape(url)}" '
        'target="_blank" rel="noopener noreferrer" '
        f'style="color: var(--jp-content-link-color, #0b62c4)">{_escape(text)}</a>'
    )


def progress_html(progress: RunProgress, now: float | None = None) -> str:
    """Return the progress panel: overall bar, running tasks, then the summary."""
    now = time.time() if now is None else now
    total, done = progress.total, progress.done
    percentage = percent_done(done, total)
    failed = sum(progress.counts.get(state, 0) for state in FAILED_STATES)
    overall = f"{done}/{total} done ({percentage}%)"
    if failed:
        overall += f" · {failed} failed"
    if progress.started is not None:
        overall += f" · {format_seconds(progress.wall(now))}"
    parts = [
        f'<div class="nbflow-overall" data-done="{done}" data-total="{total}">',
        _bar(100.0 * done / total if total else 0.0, "nbflow-overall-bar"),
        f'<span class="nbflow-overall-text">{_escape(overall)}</span></div>',
    ]
    running = list(progress.running)
    if any(progress.tasks[task_id].url for task_id in running[:SHOWN_RUNNING]):
        parts.append(LINK_CSS)
    if running:
        parts.append('<ul class="nbflow-running">')
        parts.extend(
            _running_html(task_id, progress.tasks[task_id], now)
            for task_id in running[:SHOWN_RUNNING]
        )
        if len(running) > SHOWN_RUNNING:
            parts.append(f"<li>… and {len(running) - SHOWN_RUNNING} more running</li>")
        parts.append("</ul>")
    if progress.finished is not None:
        parts.append(
            f'<div class="nbflow-summary nbflow-{_escape(progress.outcome)}">'
            f"{_escape(progress.summary_line())}</div>"
        )
    return "".join(parts)


def _running_html(task_id: str, record: TaskState, now: float) -> str:
    started = record.started if record.started is not None else now
    percentage = record.percentage
    bar = _bar(percentage, "nbflow-task-bar") if percentage is not None else ""
    shown = "" if percentage is None else f"{floor_percent(percentage)}%"
    parts = [
        f'<li class="nbflow-task" data-task-id="{_escape(task_id)}">',
        (
            f'<span class="nbflow-label" title="{_escape(task_id)}">'
            f"{_escape(record.label)}</span>"
        ),
        bar,
        f'<span class="nbflow-percent">{shown}</span>',
        f'<span class="nbflow-elapsed">{format_seconds(now - started)}</span>',
    ]
    if record.message:
        parts.append(f'<span class="nbflow-message">{_escape(record.message)}</span>')
    if record.url:
        parts.append(link_html(record.url))
    parts.append("</li>")
    return "".join(parts)


def failures_html(progress: RunProgress) -> str:
    """Return the failure panel: each failed task's error, parameters and traceback."""
    failed = list(progress.failed)
    if not failed:
        return ""
    parts = ['<div class="nbflow-failures">']
    if any(progress.tasks[task_id].url for task_id in failed[:SHOWN_FAILURES]):
        parts.append(LINK_CSS)
    parts.extend(
        _failure_html(task_id, progress.tasks[task_id])
        for task_id in failed[:SHOWN_FAILURES]
    )
    if len(failed) > SHOWN_FAILURES:
        parts.append(f"<div>… and {len(failed) - SHOWN_FAILURES} more failed</div>")
    parts.append("</div>")
    return "".join(parts)


def _failure_html(task_id: str, record: TaskState) -> str:
    error = last_line(record.error, record.state.lower())
    rows = "".join(
        f"<tr><th>{_escape(name)}</th><td>{_escape(value)}</td></tr>"
        for name, value in record.params
    )
    parts = [
        f'<div class="nbflow-failure" data-task-id="{_escape(task_id)}">',
        (
            f'<div class="nbflow-failure-head">✗ <b>{_escape(record.label)}</b> '
            f"<code>{_escape(error)}</code></div>"
        ),
    ]
    if rows:
        parts.append(f'<table class="nbflow-params">{rows}</table>')
    if record.traceback:
        parts.append(
            "<details><summary>Traceback</summary>"
            f"<pre>{_escape(record.traceback)}</pre></details>"
        )
    tail = output_tail(record)
    if tail:
        parts.append(
            f'<details class="nbflow-output"><summary>Output (last {len(tail)} '
            f"line{'s' if len(tail) != 1 else ''})</summary>"
            f"<pre>{_escape(chr(10).join(tail))}</pre></details>"
        )
    if record.url:
        parts.append(link_html(record.url))
    parts.append("</div>")
    return "".join(parts)


def output_tail(record: TaskState, limit: int = OUTPUT_TAIL) -> list[str]:
    """Return the last ``limit`` lines a task wrote (stdout, stderr, log records)."""
    lines: list[str] = []
    for chunk in record.output:
        lines.extend(str(chunk).rstrip("\n").splitlines() or [""])
    return lines[-limit:] if limit > 0 else []
