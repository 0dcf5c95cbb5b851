"""Missing moments from folder listings: the file-system calls of a 3-year range."""

# ruff: noqa: DTZ001  (moments are naive datetimes, UTC by convention, as Luigi's)

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.range_cadence import RangeDaily
from nbflow.core.range_listing import (
    ListingInferenceError,
    _constrain_glob,
    _get_filesystems_and_globs,
    infer_bulk_complete_from_fs,
    most_common,
)
from nbflow.core.target import LocalFileSystem

if TYPE_CHECKING:
    from collections.abc import Iterator

NOW = int(dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp())
START, STOP = dt.date(2024, 1, 1), dt.date(2027, 1, 1)  # 1,096 days


class CountingFileSystem(LocalFileSystem):
    """The local disk, counting each call by name."""

    calls: Counter[str] = Counter()

    def exists(self, path: str) -> bool:
        CountingFileSystem.calls["exists"] += 1
        return super().exists(path)

    def listdir(self, path: str) -> Iterator[str]:
        CountingFileSystem.calls["listdir"] += 1
        return super().listdir(path)


class CountedTarget(nbflow.LocalTarget):
    @property
    def fs(self) -> LocalFileSystem:
        return CountingFileSystem()

    def exists(self) -> bool:
        return self.fs.exists(self.path)


def _family(index: int, layout: str) -> type[nbflow.Task]:
    def output(self: Any) -> CountedTarget:
        return CountedTarget(self.day.strftime(layout))

    name = f"RangeListed{index}"
    body = {"day": nbflow.DateParameter(), "output": output, "__module__": __name__}
    return type(name, (nbflow.Task,), body)


#: Five families with their paths spelt five ways.
LAYOUTS = (
    "data/sales/%Y-%m-%d.csv",
    "data/stock/%Y/%m/%d/stock.csv",
    "data/refunds/day=%Y%m%d/part-0.parquet",
    "data/2019-archive/visits_%Y_%m_%d.json",
    "data/fx/%Y/fx-%m-%d.csv",
)
FAMILIES = [_family(i, layout) for i, layout in enumerate(LAYOUTS)]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    CountingFileSystem.calls.clear()


def _write_all_but(family: type[nbflow.Task], gaps: set[dt.date]) -> None:
    day = START
    while day < STOP:
        if day not in gaps:
            path = Path(family(day).output().path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        day += dt.timedelta(days=1)


def test_range_three_years_of_five_families_list_each_output_folder_once() -> None:
    gaps = {dt.date(2024, 2, 29), dt.date(2025, 7, 14), dt.date(2026, 12, 31)}
    for family in FAMILIES:
        _write_all_but(family, gaps)
    ranges = [
        RangeDaily(of=family, start=START, stop=STOP, now=NOW, days_back=2000)
        for family in FAMILIES
    ]
    CountingFileSystem.calls.clear()

    required = [sorted(dep.day for dep in task.requires()) for task in ranges]

    assert required == [sorted(gaps)] * 5
    # one exists and one listing per folder: sales, refunds and the archive one each,
    # stock and fx one per year (their globs narrow to 2024, 2025 and 2026); checking
    # each day would cost 5 x 1,096 exists calls
    assert CountingFileSystem.calls == Counter(exists=9, listdir=9)


def test_range_listing_without_any_output_folder_finds_everything_missing() -> None:
    task = RangeDaily(
        of=FAMILIES[1], start=START, stop=dt.date(2024, 1, 4), now=NOW, days_back=2000
    )

    assert [f"{dep.day:%d}" for dep in task.requires()] == ["01", "02", "03"]
    assert CountingFileSystem.calls["listdir"] == 0


def test_range_listing_globs_put_digits_where_the_date_is() -> None:
    found = [
        glob
        for family in FAMILIES
        for _, glob in _get_filesystems_and_globs(
            family, lambda moment: moment.strftime("(%Y).*(%m).*(%d)")
        )
    ]

    assert found == [
        "data/sales",
        "data/stock/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]",
        "data/refunds/day=[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]",
        "data/2019-archive",
        "data/fx/[0-9][0-9][0-9][0-9]",
    ]


def test_range_constrain_glob_narrows_to_the_digits_present() -> None:
    paths = [f"/logs/2024/0{month}" for month in (1, 2, 3)] + ["/logs/2025/11"]

    globs = _constrain_glob("/logs/[0-9][0-9][0-9][0-9]/[0-9][0-9]", paths, limit=3)

    assert sorted(globs) == ["/logs/2024/0[1-3]", "/logs/2025/1[1]"]


def test_range_most_common_prefers_the_first_of_a_tie() -> None:
    assert most_common(["b", "a", "a", "b"]) == ("b", 2)


class RangeNotFiles(nbflow.Task):
    day = nbflow.DateParameter()

    def output(self) -> Any:
        return nbflow.MemoryTarget("same-path-every-day")


def test_range_listing_refuses_paths_without_the_date() -> None:
    with pytest.raises(ListingInferenceError) as caught:
        infer_bulk_complete_from_fs(
            [dt.datetime(2024, 1, 1)],
            RangeNotFiles,
            lambda moment: moment.strftime("(%Y).*(%m).*(%d)"),
        )

    message = str(caught.value)
    assert "does not contain its moment" in message
    assert "Fix: give the task such outputs, or define a classmethod" in message
    assert isinstance(caught.value, NotImplementedError)


def test_range_daily_falls_back_to_one_check_per_day_when_listing_cannot_work() -> None:
    task = RangeDaily(
        of=RangeNotFiles, start=START, stop=dt.date(2024, 1, 3), now=NOW, days_back=2000
    )

    assert [f"{dep.day:%d}" for dep in task.requires()] == ["01", "02"]
