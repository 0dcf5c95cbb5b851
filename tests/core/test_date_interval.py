from __future__ import annotations

import datetime as dt
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbflow.core.date_interval import (
    Custom,
    Date,
    DateInterval,
    Month,
    Week,
    Year,
)
from nbflow.core.errors import ParameterValueError

with warnings.catch_warnings():  # luigi warns about range autoloading on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from luigi import date_interval as luigi_di

D = dt.date

EXAMPLES: list[tuple[DateInterval, luigi_di.DateInterval]] = [
    (Date(2024, 6, 1), luigi_di.Date(2024, 6, 1)),
    (Week(2024, 3), luigi_di.Week(2024, 3)),
    (Week(2020, 53), luigi_di.Week(2020, 53)),
    (Month(2024, 12), luigi_di.Month(2024, 12)),
    (Year(2024), luigi_di.Year(2024)),
    (
        Custom(D(2024, 1, 1), D(2024, 1, 31)),
        luigi_di.Custom(D(2024, 1, 1), D(2024, 1, 31)),
    ),
]


@pytest.mark.parametrize(("ours", "theirs"), EXAMPLES, ids=str)
def test_date_interval_matches_luigi(
    ours: DateInterval, theirs: luigi_di.DateInterval
) -> None:
    assert str(ours) == str(theirs)
    assert ours.to_string() == theirs.to_string()
    assert (ours.date_a, ours.date_b) == (theirs.date_a, theirs.date_b)
    assert ours.dates() == list(theirs.dates())
    assert ours.hours() == list(theirs.hours())


@pytest.mark.parametrize(("ours", "theirs"), EXAMPLES[:5], ids=str)
def test_date_interval_steps_match_luigi(
    ours: DateInterval, theirs: luigi_di.DateInterval
) -> None:
    assert str(ours.next()) == str(theirs.next())
    assert str(ours.prev()) == str(theirs.prev())
    assert str(type(ours).from_date(D(2024, 6, 5))) == str(
        type(theirs).from_date(D(2024, 6, 5))
    )


@pytest.mark.parametrize(("ours", "_theirs"), EXAMPLES, ids=str)
def test_date_interval_parse_round_trips(
    ours: DateInterval, _theirs: luigi_di.DateInterval
) -> None:
    assert type(ours).parse(str(ours)) == ours


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (Date, "2024-1-1"),
        (Date, "2024-02-30"),
        (Week, "2024-W3"),
        (Week, "2024-W53"),
        (Month, "2024-6"),
        (Month, "2024-13"),
        (Year, "24"),
        (Custom, "2024-01-01"),
        (Date, "2024-06-01x"),
    ],
)
def test_date_interval_parse_returns_none_for_other_text(
    kind: type[DateInterval], text: str
) -> None:
    assert kind.parse(text) is None


def test_week_invalid_number_raises_parameter_value_error() -> None:
    with pytest.raises(ParameterValueError) as info:
        Week(2024, 53)

    message = str(info.value)
    assert "Week.week" in message
    assert "got 53" in message
    assert "Expected a week number that 2024 has" in message
    assert "Fix:" in message


def test_date_interval_contains_days_and_datetimes() -> None:
    june = Month(2024, 6)

    assert D(2024, 6, 30) in june
    assert D(2024, 7, 1) not in june
    assert dt.datetime(2024, 6, 3, 12) in june  # noqa: DTZ001
    assert "2024-06-03" not in june


def test_date_interval_comparison_within_a_kind() -> None:
    assert Date(2024, 1, 1) < Date(2024, 1, 2) <= Date(2024, 1, 2)
    assert Date(2024, 1, 3) > Date(2024, 1, 2) >= Date(2024, 1, 2)
    assert Date(2024, 1, 1) == Date(2024, 1, 1)
    assert hash(Date(2024, 1, 1)) == hash(Date(2024, 1, 1))
    assert len({Month(2024, 1), Month(2024, 1), Month(2024, 2)}) == 2


def test_date_interval_different_kinds_are_unequal_and_unordered() -> None:
    custom = Custom(D(2024, 1, 1), D(2024, 2, 1))

    assert Month(2024, 1) != custom
    assert Date(2024, 1, 1) != "2024-01-01"
    with pytest.raises(TypeError):
        _ = Date(2024, 1, 1) < Month(2024, 1)
    with pytest.raises(TypeError):
        _ = Date(2024, 1, 1) <= Month(2024, 1)
    with pytest.raises(TypeError):
        _ = Date(2024, 1, 1) > Month(2024, 1)
    with pytest.raises(TypeError):
        _ = Date(2024, 1, 1) >= Month(2024, 1)


def test_custom_steps_by_its_own_length() -> None:
    span = Custom(D(2024, 1, 10), D(2024, 1, 13))

    assert span.next() == Custom(D(2024, 1, 13), D(2024, 1, 16))
    assert span.prev() == Custom(D(2024, 1, 7), D(2024, 1, 10))
    assert Custom.from_date(D(2024, 1, 1)).dates() == [D(2024, 1, 1)]


def test_date_interval_repr_is_text_form() -> None:
    assert repr(Week(2024, 3)) == "2024-W03"
    assert repr(Custom(D(2024, 1, 1), D(2024, 1, 3))) == "2024-01-01-2024-01-03"


@given(st.dates(min_value=D(1000, 1, 1), max_value=D(9998, 12, 1)))
def test_date_interval_from_date_contains_the_day(day: dt.date) -> None:
    for kind in (Date, Week, Month, Year):
        interval = kind.from_date(day)

        assert day in interval
        assert interval.next().date_a == interval.date_b
        assert interval.prev().date_b == interval.date_a
        assert kind.parse(str(interval)) == interval


def test_interval_iterates_over_its_days_like_luigi() -> None:
    import luigi.date_interval as theirs

    from nbflow.core import date_interval as ours

    assert list(ours.Month(2024, 2)) == list(theirs.Month(2024, 2))
    assert len(list(ours.Week(2024, 3))) == 7
