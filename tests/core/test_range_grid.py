"""The grids of the range tools: counting agrees with listing, on any interval."""

# ruff: noqa: DTZ001  (moments are naive datetimes, UTC by convention, as Luigi's)

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given
from hypothesis import strategies as st

from nbflow.core.range_grid import DailyGrid, Grid, HourlyGrid, MinuteGrid, MonthlyGrid

GRIDS = st.sampled_from(
    [DailyGrid(), HourlyGrid(), MinuteGrid(5), MinuteGrid(20), MonthlyGrid()]
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(1999, 1, 1),
    max_value=dt.datetime(2001, 1, 1),
)


SPANS = st.timedeltas(min_value=dt.timedelta(days=-5), max_value=dt.timedelta(days=70))


@given(GRIDS, MOMENTS, SPANS)
def test_range_grid_counts_nothing_in_an_empty_or_reversed_interval(
    grid: Grid, start: dt.datetime, span: dt.timedelta
) -> None:
    assert grid.count(start, start - abs(span)) == 0
    assert grid.moments(start, start - abs(span)) == []


@given(GRIDS, MOMENTS, SPANS)
def test_range_grid_count_is_the_number_of_moments_listed(
    grid: Grid, start: dt.datetime, span: dt.timedelta
) -> None:
    stop = start + span

    moments = grid.moments(start, stop)

    assume(moments)
    assert grid.count(start, stop) == len(moments)
    assert all(start <= moment < stop for moment in moments)
    assert all(grid.at(grid.index(moment)) == moment for moment in moments)
    indices = [grid.index(moment) for moment in moments]
    assert indices == list(range(indices[0], indices[0] + len(indices)))
    assert grid.at(indices[0] - 1) < start
    assert grid.at(indices[-1] + 1) >= stop


@given(GRIDS, MOMENTS)
def test_range_grid_index_is_the_last_moment_at_or_before(
    grid: Grid, moment: dt.datetime
) -> None:
    index = grid.index(moment)

    assert grid.at(index) <= moment < grid.at(index + 1)


def test_range_grid_minutes_start_at_each_midnight() -> None:
    grid = MinuteGrid(15)

    moments = grid.moments(
        dt.datetime(2024, 1, 1, 23, 40),
        dt.datetime(2024, 1, 2, 0, 20),
    )

    assert [f"{m:%H%M}" for m in moments] == ["2345", "0000", "0015"]
