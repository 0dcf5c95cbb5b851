"""The kinds of range: daily, hourly, every N minutes and monthly (Luigi's classes).

Each ``...Base`` kind fixes the parameter types of ``start`` and ``stop``, the window
around ``now`` that is checked when they are open or far away (``days_back`` /
``days_forward`` and their hourly, minute and monthly siblings) and the grid of
moments. It finds missing moments one ``complete()`` at a time. ``RangeDaily``,
``RangeHourly`` and ``RangeByMinutes`` find them in bulk: the family's
``bulk_complete`` classmethod when it has one, else one listing per output folder
(:func:`~nbflow.core.range_listing.infer_bulk_complete_from_fs`), else (outputs that
cannot be listed, or a ``complete()`` of its own) one check per moment.
``RangeMonthly`` has few moments and checks each.

Imports: nbflow.core.{parameter, range_grid, range_listing, range_task, task}.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from nbflow.core.parameter import (
    DateHourParameter,
    DateMinuteParameter,
    DateParameter,
    IntParameter,
    MonthParameter,
)
from nbflow.core.range_grid import DailyGrid, Grid, HourlyGrid, MinuteGrid, MonthlyGrid
from nbflow.core.range_listing import ListingInferenceError, find_missing_by_listing
from nbflow.core.range_task import OPEN, RangeBase, RangeError
from nbflow.core.task import Task, WrapperTask

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "RangeByMinutes",
    "RangeByMinutesBase",
    "RangeDaily",
    "RangeDailyBase",
    "RangeHourly",
    "RangeHourlyBase",
    "RangeMonthly",
]

logger = logging.getLogger("nbflow.range")

_MINUTES_PER_HOUR = 60


def _midnight(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001  (naive UTC)


class RangeDailyBase(RangeBase):
    """Require the missing days of a daily task (one check per day)."""

    start = DateParameter(default=OPEN, doc="First day, inclusive.")
    stop = DateParameter(default=OPEN, doc="Last day, exclusive.")
    days_back = IntParameter(
        default=100, doc="Check no further back than this many days before now."
    )
    days_forward = IntParameter(
        default=0, doc="Check no further ahead than this many days after now."
    )

    @property
    def grid(self) -> Grid:
        """Midnights."""
        return DailyGrid()

    def datetime_to_parameter(self, moment: dt.datetime) -> dt.date:
        """Return the day of ``moment``."""
        return moment.date()

    def parameter_to_datetime(self, value: dt.date) -> dt.datetime:
        """Return the midnight that starts day ``value``."""
        return _midnight(value)

    def moving_start(self, now: dt.datetime) -> dt.datetime:
        """Return ``days_back`` days before now."""
        return now - dt.timedelta(days=self.days_back)

    def moving_stop(self, now: dt.datetime) -> dt.datetime:
        """Return ``days_forward`` days after now."""
        return now + dt.timedelta(days=self.days_forward)


class RangeHourlyBase(RangeBase):
    """Require the missing hours of an hourly task (one check per hour)."""

    moment_noun = "hours"

    start = DateHourParameter(default=OPEN, doc="First hour, inclusive.")
    stop = DateHourParameter(default=OPEN, doc="Last hour, exclusive.")
    hours_back = IntParameter(
        default=100 * 24, doc="Check no further back than this many hours before now."
    )
    hours_forward = IntParameter(
        default=0, doc="Check no further ahead than this many hours after now."
    )

    @property
    def grid(self) -> Grid:
        """Whole hours."""
        return HourlyGrid()

    def datetime_to_parameter(self, moment: dt.datetime) -> dt.datetime:
        """Return ``moment`` itself (a whole hour)."""
        return moment

    def parameter_to_datetime(self, value: dt.datetime) -> dt.datetime:
        """Return ``value`` itself."""
        return value

    def moving_start(self, now: dt.datetime) -> dt.datetime:
        """Return ``hours_back`` hours before now."""
        return now - dt.timedelta(hours=self.hours_back)

    def moving_stop(self, now: dt.datetime) -> dt.datetime:
        """Return ``hours_forward`` hours after now."""
        return now + dt.timedelta(hours=self.hours_forward)


class RangeByMinutesBase(RangeBase):
    """Require the missing moments of a task every ``minutes_interval`` minutes."""

    moment_noun = "moments"

    start = DateMinuteParameter(default=OPEN, doc="First minute, inclusive.")
    stop = DateMinuteParameter(default=OPEN, doc="Last minute, exclusive.")
    minutes_back = IntParameter(
        default=24 * 60, doc="Check no further back than this many minutes before now."
    )
    minutes_forward = IntParameter(
        default=0, doc="Check no further ahead than this many minutes after now."
    )
    minutes_interval = IntParameter(
        default=1, doc="Minutes between two moments; it divides 60."
    )

    @property
    def grid(self) -> Grid:
        """Every ``minutes_interval`` minutes from each midnight.

        Raises
        ------
        RangeError
            ``minutes_interval`` is not between 1 and 59 or does not divide 60.
        """
        step = self.minutes_interval
        if not 0 < step < _MINUTES_PER_HOUR or _MINUTES_PER_HOUR % step:
            raise RangeError(
                self.get_task_family(),
                f"minutes_interval is {step}",
                "a number of minutes between 1 and 59 that divides 60 "
                "(1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)",
                "pass such a minutes_interval (--minutes-interval)",
            )
        return MinuteGrid(step)

    def datetime_to_parameter(self, moment: dt.datetime) -> dt.datetime:
        """Return ``moment`` itself."""
        return moment

    def parameter_to_datetime(self, value: dt.datetime) -> dt.datetime:
        """Return ``value`` to the minute."""
        return value.replace(second=0, microsecond=0)

    def moving_start(self, now: dt.datetime) -> dt.datetime:
        """Return ``minutes_back`` minutes before now."""
        return now - dt.timedelta(minutes=self.minutes_back)

    def moving_stop(self, now: dt.datetime) -> dt.datetime:
        """Return ``minutes_forward`` minutes after now."""
        return now + dt.timedelta(minutes=self.minutes_forward)


class RangeMonthly(RangeBase):
    """Require the missing months of a monthly task (one check per month)."""

    moment_noun = "months"

    start = MonthParameter(default=OPEN, doc="First month, inclusive.")
    stop = MonthParameter(default=OPEN, doc="Last month, exclusive.")
    months_back = IntParameter(
        default=13, doc="Check no further back than this many months before now."
    )
    months_forward = IntParameter(
        default=0, doc="Check no further ahead than this many months after now."
    )

    @property
    def grid(self) -> Grid:
        """Firsts of months."""
        return MonthlyGrid()

    def datetime_to_parameter(self, moment: dt.datetime) -> dt.date:
        """Return the first day of the month of ``moment``."""
        return dt.date(moment.year, moment.month, 1)

    def parameter_to_datetime(self, value: dt.date) -> dt.datetime:
        """Return the midnight that starts the month of ``value``."""
        return dt.datetime(value.year, value.month, 1)  # noqa: DTZ001  (naive UTC)

    def moving_start(self, now: dt.datetime) -> dt.datetime:
        """Return the first of the month ``months_back`` months before now's."""
        grid = self.grid
        return grid.at(grid.index(now) - self.months_back)

    def moving_stop(self, now: dt.datetime) -> dt.datetime:
        """Return the first of the month ``months_forward`` months after now's."""
        grid = self.grid
        return grid.at(grid.index(now) + self.months_forward)

    def _format_datetime(self, moment: dt.datetime) -> str:
        return moment.strftime("%Y-%m")


class _BulkMissing:
    """``missing_datetimes`` through ``bulk_complete``, listings, then single checks."""

    #: The strftime codes that spell a moment in an output path.
    moment_codes: tuple[str, ...] = ("%Y", "%m", "%d")

    def missing_datetimes(
        self, finite_datetimes: list[dt.datetime]
    ) -> Iterable[dt.datetime]:
        """Return the moments whose task is not complete, asking in bulk."""
        assert isinstance(self, RangeBase)  # noqa: S101  (a mixin of range kinds only)
        bulk = _ask_bulk_complete(self, finite_datetimes)
        if bulk is not None:
            return bulk
        if _has_own_complete(self.of):
            return RangeBase.missing_datetimes(self, finite_datetimes)
        try:
            return find_missing_by_listing(
                finite_datetimes,
                lambda m: self._instantiate_task_cls(self.datetime_to_parameter(m)),
                self.moment_codes,
            )
        except ListingInferenceError as error:
            logger.debug("checking each moment: %s", error)
            return RangeBase.missing_datetimes(self, finite_datetimes)


class _WithParams:
    """A task class with some parameters filled in, handed to ``bulk_complete``.

    Calling it builds a task of the class with those parameters added; every other
    attribute is the class's, so ``cls.get_params()`` inside ``bulk_complete`` works.
    """

    def __init__(self, family: type[Task], params: dict[str, Any]) -> None:
        self._family, self._params = family, params

    def __call__(self, *args: Any, **kwargs: Any) -> Task:
        return self._family(*args, **{**self._params, **kwargs})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._family, name)


def _ask_bulk_complete(
    task: RangeBase, moments: list[dt.datetime]
) -> set[dt.datetime] | None:
    """Return the moments ``bulk_complete`` leaves out, or None if it cannot say."""
    bulk = getattr(task.of, "bulk_complete", None)
    if bulk is None:
        return None
    function = getattr(bulk, "__func__", None)
    values = [task.datetime_to_parameter(moment) for moment in moments]
    try:
        if function is None:  # a staticmethod, or a plain function
            complete = bulk(values)
        else:  # a classmethod: called on the class with of_params filled in
            complete = function(_WithParams(task.of, dict(task.of_params)), values)
    except NotImplementedError:
        return None
    return set(moments) - {task.parameter_to_datetime(value) for value in complete}


def _has_own_complete(family: type[Task]) -> bool:
    """Return whether ``family`` decides completeness other than by its outputs."""
    return family.complete not in (Task.complete, WrapperTask.complete)


class RangeDaily(_BulkMissing, RangeDailyBase):
    """Require the missing days of a daily task, found in bulk.

    ``nbflow run RangeDaily --of Report --start 2024-01-01 --stop 2024-02-01``
    """


class RangeHourly(_BulkMissing, RangeHourlyBase):
    """Require the missing hours of an hourly task, found in bulk."""

    moment_codes = ("%Y", "%m", "%d", "%H")


class RangeByMinutes(_BulkMissing, RangeByMinutesBase):
    """Require the missing moments of a task every N minutes, found in bulk."""

    moment_codes = ("%Y", "%m", "%d", "%H", "%M")
