"""Date intervals: a day, an ISO week, a month, a year, or a custom range of days.

This mirrors ``luigi.date_interval``. Every interval covers the days from ``date_a``
(inclusive) to ``date_b`` (exclusive) and has a canonical text form that
:meth:`DateInterval.parse` reads back: ``2024-06-01``, ``2024-W03``, ``2024-06``,
``2024`` and ``2024-01-01-2024-01-31`` (a custom range, end exclusive, as in Luigi).

Imports: the standard library and nbflow.core.errors.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, ClassVar

from nbflow.core.errors import ParameterValueError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from typing_extensions import Self

_ONE_DAY = dt.timedelta(days=1)


class DateInterval:
    """The days from ``date_a`` (inclusive) to ``date_b`` (exclusive).

    Subclasses name a calendar unit and know how to step to their neighbours.
    Intervals of the same class compare by their start; different classes are
    never equal and cannot be ordered.

    Examples
    --------
    >>> span = Custom(dt.date(2024, 1, 30), dt.date(2024, 2, 2))
    >>> [str(day) for day in span.dates()]
    ['2024-01-30', '2024-01-31', '2024-02-01']
    >>> dt.date(2024, 2, 2) in span
    False
    """

    #: How :meth:`parse` recognises the text form of this class.
    _PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"(?!)")

    def __init__(self, date_a: dt.date, date_b: dt.date) -> None:
        #: First day of the interval.
        self.date_a = date_a
        #: First day after the interval.
        self.date_b = date_b

    def dates(self) -> list[dt.date]:
        """Return every day in the interval, in order."""
        count = (self.date_b - self.date_a).days
        return [self.date_a + dt.timedelta(days=i) for i in range(count)]

    def hours(self) -> list[dt.datetime]:
        """Return every hour in the interval, as naive datetimes, in order."""
        return [
            dt.datetime.combine(day, dt.time(hour))
            for day in self.dates()
            for hour in range(24)
        ]

    def prev(self) -> Self:
        """Return the interval of the same kind just before this one."""
        return self.from_date(self.date_a - _ONE_DAY)

    def next(self) -> Self:
        """Return the interval of the same kind just after this one."""
        return self.from_date(self.date_b)

    def to_string(self) -> str:
        """Return the canonical text form, which :meth:`parse` reads back."""
        return str(self)

    @classmethod
    def from_date(cls, day: dt.date) -> Self:
        """Return the interval of this kind that contains ``day``."""
        raise NotImplementedError  # pragma: no cover - every concrete class overrides

    @classmethod
    def parse(cls, text: str) -> Self | None:
        """Return the interval written as ``text``, or None when it does not match."""
        match = cls._PATTERN.fullmatch(text)
        if match is None:
            return None
        try:
            return cls._from_match(match)
        except ValueError:
            return None  # well formed but not on the calendar, e.g. 2024-02-30

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Self:
        raise NotImplementedError  # pragma: no cover - every concrete class overrides

    def __contains__(self, day: object) -> bool:
        if isinstance(day, dt.datetime):
            day = day.date()
        if not isinstance(day, dt.date):
            return False
        return self.date_a <= day < self.date_b

    def __iter__(self) -> Iterator[dt.date]:
        """Iterate over the days of the interval, as Luigi's intervals do."""
        return iter(self.dates())

    def __repr__(self) -> str:
        return self.to_string()

    def __str__(self) -> str:
        return f"{self.date_a.isoformat()}-{self.date_b.isoformat()}"

    def _key(self) -> tuple[dt.date, dt.date]:
        return (self.date_a, self.date_b)

    def _key_of(self, other: object) -> tuple[dt.date, dt.date] | None:
        """Return ``other``'s sort key, or None when it is a different kind."""
        if type(other) is type(self) and isinstance(other, DateInterval):
            return (other.date_a, other.date_b)
        return None

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __eq__(self, other: object) -> bool:
        key = self._key_of(other)
        return NotImplemented if key is None else self._key() == key

    def __lt__(self, other: object) -> bool:
        key = self._key_of(other)
        return NotImplemented if key is None else self._key() < key

    def __le__(self, other: object) -> bool:
        key = self._key_of(other)
        return NotImplemented if key is None else self._key() <= key

    def __gt__(self, other: object) -> bool:
        key = self._key_of(other)
        return NotImplemented if key is None else self._key() > key

    def __ge__(self, other: object) -> bool:
        key = self._key_of(other)
        return NotImplemented if key is None else self._key() >= key


class Date(DateInterval):
    """A single day, written ``2024-06-01``.

    Examples
    --------
    >>> Date(2024, 2, 29).next()
    2024-03-01
    """

    _PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

    def __init__(self, year: int, month: int, day: int) -> None:
        start = dt.date(year, month, day)
        super().__init__(start, start + _ONE_DAY)

    @classmethod
    def from_date(cls, day: dt.date) -> Date:
        """Return the interval holding just ``day``."""
        return cls(day.year, day.month, day.day)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Date:
        year, month, day = (int(part) for part in match.groups())
        return cls(year, month, day)

    def __str__(self) -> str:
        return self.date_a.isoformat()


class Week(DateInterval):
    """An ISO 8601 week (Monday to Sunday), written ``2024-W03``.

    Examples
    --------
    >>> Week.from_date(dt.date(2024, 12, 30))
    2025-W01
    >>> Week(2024, 3).date_a
    datetime.date(2024, 1, 15)
    """

    _PATTERN = re.compile(r"(\d{4})-W(\d{2})")

    def __init__(self, year: int, week: int) -> None:
        try:
            start = dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            where, expected = "Week", f"a week number that {year} has, such as 1 to 52"
            raise ParameterValueError(where, "week", week, expected) from None
        super().__init__(start, start + dt.timedelta(days=7))
        #: ISO year and week number.
        self.year, self.week = year, week

    @classmethod
    def from_date(cls, day: dt.date) -> Week:
        """Return the ISO week that contains ``day``."""
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Week:
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"


class Month(DateInterval):
    """A calendar month, written ``2024-06``.

    Examples
    --------
    >>> Month(2024, 12).next()
    2025-01
    """

    _PATTERN = re.compile(r"(\d{4})-(\d{2})")

    def __init__(self, year: int, month: int) -> None:
        start = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        super().__init__(start, following)

    @classmethod
    def from_date(cls, day: dt.date) -> Month:
        """Return the month that contains ``day``."""
        return cls(day.year, day.month)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Month:
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.date_a.year:04d}-{self.date_a.month:02d}"


class Year(DateInterval):
    """A calendar year, written ``2024``.

    Examples
    --------
    >>> len(Year(2024).dates())
    366
    """

    _PATTERN = re.compile(r"(\d{4})")

    def __init__(self, year: int) -> None:
        super().__init__(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))

    @classmethod
    def from_date(cls, day: dt.date) -> Year:
        """Return the year that contains ``day``."""
        return cls(day.year)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Year:
        return cls(int(match.group(1)))

    def __str__(self) -> str:
        return f"{self.date_a.year:04d}"


class Custom(DateInterval):
    """Any run of days, written ``2024-01-01-2024-01-31`` (the end is exclusive).

    Unlike Luigi, whose custom intervals cannot step, :meth:`prev` and :meth:`next`
    return the adjacent interval of the same length.

    Examples
    --------
    >>> span = Custom.parse("2024-01-01-2024-01-31")
    >>> span.date_b, len(span.dates())
    (datetime.date(2024, 1, 31), 30)
    >>> span.next()
    2024-01-31-2024-03-01
    """

    _PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(\d{4})-(\d{2})-(\d{2})")

    def prev(self) -> Custom:
        """Return the interval of the same length that ends where this one starts."""
        return Custom(self.date_a - (self.date_b - self.date_a), self.date_a)

    def next(self) -> Custom:
        """Return the interval of the same length that starts where this one ends."""
        return Custom(self.date_b, self.date_b + (self.date_b - self.date_a))

    @classmethod
    def from_date(cls, day: dt.date) -> Custom:
        """Return the one-day custom interval holding ``day``."""
        return cls(day, day + _ONE_DAY)

    @classmethod
    def _from_match(cls, match: re.Match[str]) -> Custom:
        parts = [int(part) for part in match.groups()]
        return cls(dt.date(*parts[:3]), dt.date(*parts[3:]))
