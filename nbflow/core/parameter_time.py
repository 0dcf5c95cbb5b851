"""Parameter types for dates, times, date intervals and durations.

Dates and datetimes are written in Luigi's formats (``2024-01-31``, ``2024-01``,
``2024``, ``2024-01-31T13``, ``2024-01-31T1305``, ``2024-01-31T130559``). With
``interval=n`` a value is rounded down to a multiple of ``n`` units counted from
``start`` (by default the Unix epoch, as in Luigi), and
:meth:`~Parameter.next_in_enumeration` steps ``n`` units.

Imports: the standard library, nbflow.core.errors, nbflow.core.date_interval and
nbflow.core.parameter_descriptor.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from nbflow.core.date_interval import Custom, Date, DateInterval, Month, Week, Year
from nbflow.core.errors import ParameterDeprecationWarning
from nbflow.core.parameter_descriptor import NO_VALUE, Parameter, _NoValueType

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from nbflow.core.parameter_descriptor import ParameterOptions

_EPOCH = dt.date(1970, 1, 1)


def _strftime(value: dt.date, pattern: str) -> str:
    """Format like ``strftime`` but with a four-digit year on every platform.

    Examples
    --------
    >>> _strftime(dt.date(999, 6, 1), "%Y-%m-%d")
    '0999-06-01'
    """
    return value.strftime(pattern.replace("%Y", f"{value.year:04d}"))


def _add_months(day: dt.date, months: int) -> dt.date:
    """Return the first day of the month ``months`` after ``day``'s month.

    Examples
    --------
    >>> _add_months(dt.date(2024, 11, 15), 3)
    datetime.date(2025, 2, 1)
    """
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, 1)


class _CalendarParameter(Parameter[dt.date]):
    """A date rounded to a calendar unit; subclasses name the unit."""

    _FORMAT: ClassVar[str] = "%Y-%m-%d"
    _EXPECTED: ClassVar[str] = "an ISO date such as '2024-01-31'"
    #: The date interval kind a value may also be given as (its first day is used).
    _INTERVAL: ClassVar[type[DateInterval]] = Date

    def __init__(
        self,
        default: dt.date | DateInterval | _NoValueType | None = NO_VALUE,
        *,
        interval: int = 1,
        start: dt.date | None = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(default, **options)  # type: ignore[arg-type]  # normalized
        #: Values are rounded down to a multiple of this many units from ``start``.
        self.interval = interval
        #: Origin of the rounding; the Unix epoch when not given.
        self.start = start if start is not None else _EPOCH

    def parse(self, text: str) -> dt.date:
        """Return the date written as ``text``."""
        try:
            return dt.datetime.strptime(text, self._FORMAT).date()  # noqa: DTZ007
        except ValueError:
            raise self._error(text, self._EXPECTED) from None

    def _format(self, value: dt.date) -> str:
        return _strftime(value, self._FORMAT)

    def _coerce(self, value: Any) -> dt.date:
        if isinstance(value, str):
            value = self.parse(value)
        if isinstance(value, self._INTERVAL):
            value = value.date_a
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            raise self._error(value, self._EXPECTED.replace("'", ""))
        return self._round(value)

    def _round(self, value: dt.date) -> dt.date:
        raise NotImplementedError  # pragma: no cover - every subclass overrides


class DateParameter(_CalendarParameter):
    """A calendar day, written ``2024-01-31``; datetimes are cut to their date.

    Examples
    --------
    >>> weekly = DateParameter(interval=7, start=dt.date(2024, 1, 1))
    >>> weekly.normalize(dt.datetime(2024, 1, 10, 12))
    datetime.date(2024, 1, 8)
    >>> weekly.next_in_enumeration(dt.date(2024, 1, 8))
    datetime.date(2024, 1, 15)
    """

    def next_in_enumeration(self, value: dt.date) -> dt.date | None:
        """Return the day ``interval`` days after ``value``."""
        return value + dt.timedelta(days=self.interval)

    def _round(self, value: dt.date) -> dt.date:
        return value - dt.timedelta(days=(value - self.start).days % self.interval)


class MonthParameter(_CalendarParameter):
    """A month, written ``2024-01`` and held as its first day.

    A :class:`~nbflow.core.date_interval.Month` is accepted too.

    Examples
    --------
    >>> MonthParameter().normalize(dt.date(2024, 6, 15))
    datetime.date(2024, 6, 1)
    >>> MonthParameter().normalize(Month(2024, 6))
    datetime.date(2024, 6, 1)
    """

    _FORMAT = "%Y-%m"
    _EXPECTED = "a month such as '2024-01'"
    _INTERVAL = Month

    def next_in_enumeration(self, value: dt.date) -> dt.date | None:
        """Return the first day ``interval`` months after ``value``'s month."""
        return _add_months(value, self.interval)

    def _round(self, value: dt.date) -> dt.date:
        months = (value.year - self.start.year) * 12 + value.month - self.start.month
        return _add_months(self.start, months - months % self.interval)


class YearParameter(_CalendarParameter):
    """A year, written ``2024`` and held as its first day.

    A :class:`~nbflow.core.date_interval.Year` is accepted too.

    Examples
    --------
    >>> YearParameter().parse("2024")
    datetime.date(2024, 1, 1)
    >>> YearParameter().normalize(Year(2024))
    datetime.date(2024, 1, 1)
    """

    _FORMAT = "%Y"
    _EXPECTED = "a year such as '2024'"
    _INTERVAL = Year

    def next_in_enumeration(self, value: dt.date) -> dt.date | None:
        """Return the first day ``interval`` years after ``value``'s year."""
        return dt.date(value.year + self.interval, 1, 1)

    def _round(self, value: dt.date) -> dt.date:
        years = value.year - self.start.year
        return dt.date(self.start.year + years - years % self.interval, 1, 1)


def _strptime(text: str, pattern: str) -> dt.datetime | None:
    """Return the naive datetime ``text`` written in ``pattern``, or None.

    Examples
    --------
    >>> _strptime("2024-01-31T13", "%Y-%m-%dT%H")
    datetime.datetime(2024, 1, 31, 13, 0)
    >>> _strptime("2024-01-31", "%Y-%m-%dT%H") is None
    True
    """
    try:
        return dt.datetime.strptime(text, pattern)  # noqa: DTZ007 - naive, as Luigi
    except ValueError:
        return None


class _ClockParameter(Parameter[dt.datetime]):
    """A datetime rounded down to a unit of ``_STEP``; subclasses name the unit."""

    _FORMAT: ClassVar[str]
    #: Older spellings still read, each with the separator it puts after the hour.
    _OLD_FORMATS: ClassVar[tuple[tuple[str, str], ...]] = ()
    _STEP: ClassVar[dt.timedelta]
    _EXPECTED: ClassVar[str]

    def __init__(
        self,
        default: dt.datetime | _NoValueType = NO_VALUE,
        *,
        interval: int = 1,
        start: dt.datetime | None = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(default, **options)
        #: Values are rounded down to a multiple of this many units from ``start``.
        self.interval = interval
        #: Origin of the rounding; the Unix epoch when not given.
        self.start = start if start is not None else dt.datetime(1970, 1, 1)  # noqa: DTZ001

    def parse(self, text: str) -> dt.datetime:
        """Return the (naive) datetime written as ``text``.

        An older spelling (see ``_OLD_FORMATS``) is read with a
        :class:`~nbflow.core.errors.ParameterDeprecationWarning`.
        """
        value = _strptime(text, self._FORMAT)
        if value is not None:
            return value
        for pattern, separator in self._OLD_FORMATS:
            value = _strptime(text, pattern)
            if value is not None:
                self._warn_old_format(text, separator, value)
                return value
        raise self._error(text, self._EXPECTED)

    def _warn_old_format(self, text: str, separator: str, value: dt.datetime) -> None:
        where = f"{self._owner}.{self.name}" if self.name else type(self).__name__
        what = (
            f'Using "{separator}" between hours and minutes is deprecated, omit it '
            f"instead (got {text!r})"
        )
        fix = f"write {self._format(value)!r}"
        warnings.warn(ParameterDeprecationWarning(where, what, fix), stacklevel=3)

    def next_in_enumeration(self, value: dt.datetime) -> dt.datetime | None:
        """Return the datetime ``interval`` units after ``value``."""
        return value + self._STEP * self.interval

    def _format(self, value: dt.datetime) -> str:
        return _strftime(value, self._FORMAT)

    def _coerce(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            value = self.parse(value)
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        if not isinstance(value, dt.datetime):
            raise self._error(value, self._EXPECTED.replace("'", ""))
        start = self.start.replace(tzinfo=value.tzinfo)
        return value - (value - start) % (self._STEP * self.interval)


class DateHourParameter(_ClockParameter):
    """A date and hour, written ``2024-01-31T13``.

    Examples
    --------
    >>> DateHourParameter().normalize(dt.datetime(2024, 1, 31, 13, 59))
    datetime.datetime(2024, 1, 31, 13, 0)
    """

    _FORMAT = "%Y-%m-%dT%H"
    _STEP = dt.timedelta(hours=1)
    _EXPECTED = "a date and hour such as '2024-01-31T13'"


class DateMinuteParameter(_ClockParameter):
    """A date and minute, written ``2024-01-31T1305``.

    The older ``T13H05`` (Luigi's) and ``T13-05`` are read with a deprecation warning.

    Examples
    --------
    >>> DateMinuteParameter().parse("2024-01-31T1305")
    datetime.datetime(2024, 1, 31, 13, 5)
    """

    _FORMAT = "%Y-%m-%dT%H%M"
    _OLD_FORMATS = (("%Y-%m-%dT%HH%M", "H"), ("%Y-%m-%dT%H-%M", "-"))
    _STEP = dt.timedelta(minutes=1)
    _EXPECTED = "a date and time such as '2024-01-31T1305'"


class DateSecondParameter(_ClockParameter):
    """A date and time to the second, written ``2024-01-31T130559``.

    Examples
    --------
    >>> DateSecondParameter().serialize(dt.datetime(2024, 1, 31, 13, 5, 59))
    '2024-01-31T130559'
    """

    _FORMAT = "%Y-%m-%dT%H%M%S"
    _STEP = dt.timedelta(seconds=1)
    _EXPECTED = "a date and time such as '2024-01-31T130559'"


class DateIntervalParameter(Parameter[DateInterval]):
    """A date interval: a day, ISO week, month, year or custom range of days.

    Examples
    --------
    >>> DateIntervalParameter().parse("2024-W03").date_a
    datetime.date(2024, 1, 15)
    """

    _KINDS: ClassVar[tuple[type[DateInterval], ...]] = (Date, Week, Month, Year, Custom)
    _EXPECTED: ClassVar[str] = (
        "a date interval such as '2024-01-31', '2024-W05', '2024-01', '2024' "
        "or '2024-01-01-2024-02-01' (end exclusive)"
    )

    def parse(self, text: str) -> DateInterval:
        """Return the interval written as ``text``, trying each kind in turn."""
        for kind in self._KINDS:
            interval = kind.parse(text)
            if interval is not None:
                return interval
        raise self._error(text, self._EXPECTED)

    def _coerce(self, value: Any) -> DateInterval:
        if isinstance(value, str):
            return self.parse(value)
        if not isinstance(value, DateInterval):
            raise self._error(value, self._EXPECTED)
        return value


_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_SECONDS = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD_DURATION = re.compile(r"(?:\s*-?\d+\s*[a-zA-Z]+\s*,?)+")
_WORD_PART = re.compile(r"(-?\d+)\s*([a-zA-Z]+)")
_UNITS = {
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
}
_UNIT_OF = {spelling: unit for unit, names in _UNITS.items() for spelling in names}


def _parse_duration(text: str) -> dt.timedelta | None:
    """Return the duration written as ``text``, or None when it is not one.

    A bare number is seconds, as in Luigi.

    Examples
    --------
    >>> _parse_duration("1 w 2 d"), _parse_duration("PT90M")
    (datetime.timedelta(days=9), datetime.timedelta(seconds=5400))
    >>> _parse_duration("12.5")
    datetime.timedelta(seconds=12, microseconds=500000)
    >>> _parse_duration("soon") is None
    True
    """
    if _SECONDS.fullmatch(text):
        try:
            return dt.timedelta(seconds=float(text))
        except OverflowError:
            return None
    iso = _ISO_DURATION.fullmatch(text)
    if iso is not None and any(iso.groups()):
        fields = {unit: int(n) for unit, n in iso.groupdict().items() if n}
        return dt.timedelta(**fields)
    if not _WORD_DURATION.fullmatch(text):
        return None
    total = dt.timedelta()
    for number, word in _WORD_PART.findall(text):
        unit = _UNIT_OF.get(word.lower())
        if unit is None:
            return None
        total += dt.timedelta(**{unit: int(number)})
    return total


class TimeDeltaParameter(Parameter[dt.timedelta]):
    """A duration such as ``1 w 2 d``, ``3 hours``, ISO 8601 ``P1DT2H`` or seconds.

    It serializes as Luigi does, to whole seconds: ``0 w 1 d 2 h 0 m 0 s``.

    Examples
    --------
    >>> delta = TimeDeltaParameter()
    >>> delta.serialize(delta.parse("90 seconds"))
    '0 w 0 d 0 h 1 m 30 s'
    """

    _EXPECTED: ClassVar[str] = (
        "a duration such as '1 w 2 d 3 h', '90 seconds', 'P1DT2H' or '12.5' (seconds)"
    )

    def parse(self, text: str) -> dt.timedelta:
        """Return the duration written as ``text``."""
        value = _parse_duration(text.strip())
        if value is None:
            raise self._error(text, self._EXPECTED)
        return value

    def _format(self, value: dt.timedelta) -> str:
        weeks, days = divmod(value.days, 7)
        hours, rest = divmod(value.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{weeks} w {days} d {hours} h {minutes} m {seconds} s"

    def _coerce(self, value: Any) -> dt.timedelta:
        if isinstance(value, str):
            return self.parse(value)
        if not isinstance(value, dt.timedelta):
            raise self._error(value, self._EXPECTED)
        return value
