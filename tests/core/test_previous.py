# Luigi's date-hour parameters hold naive datetimes.
# ruff: noqa: DTZ001
from __future__ import annotations

import datetime as dt

import pytest

import nbflow
from nbflow.core.date_interval import Month, Week
from nbflow.core.previous import NoPreviousTaskError, get_previous_completed, previous

DONE_DAYS = {dt.date(2000, 2, 25), dt.date(2000, 3, 1)}


class PrevDaily(nbflow.Task):
    day = nbflow.DateParameter()
    label = nbflow.Parameter(default="x")

    def complete(self):
        return self.day in DONE_DAYS


class PrevHourly(nbflow.Task):
    hour = nbflow.DateHourParameter()


class PrevMinutely(nbflow.Task):
    minute = nbflow.DateMinuteParameter()


class PrevSecondly(nbflow.Task):
    second = nbflow.DateSecondParameter()


class PrevMonthly(nbflow.Task):
    month = nbflow.MonthParameter()


class PrevYearly(nbflow.Task):
    year = nbflow.YearParameter()


class PrevWeekly(nbflow.Task):
    day = nbflow.DateParameter(interval=7, start=dt.date(2024, 1, 1))


class PrevInterval(nbflow.Task):
    interval = nbflow.DateIntervalParameter()


class PrevTwoDates(nbflow.Task):
    day = nbflow.DateParameter()
    hour = nbflow.DateHourParameter()


class PrevNoDate(nbflow.Task):
    name = nbflow.Parameter()


def test_previous_steps_each_kind_back_one_period() -> None:
    at = dt.datetime(2000, 3, 1, 0, 0, 0)

    assert previous(PrevDaily(day=dt.date(2000, 3, 1))).day == dt.date(2000, 2, 29)
    assert previous(PrevHourly(hour=at)).hour == dt.datetime(2000, 2, 29, 23)
    assert previous(PrevMinutely(minute=at)).minute == dt.datetime(2000, 2, 29, 23, 59)
    assert previous(PrevSecondly(second=at)).second == dt.datetime(
        2000, 2, 29, 23, 59, 59
    )
    assert previous(PrevMonthly(month=dt.date(2000, 1, 1))).month == dt.date(
        1999, 12, 1
    )
    assert previous(PrevYearly(year=dt.date(2000, 1, 1))).year == dt.date(1999, 1, 1)


def test_previous_of_an_interval_parameter_is_the_previous_period() -> None:
    assert previous(PrevWeekly(day=dt.date(2024, 1, 15))).day == dt.date(2024, 1, 8)
    assert previous(PrevInterval(interval=Week(2000, 1))).interval == Week(1999, 52)
    assert previous(PrevInterval(interval=Month(2000, 1))).interval == Month(1999, 12)


def test_previous_keeps_the_other_parameters() -> None:
    earlier = previous(PrevDaily(day=dt.date(2000, 3, 1), label="kept"))

    assert earlier == PrevDaily(day=dt.date(2000, 2, 29), label="kept")


def test_get_previous_completed_finds_the_nearest_complete_or_none() -> None:
    task = PrevDaily(day=dt.date(2000, 3, 2))

    assert get_previous_completed(task, 1) == PrevDaily(day=dt.date(2000, 3, 1))
    assert get_previous_completed(PrevDaily(day=dt.date(2000, 3, 1)), 5).day == (
        dt.date(2000, 2, 25)
    )
    assert get_previous_completed(PrevDaily(day=dt.date(2000, 3, 1)), 4) is None


@pytest.mark.parametrize(
    ("task", "found"),
    [
        (PrevNoDate(name="a"), "none"),
        (PrevTwoDates(day=dt.date(2000, 1, 1), hour=dt.datetime(2000, 1, 1)), "day"),
    ],
)
def test_previous_without_exactly_one_date_says_why(task, found: str) -> None:
    with pytest.raises(NotImplementedError) as caught:
        previous(task)
    with pytest.raises(NoPreviousTaskError):
        get_previous_completed(task)

    message = str(caught.value)
    assert found in message
    assert "Expected exactly one date" in message
    assert "Fix: build the earlier task yourself" in message
