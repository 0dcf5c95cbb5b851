"""The calendars of the range tools: days, hours, minute steps and months as a grid.

A range tool asks which moments of a recurring task's calendar fall in an interval,
and how many. Each grid numbers its moments with consecutive integers (the day's
ordinal, the hour since year 1, ...), so counting the moments of forty years is
arithmetic rather than a list of millions of datetimes, and listing them is a
``range`` of indices.

Moments are naive datetimes (UTC by convention, as Luigi's ``now``).

Imports: stdlib only.
"""

from __future__ import annotations

import abc
import datetime as dt

__all__ = ["DailyGrid", "Grid", "HourlyGrid", "MinuteGrid", "MonthlyGrid"]

_MINUTES_PER_DAY = 24 * 60
_MONTHS_PER_YEAR = 12


class Grid(abc.ABC):
    """Regularly recurring moments, numbered by consecutive integers."""

    @abc.abstractmethod
    def index(self, moment: dt.datetime) -> int:
        """Return the number of the last grid moment at or before ``moment``."""

    @abc.abstractmethod
    def at(self, index: int) -> dt.datetime:
        """Return the grid moment numbered ``index``."""

    def first_index(self, moment: dt.datetime) -> int:
        """Return the number of the first grid moment at or after ``moment``."""
        index = self.index(moment)
        return index if self.at(index) == moment else index + 1

    def count(self, start: dt.datetime, stop: dt.datetime) -> int:
        """Return how many grid moments lie in ``[start, stop)``.

        Examples
        --------
        >>> DailyGrid().count(dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 4))
        2
        """
        return max(0, self.first_index(stop) - self.first_index(start))

    def moments(self, start: dt.datetime, stop: dt.datetime) -> list[dt.datetime]:
        """Return the grid moments in ``[start, stop)``, oldest first.

        Examples
        --------
        >>> [m.hour for m in HourlyGrid().moments(
        ...     dt.datetime(2024, 1, 1, 22, 30), dt.datetime(2024, 1, 2, 1))]
        [23, 0]
        """
        first, end = self.first_index(start), self.first_index(stop)
        return [self.at(index) for index in range(first, end)]


class DailyGrid(Grid):
    """Midnights.

    Examples
    --------
    >>> grid = DailyGrid()
    >>> grid.at(grid.index(dt.datetime(2024, 2, 29, 23, 59)))
    datetime.datetime(2024, 2, 29, 0, 0)
    """

    def index(self, moment: dt.datetime) -> int:
        """Return the day's ordinal."""
        return moment.toordinal()

    def at(self, index: int) -> dt.datetime:
        """Return the midnight that starts day ``index``."""
        return dt.datetime.fromordinal(index)


class HourlyGrid(Grid):
    """Whole hours.

    Examples
    --------
    >>> grid = HourlyGrid()
    >>> grid.at(grid.index(dt.datetime(2024, 2, 29, 23, 59)))
    datetime.datetime(2024, 2, 29, 23, 0)
    """

    def index(self, moment: dt.datetime) -> int:
        """Return the hours from year 1 to the hour that holds ``moment``."""
        return moment.toordinal() * 24 + moment.hour

    def at(self, index: int) -> dt.datetime:
        """Return whole hour number ``index``."""
        day, hour = divmod(index, 24)
        return dt.datetime.fromordinal(day).replace(hour=hour)


class MinuteGrid(Grid):
    """Every ``step`` minutes from each midnight; ``step`` divides 60.

    Examples
    --------
    >>> grid = MinuteGrid(15)
    >>> grid.at(grid.index(dt.datetime(2024, 2, 29, 23, 59)))
    datetime.datetime(2024, 2, 29, 23, 45)
    """

    def __init__(self, step: int) -> None:
        #: Minutes between two moments of the grid.
        self.step = step

    def index(self, moment: dt.datetime) -> int:
        """Return the steps from year 1 to the step that holds ``moment``."""
        minutes = moment.toordinal() * _MINUTES_PER_DAY + moment.hour * 60
        return (minutes + moment.minute) // self.step

    def at(self, index: int) -> dt.datetime:
        """Return the start of step number ``index``."""
        day, minutes = divmod(index * self.step, _MINUTES_PER_DAY)
        hour, minute = divmod(minutes, 60)
        return dt.datetime.fromordinal(day).replace(hour=hour, minute=minute)


class MonthlyGrid(Grid):
    """The first of each month, at midnight.

    Examples
    --------
    >>> grid = MonthlyGrid()
    >>> grid.at(grid.index(dt.datetime(2024, 2, 29, 23, 59)))
    datetime.datetime(2024, 2, 1, 0, 0)
    >>> grid.at(grid.index(dt.datetime(2024, 11, 5)) + 3)
    datetime.datetime(2025, 2, 1, 0, 0)
    """

    def index(self, moment: dt.datetime) -> int:
        """Return the months from year 0 to the month that holds ``moment``."""
        return moment.year * _MONTHS_PER_YEAR + moment.month - 1

    def at(self, index: int) -> dt.datetime:
        """Return the first of month number ``index``."""
        year, month = divmod(index, _MONTHS_PER_YEAR)
        return dt.datetime(year, month + 1, 1)  # noqa: DTZ001  (naive UTC, as Luigi)
