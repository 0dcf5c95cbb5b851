"""Luigi's ``previous`` and ``get_previous_completed``: the same task one period back.

A task with exactly one date-like parameter (a date, month, year, hour, minute,
second or date interval) has a predecessor: the same task with that value moved back
one step. Dates, months and years step back one day and hours, minutes and seconds one
unit, then the parameter rounds the value down to its own period (its ``interval``),
which lands on the previous period; a date interval steps to its ``prev()``.

Imports: stdlib, nbflow.core.{errors, parameter, task}.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.core.errors import DefinitionError
from nbflow.core.parameter import (
    DateHourParameter,
    DateIntervalParameter,
    DateMinuteParameter,
    DateParameter,
    DateSecondParameter,
    MonthParameter,
    YearParameter,
)

if TYPE_CHECKING:
    from nbflow.core.parameter import Parameter
    from nbflow.core.task import Task

__all__ = ["NoPreviousTaskError", "get_previous_completed", "previous"]

logger = logging.getLogger(__name__)

AnyTask = TypeVar("AnyTask", bound="Task")

#: Parameter types whose values step back by a fixed amount (subclasses first).
_STEPS: tuple[tuple[type[Parameter[Any]], dt.timedelta], ...] = (
    (DateSecondParameter, dt.timedelta(seconds=1)),
    (DateMinuteParameter, dt.timedelta(minutes=1)),
    (DateHourParameter, dt.timedelta(hours=1)),
    (DateParameter, dt.timedelta(days=1)),
    (MonthParameter, dt.timedelta(days=1)),
    (YearParameter, dt.timedelta(days=1)),
)


class NoPreviousTaskError(DefinitionError, NotImplementedError):
    """A task has no single date-like parameter, so it has no "previous" task."""

    def __init__(self, task: str, date_params: tuple[str, ...]) -> None:
        super().__init__(task, date_params)
        self.task, self.date_params = task, date_params

    def __str__(self) -> str:
        found = ", ".join(self.date_params) if self.date_params else "none"
        return (
            f"previous({self.task}): cannot tell which task comes before it (got "
            f"date-like parameters: {found}). Expected exactly one date, month, year, "
            "hour, minute, second or date-interval parameter. Fix: build the earlier "
            f"task yourself with {self.task.split('(')[0]}(...) or task.clone(...)."
        )


def _step_back(param: Parameter[Any], value: Any) -> tuple[bool, Any]:
    """Return ``(True, earlier value)`` for a date-like parameter, else ``(False, _)``."""
    if isinstance(param, DateIntervalParameter):
        return True, value.prev()
    for kind, step in _STEPS:
        if isinstance(param, kind):
            return True, value - step
    return False, None


def previous(task: AnyTask) -> AnyTask:
    """Return the same task one period earlier (other parameters unchanged).

    Raises
    ------
    NoPreviousTaskError
        The task has no date-like parameter, or more than one (a
        ``NotImplementedError``, as in Luigi).

    Examples
    --------
    >>> from nbflow.core.parameter import DateParameter
    >>> from nbflow.core.task import Task
    >>> class DailyTotals(Task):
    ...     day = DateParameter()
    >>> previous(DailyTotals(day=dt.date(2024, 3, 1)))
    DailyTotals(day=2024-02-29)
    """
    earlier: dict[str, Any] = {}
    for name, param in task.get_params():
        is_date, value = _step_back(param, task.param_kwargs[name])
        if is_date:
            earlier[name] = value
    if len(earlier) != 1:
        raise NoPreviousTaskError(repr(task), tuple(earlier))
    result: AnyTask = task.clone(**earlier)  # type: ignore[assignment]
    return result


def get_previous_completed(task: AnyTask, max_steps: int = 10) -> AnyTask | None:
    """Return the nearest earlier complete task, looking back ``max_steps`` periods.

    Returns
    -------
    The first of ``previous(task)``, ``previous(previous(task))``, ... that is
    complete, or ``None`` if none of the ``max_steps`` is.

    Raises
    ------
    NoPreviousTaskError
        As :func:`previous`.
    """
    earlier = task
    for _ in range(max_steps):
        earlier = previous(earlier)
        logger.debug("checking whether %s is complete", earlier)
        if earlier.complete():
            return earlier
    return None
