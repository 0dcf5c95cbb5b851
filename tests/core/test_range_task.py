"""Range tools: gaps, of_params, reverse, task_limit, bulk_complete, runs and errors."""

# ruff: noqa: DTZ001  (moments are naive datetimes, UTC by convention, as Luigi's)

from __future__ import annotations

import datetime as dt
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

import nbflow
from nbflow.core.errors import ParameterError
from nbflow.core.range_cadence import (
    RangeByMinutes,
    RangeDaily,
    RangeDailyBase,
    RangeHourly,
    RangeMonthly,
)
from nbflow.core.range_task import RangeError, RangeEvent

#: 2024-03-01T00:00 UTC, seconds since the epoch.
MARCH_1 = int(dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp())


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _days(*days: int) -> list[str]:
    return [f"2024-01-{day:02d}" for day in days]


class RangeReportA(nbflow.Task):
    day = nbflow.DateParameter()
    region = nbflow.Parameter(default="us")

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"a/{self.region}/{self.day:%Y-%m-%d}.csv")

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("x")


def _touch(*paths: str) -> None:
    for path in paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("x")


def _required_days(task: nbflow.Task) -> list[str]:
    return [f"{dep.day:%Y-%m-%d}" for dep in task.requires()]


def test_range_daily_requires_exactly_the_gaps_oldest_first() -> None:
    _touch(*(f"a/us/{day}.csv" for day in _days(1, 2, 5, 6, 9)))
    task = RangeDaily(
        of=RangeReportA, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 11),
        now=MARCH_1, days_back=400,
    )  # fmt: skip

    assert _required_days(task) == _days(3, 4, 7, 8, 10)
    assert not task.complete()


def test_range_reverse_and_task_limit_take_the_newest_gaps_newest_first() -> None:
    _touch(*(f"a/us/{day}.csv" for day in _days(1, 2, 5, 6, 9)))
    common: dict[str, Any] = {
        "of": RangeReportA, "start": dt.date(2024, 1, 1), "stop": dt.date(2024, 1, 11),
        "now": MARCH_1, "days_back": 400, "task_limit": 3,
    }  # fmt: skip

    forward = RangeDaily(**common)
    backward = RangeDaily(reverse=True, **common)

    assert _required_days(forward) == _days(3, 4, 7)
    assert _required_days(backward) == _days(10, 8, 7)


def test_range_of_params_reach_every_task_and_its_paths() -> None:
    _touch("a/eu/2024-01-01.csv", "a/us/2024-01-02.csv")
    task = RangeDaily(
        of=RangeReportA, of_params={"region": "eu"}, start=dt.date(2024, 1, 1),
        stop=dt.date(2024, 1, 4), now=MARCH_1, days_back=400,
    )  # fmt: skip

    required = task.requires()

    assert [dep.region for dep in required] == ["eu", "eu"]
    assert _required_days(task) == _days(2, 3)


def test_range_window_around_now_cuts_the_range_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    task = RangeDaily(
        of=RangeReportA, start=dt.date(2024, 1, 1), stop=dt.date(2024, 3, 1),
        now=MARCH_1, days_back=10,
    )  # fmt: skip

    required = _required_days(task)

    assert required[0] == "2024-02-20"
    assert task.plan is not None
    assert task.plan.outside == 50
    assert "50 moments of the range lie outside the window" in caplog.text


def test_range_wholly_before_the_window_counts_only_its_own_dates() -> None:
    task = RangeDaily(
        of=RangeReportA, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 10),
        now=MARCH_1, days_back=10,
    )  # fmt: skip

    assert _required_days(task) == []
    assert task.plan is not None
    assert task.plan.outside == 9


class RangeBulkB(nbflow.Task):
    day = nbflow.DateParameter()
    region = nbflow.Parameter(default="us")
    asked: list[tuple[str, list[dt.date]]] = []

    @classmethod
    def bulk_complete(cls, parameter_tuples: list[dt.date]) -> list[dt.date]:
        regions = {cls(day).region for day in parameter_tuples}
        cls.asked.append((regions.pop(), list(parameter_tuples)))
        return [day for day in parameter_tuples if day.day % 2]

    def output(self) -> nbflow.LocalTarget:
        raise AssertionError("bulk_complete answers; no output is looked at")


def test_range_bulk_complete_is_asked_once_with_of_params_filled_in() -> None:
    task = RangeDaily(
        of=RangeBulkB, of_params={"region": "eu"}, start=dt.date(2024, 1, 1),
        stop=dt.date(2024, 1, 7), now=MARCH_1, days_back=400,
    )  # fmt: skip

    required = task.requires()

    assert [f"{dep.day:%d}" for dep in required] == ["02", "04", "06"]
    assert len(RangeBulkB.asked) == 1
    assert RangeBulkB.asked[0][0] == "eu"
    assert RangeBulkB.asked[0][1][0] == dt.date(2024, 1, 1)


class RangeHourC(nbflow.Task):
    hour = nbflow.DateHourParameter()

    def output(self) -> nbflow.MemoryTarget:
        return nbflow.MemoryTarget(f"c/{self.hour:%Y/%m/%d/%H}.txt")


def test_range_hourly_and_by_minutes_find_gaps_in_memory_targets() -> None:
    RangeHourC(hour=dt.datetime(2024, 1, 1, 1)).output().open("w").close()
    task = RangeHourly(
        of=RangeHourC, start=dt.datetime(2024, 1, 1, 0), stop=dt.datetime(2024, 1, 1, 3),
        now=MARCH_1, hours_back=10_000,
    )  # fmt: skip

    assert [dep.hour.hour for dep in task.requires()] == [0, 2]


def test_range_monthly_requires_each_missing_month() -> None:
    class RangeMonthD(nbflow.Task):
        month = nbflow.MonthParameter()

        def complete(self) -> bool:
            return self.month.month == 1

    task = RangeMonthly(
        of=RangeMonthD, start=dt.date(2023, 11, 1), stop=dt.date(2024, 3, 1),
        now=MARCH_1,
    )  # fmt: skip

    assert [f"{dep.month:%Y-%m}" for dep in task.requires()] == [
        "2023-11", "2023-12", "2024-02",
    ]  # fmt: skip


def test_range_reports_delay_and_completeness_events() -> None:
    _touch(*(f"a/us/{day}.csv" for day in _days(1, 2, 3)))
    seen: list[tuple[str, str, float]] = []

    class RangeDailyWatched(RangeDaily):
        pass

    for name in ("DELAY", "COMPLETE_COUNT", "COMPLETE_FRACTION"):
        event = getattr(RangeEvent, name)
        RangeDailyWatched.event_handler(event)(
            lambda family, value, event=event: seen.append((event, family, value))
        )
    task = RangeDailyWatched(
        of=RangeReportA, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 5),
        now=MARCH_1, days_back=400,
    )  # fmt: skip

    task.requires()

    assert seen == [
        (RangeEvent.DELAY, "RangeReportA", 1),
        (RangeEvent.COMPLETE_COUNT, "RangeReportA", 3),
        (RangeEvent.COMPLETE_FRACTION, "RangeReportA", 0.75),
    ]


# --- runs: the normal run path --------------------------------------------------------


class RangeRunE(nbflow.Task):
    day = nbflow.DateParameter()
    order: list[str] = []

    @property
    def priority(self) -> int:  # type: ignore[override]
        return 10 if self.day.day == 3 else 0

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"e/{self.day:%Y-%m-%d}.csv")

    def run(self) -> None:
        RangeRunE.order.append(f"{self.day:%d}")
        with self.output().open("w") as out:
            out.write("x")


def test_range_backfill_runs_the_gaps_with_their_priorities() -> None:
    task = RangeDaily(
        of=RangeRunE, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 5),
        now=MARCH_1, days_back=400,
    )  # fmt: skip

    ok = nbflow.build([task], local_scheduler=True, workers=1)

    assert ok
    assert RangeRunE.order[0] == "03"
    assert sorted(RangeRunE.order) == ["01", "02", "03", "04"]
    fresh = RangeDaily(
        of=RangeRunE, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 5),
        now=MARCH_1, days_back=401,
    )  # fmt: skip
    assert fresh.requires() == []
    assert fresh.complete()


class RangeRunF(nbflow.Task):
    day = nbflow.DateParameter()
    #: Both tasks must be inside run() at once: only two workers let them meet.
    meeting = threading.Barrier(2)

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"f/{self.day:%Y-%m-%d}.csv")

    def run(self) -> None:
        RangeRunF.meeting.wait(timeout=30)
        with self.output().open("w") as out:
            out.write("x")


def test_range_backfill_runs_gaps_in_parallel_on_two_workers() -> None:
    task = RangeDaily(
        of=RangeRunF, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 3),
        now=MARCH_1, days_back=400,
    )  # fmt: skip

    result = nbflow.build(
        [task], local_scheduler=True, workers=2, detailed_summary=True
    )

    assert result.tasks.get("failed", []) == []
    assert len(result.tasks["completed"]) == 3  # two days and the range
    assert Path("f/2024-01-02.csv").exists()


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "what", "fix"),
    [
        ({}, "neither start nor stop is given", "pass start="),
        ({"stop": dt.date(2024, 1, 2)}, "no start is given and reverse is False",
         "pass start= (--start), or reverse=True"),
        ({"start": dt.date(2024, 1, 3), "stop": dt.date(2024, 1, 2)},
         "start 2024-01-03 is after stop 2024-01-02", "swap them"),
    ],
)  # fmt: skip
def test_range_bounds_errors_say_what_and_how_to_fix(
    kwargs: dict[str, Any], what: str, fix: str
) -> None:
    task = RangeDailyBase(of=RangeReportA, now=MARCH_1, **kwargs)

    with pytest.raises(RangeError) as caught:
        task.requires()

    assert isinstance(caught.value, ParameterError)
    message = str(caught.value)
    assert message.startswith("RangeDailyBase: " + what)
    assert "Expected " in message
    assert f"Fix: {fix}" in message


def test_range_minutes_interval_must_divide_an_hour() -> None:
    task = RangeByMinutes(
        of=RangeHourC,
        start=dt.datetime(2024, 1, 1),
        minutes_interval=7,
        now=MARCH_1,
    )

    with pytest.raises(RangeError, match="minutes_interval is 7") as caught:
        task.requires()

    assert "divides 60" in str(caught.value)


def test_range_of_without_positional_parameter_asks_for_param_name() -> None:
    class RangeKeywordOnlyG(nbflow.Task):
        day = nbflow.DateParameter(positional=False)

    task = RangeDailyBase(of=RangeKeywordOnlyG, start=dt.date(2024, 1, 1), now=MARCH_1)

    with pytest.raises(RangeError, match="no positional parameter") as caught:
        task.requires()

    assert "param_name" in str(caught.value)


def test_range_old_two_argument_missing_datetimes_still_works_with_a_warning() -> None:
    class RangeOldStyle(RangeDailyBase):
        def missing_datetimes(  # type: ignore[override]
            self, task_cls: type, finite_datetimes: list[dt.datetime]
        ) -> list[dt.datetime]:
            assert task_cls is RangeReportA
            return finite_datetimes[:1]

    task = RangeOldStyle(
        of=RangeReportA, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 3),
        now=MARCH_1, days_back=400,
    )  # fmt: skip

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        required = _required_days(task)

    assert required == _days(1)
    assert "missing_datetimes(task_cls, finite_datetimes)" in str(caught[0].message)


class RangeAgainH(nbflow.Task):
    day = nbflow.DateParameter()

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"h/{self.day:%Y-%m-%d}.csv")

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("x")


def test_range_run_again_takes_the_gaps_past_task_limit() -> None:
    def backfill() -> nbflow.Task:  # the same parameters: the same cached instance
        return RangeDaily(
            of=RangeAgainH, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 6),
            now=MARCH_1, days_back=400, task_limit=2,
        )  # fmt: skip

    assert nbflow.build([backfill()], local_scheduler=True)
    first = sorted(p.name for p in Path("h").iterdir())
    assert nbflow.build([backfill()], local_scheduler=True)
    second = sorted(p.name for p in Path("h").iterdir())
    assert nbflow.build([backfill()], local_scheduler=True)

    assert first == ["2024-01-01.csv", "2024-01-02.csv"]
    assert second == [f"2024-01-0{day}.csv" for day in (1, 2, 3, 4)]
    assert len(list(Path("h").iterdir())) == 5
    assert backfill().complete()
