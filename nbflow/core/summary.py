"""The execution summary and the result of a build (Luigi's LuigiRunResult).

Everything is derived from the scheduler's final task snapshots and the worker's
scheduling errors, once, after the run; nothing here is on a hot path.

Imports: stdlib, nbflow.core.{config, errors, events, scheduler_node}.
"""

from __future__ import annotations

import datetime as dt
import enum
import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.errors import DefinitionError
from nbflow.core.events import Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.core.config import RetCodes
    from nbflow.core.scheduler_node import TaskInfo


class RunStatus(enum.Enum):
    """How a build went, with Luigi's face and reason (Luigi's LuigiStatusCode)."""

    SUCCESS = (":)", "there were no failed tasks or missing dependencies")
    SUCCESS_WITH_RETRY = (
        ":)",
        "there were failed tasks but they all succeeded in a retry",
    )
    FAILED = (":(", "there were failed tasks")
    FAILED_AND_SCHEDULING_FAILED = (
        ":(",
        "there were failed tasks and tasks whose scheduling failed",
    )
    SCHEDULING_FAILED = (":(", "there were tasks whose scheduling failed")
    NOT_RUN = (
        ":|",
        "there were tasks that were not granted run permission by the scheduler",
    )
    MISSING_EXT = (":|", "there were missing external dependencies")
    #: nbflow's own: the run was stopped (Ctrl-C, cancel()) before it finished.
    CANCELLED = (":|", "the run was cancelled before it finished")


#: Summary categories in display order: key -> heading.
CATEGORIES = {
    "already_done": "complete ones were encountered",
    "completed": "ran successfully",
    "failed": "failed",
    "cancelled": "were cancelled (stopped while running)",
    "scheduling_error": "failed scheduling",
    "disabled": "were disabled",
    "upstream_failure": "had failed dependencies",
    "upstream_disabled": "had disabled dependencies",
    "upstream_missing_dependency": "had missing dependencies",
    "not_run": "were not granted run permission by the scheduler",
    "still_pending_ext": "were missing external dependencies",
}


#: The logger ``build()`` writes the summary to at INFO (Luigi's name); a command that
#: prints the summary itself leaves this logger's records out, so it appears once.
SUMMARY_LOGGER = "nbflow-interface"
#: Exit code when a task's definition is wrong (as for other definition errors).
DEFINITION_ERROR_EXIT = 2
#: Exit code of a run cancelled before its end (as Ctrl-C: 128 + SIGINT).
CANCELLED_EXIT = 130


@dataclass
class RunResult:
    """The result of ``build(..., detailed_summary=True)``."""

    status: RunStatus
    #: False when a task failed or could not be scheduled (Luigi's meaning).
    scheduling_succeeded: bool
    summary_text: str
    #: Task ids by summary category (see :data:`CATEGORIES`).
    tasks: dict[str, list[str]] = field(default_factory=dict)
    worker: Any = None
    #: Failed or unschedulable tasks whose error is in their definition (exit code 2).
    definition_errors: list[str] = field(default_factory=list)
    #: The run was cancelled before its end (``Run.cancel()``, or by a scheduler server).
    cancelled: bool = False

    @property
    def one_line_summary(self) -> str:
        """Luigi's one-line verdict, such as ``"This progress looks :) because ..."``."""
        face, reason = self.status.value
        return f"This progress looks {face} because {reason}"

    def exit_code(self, codes: RetCodes) -> int:
        """Return the process exit code for this result under ``codes``."""
        candidates = [0]
        if self.tasks.get("failed") or self.tasks.get("disabled"):
            candidates.append(codes.task_failed)
        if self.tasks.get("scheduling_error"):
            candidates.append(codes.scheduling_error)
        if self.tasks.get("still_pending_ext"):
            candidates.append(codes.missing_data)
        if self.tasks.get("not_run") or self.tasks.get("upstream_missing_dependency"):
            candidates.append(codes.not_run)
        if self.definition_errors:
            candidates.append(DEFINITION_ERROR_EXIT)
        if self.cancelled:
            candidates.append(CANCELLED_EXIT)
        return max(candidates)


def categorize(
    infos: Iterable[TaskInfo], scheduling_errors: Mapping[str, Any]
) -> dict[str, list[TaskInfo]]:
    """Sort task snapshots into the summary's categories."""
    groups: dict[str, list[TaskInfo]] = defaultdict(list)
    for info in infos:
        groups[_category(info, scheduling_errors)].append(info)
    return groups


def _category(info: TaskInfo, scheduling_errors: Mapping[str, Any]) -> str:  # noqa: PLR0911
    status = info.status
    if info.task_id in scheduling_errors:
        return "scheduling_error"
    if status is Status.DONE:
        return "already_done" if info.complete_before else "completed"
    if status is Status.FAILED:
        return "failed"
    if status is Status.CANCELLED:
        return "cancelled"
    if status is Status.DISABLED:
        return "disabled"
    if status is Status.UPSTREAM_FAILED:
        return "upstream_failure"
    if status is Status.UPSTREAM_DISABLED:
        return "upstream_disabled"
    if not info.runnable:
        return "still_pending_ext"
    if info.blocked:
        return "upstream_missing_dependency"
    return "not_run"


def decide_status(groups: Mapping[str, list[Any]], retried: bool) -> RunStatus:
    """Return the overall verdict for categorized tasks."""
    failed = bool(groups.get("failed") or groups.get("disabled"))
    if groups.get("scheduling_error"):
        return (
            RunStatus.FAILED_AND_SCHEDULING_FAILED
            if failed
            else RunStatus.SCHEDULING_FAILED
        )
    if failed:
        return RunStatus.FAILED
    if groups.get("still_pending_ext"):
        return RunStatus.MISSING_EXT
    if groups.get("cancelled"):  # stopped before the end: the rest never ran
        return RunStatus.CANCELLED
    if groups.get("not_run") or groups.get("upstream_missing_dependency"):
        return RunStatus.NOT_RUN
    return RunStatus.SUCCESS_WITH_RETRY if retried else RunStatus.SUCCESS


def summarize(
    infos: list[TaskInfo], scheduling_errors: Mapping[str, Any], *, worker: Any = None
) -> RunResult:
    """Build the :class:`RunResult` (with Luigi-style summary text) of a finished run."""
    groups = categorize(infos, scheduling_errors)
    retried = any(info.failures for info in groups.get("completed", ()))
    status = decide_status(groups, retried)
    failed = bool(
        groups.get("failed") or groups.get("disabled") or groups.get("scheduling_error")
    )
    # a worker a server cancelled handed its tasks back: they are pending, not cancelled
    cancelled = (
        bool(groups.get("cancelled")) or getattr(worker, "state", "") == "cancelled"
    )
    if cancelled and not failed and status is not RunStatus.MISSING_EXT:
        status = RunStatus.CANCELLED
    result = RunResult(
        status=status,
        scheduling_succeeded=not failed,
        summary_text="",
        tasks={
            key: [info.task_id for info in members] for key, members in groups.items()
        },
        worker=worker,
        definition_errors=_definition_errors(groups, scheduling_errors),
        cancelled=cancelled,
    )
    result.summary_text = _render(
        infos, groups, result.one_line_summary, scheduling_errors
    )
    return result


def _definition_errors(
    groups: Mapping[str, list[TaskInfo]], scheduling_errors: Mapping[str, Any]
) -> list[str]:
    """Return the tasks that failed, or could not be scheduled, on a definition error.

    Errors reach the summary as text (``"ClassName: message"``, picklable from any
    process), so the class is recognised by its name among nbflow's definition errors.
    """
    names = _definition_error_names()
    found = []
    for info in groups.get("scheduling_error", []):
        message = scheduling_errors[info.task_id]
        text = message[0] if isinstance(message, tuple) else str(message)
        if text.partition(":")[0] in names:
            found.append(info.task_id)
    found += [
        info.task_id
        for info in groups.get("failed", [])
        if info.error.partition(":")[0] in names
    ]
    return found


def _definition_error_names() -> set[str]:
    names, stack = set(), [DefinitionError]
    while stack:
        kind = stack.pop()
        names.add(kind.__name__)
        stack.extend(kind.__subclasses__())
    return names


def _render(
    infos: list[TaskInfo],
    groups: Mapping[str, list[TaskInfo]],
    verdict: str,
    scheduling_errors: Mapping[str, Any],
) -> str:
    banner = "===== nbflow Execution Summary ====="
    lines = ["", banner, "", f"Scheduled {len(infos)} tasks of which:"]
    for key, heading in CATEGORIES.items():
        members = groups.get(key)
        if not members:
            continue
        lines.append(f"* {len(members)} {heading}:")
        lines.extend(f"    - {line}" for line in _family_lines(members))
        if key == "scheduling_error":
            lines.extend(_error_lines(members, scheduling_errors))
    lines += ["", verdict, "", banner, ""]
    return "\n".join(lines)


def _error_lines(members: list[TaskInfo], errors: Mapping[str, Any]) -> list[str]:
    out = []
    for info in members[:5]:
        message = errors[info.task_id]
        text = message[0] if isinstance(message, tuple) else str(message)
        out.append(f"      {info.task_id}: {text.splitlines()[0] if text else ''}")
    return out


def _family_lines(members: list[TaskInfo], limit: int = 5) -> list[str]:
    by_family: dict[str, list[TaskInfo]] = defaultdict(list)
    for info in members:
        by_family[info.family].append(info)
    lines = [_describe(family, group) for family, group in sorted(by_family.items())]
    if len(lines) > limit:
        lines = [*lines[:limit], f"...and {len(lines) - limit} more families"]
    return lines


def _describe(family: str, group: list[TaskInfo]) -> str:
    """Describe one family's tasks, compressing a single varying parameter to a range.

    Examples
    --------
    >>> from types import SimpleNamespace as Info
    >>> _describe("Day", [Info(params=(("d", "2"),)), Info(params=(("d", "1"),))])
    '2 Day(d=1...2)'
    """
    first = dict(group[0].params)
    if len(group) == 1:
        return f"{len(group)} {_call(family, first)}"
    varying = [
        name
        for name in first
        if len({dict(info.params).get(name) for info in group}) > 1
    ]
    if len(varying) == 1:
        name = varying[0]
        shown = dict(first)
        shown[name] = _value_range([str(dict(info.params).get(name)) for info in group])
        return f"{len(group)} {_call(family, shown)}"
    more = len(group) - 2
    second = _call(family, dict(group[1].params))
    tail = f" and {more} other {family}" if more else ""
    return f"{len(group)} {_call(family, first)}, {second}{tail}"


def _value_range(texts: list[str], shown: int = 5) -> str:
    """Describe one parameter's values: ``first...last``, or a list if there are gaps.

    Integers and ISO dates are ordered as numbers and days (not as text) and shown as
    a range only when no value in between is missing, as in Luigi's summary.

    Examples
    --------
    >>> _value_range([str(i) for i in range(1, 10000)])
    '1...9999'
    >>> _value_range(["10", "2", "3"])
    '2,3,10'
    >>> _value_range(["2024-01-31", "2024-02-01"])
    '2024-01-31...2024-02-01'
    >>> _value_range(["b", "a", "c"])
    'a...c'
    """
    distinct = list(set(texts))
    ordered = _enumerable(distinct)
    if ordered is None:
        return f"{min(distinct)}...{max(distinct)}"
    label_of = dict(zip(ordered, distinct))  # O(n): no sort unless there are gaps
    first, last = min(label_of), max(label_of)
    if last - first == len(label_of) - 1:
        return f"{label_of[first]}...{label_of[last]}"
    listed = ",".join(label_of[key] for key in heapq.nsmallest(shown, label_of))
    return listed if len(label_of) <= shown else f"{listed},...,{label_of[last]}"


def _enumerable(texts: list[str]) -> list[int] | None:
    """Return each value as a step count (an integer, or a day's ordinal), or None."""
    try:
        return [int(text) for text in texts]
    except ValueError:
        pass
    try:
        return [dt.date.fromisoformat(text).toordinal() for text in texts]
    except ValueError:
        return None


def _call(family: str, params: Mapping[str, Any]) -> str:
    return f"{family}({', '.join(f'{k}={v}' for k, v in params.items())})"
