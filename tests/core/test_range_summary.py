"""Per-date states of a range run and the CLI's summary of them."""

# ruff: noqa: DTZ001  (moments are naive datetimes, UTC by convention, as Luigi's)

from __future__ import annotations

import datetime as dt
import sys
import textwrap
import uuid
from typing import TYPE_CHECKING

import pytest

from nbflow.cli import main
from nbflow.core.config import reset_settings_cache
from nbflow.core.range_summary import (
    date_runs,
    date_states,
    states_from_categories,
    summary_text,
)
from nbflow.core.range_task import RangePlan
from nbflow.core.registry import REGISTRY

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DAYS = tuple(dt.datetime(2024, 1, day) for day in range(1, 11))
LABELS = tuple(f"{day:%Y-%m-%d}" for day in DAYS)


def _plan(missing: tuple[int, ...], required: tuple[int, ...]) -> RangePlan:
    return RangePlan(
        "Report",
        DAYS,
        tuple(DAYS[i] for i in missing),
        tuple(DAYS[i] for i in required),
        tuple(f"id{i}" for i in required),
        LABELS,
    )


def test_range_date_states_join_the_plan_with_the_required_tasks_states() -> None:
    plan = _plan(missing=(2, 3, 4, 8), required=(2, 3, 4))

    states = date_states(plan, {"id2": "done", "id3": "failed", "id4": "running"})

    assert states == [
        "done", "done", "done", "failed", "running",
        "done", "done", "done", "missing", "done",
    ]  # fmt: skip


def test_range_states_from_categories_count_upstream_failures_as_missing() -> None:
    tasks = {
        "completed": ["a"], "already_done": ["b"], "failed": ["c"],
        "scheduling_error": ["d"], "upstream_failure": ["e"], "not_run": ["f"],
    }  # fmt: skip

    assert states_from_categories(tasks) == {
        "a": "done", "b": "done", "c": "failed", "d": "failed",
        "e": "missing", "f": "missing",
    }  # fmt: skip


def test_range_summary_groups_runs_of_dates_and_draws_a_strip() -> None:
    plan = _plan(missing=(2, 3, 8), required=(2, 3))
    states = date_states(plan, {"id2": "done", "id3": "failed"})

    text = summary_text("RangeDaily of Report", plan, states)

    assert text.splitlines() == [
        "RangeDaily of Report: 10 dates, 2024-01-01..2024-01-10",
        "  done     8  2024-01-01..2024-01-03, 2024-01-05..2024-01-08, 2024-01-10",
        "  failed   1  2024-01-04",
        "  missing  1  2024-01-09",
        "  2024-01-01 ###X####.#",
    ]


def test_range_summary_caps_the_runs_it_lists() -> None:
    labels = [f"d{i}" for i in range(20)]
    states = ["done", "missing"] * 10

    runs = date_runs(labels, states)
    plan = RangePlan("F", tuple(DAYS[:1]) * 20, (), (), (), tuple(labels))
    text = summary_text("R", plan, states)

    assert len(runs) == 20
    assert "d0, d2, d4, d6, d8, d10, ... and 4 more runs" in text


# --- the command line -----------------------------------------------------------------

PIPELINE = """
import nbflow


class RangeCliReport(nbflow.Task):
    day = nbflow.DateParameter()
    region = nbflow.Parameter(default="us")

    def output(self):
        return nbflow.LocalTarget(f"out/{self.region}/{self.day:%Y-%m-%d}.csv")

    def run(self):
        if self.day.day == 5:
            raise ValueError("no data for the 5th")
        with self.output().open("w") as out:
            out.write(self.region)
"""


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH", "NBFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    name = f"range_pipeline_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PIPELINE), "utf-8")
    for day in (1, 2, 8):
        path = tmp_path / f"out/eu/2024-01-{day:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("eu")
    saved = REGISTRY.snapshot()
    reset_settings_cache()
    yield name
    reset_settings_cache()
    REGISTRY.restore(saved)
    sys.modules.pop(name, None)


def test_range_cli_backfills_with_of_params_and_prints_a_per_date_summary(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main([
        "run", "--module", pipeline, "--no-progress", "RangeDaily",
        "--of", "RangeCliReport", "--of-params", '{"region": "eu"}',
        "--start", "2024-01-01", "--stop", "2024-01-11", "--days-back", "100000",
        "--task-limit", "4",
    ])  # fmt: skip
    out = capsys.readouterr().out

    assert code == 1  # the 5th failed
    assert sorted(p.name for p in (tmp_path / "out/eu").iterdir()) == [
        f"2024-01-{day:02d}.csv" for day in (1, 2, 3, 4, 6, 8)
    ]
    assert "RangeDaily of RangeCliReport: 10 dates, 2024-01-01..2024-01-10" in out
    assert "  done     6  2024-01-01..2024-01-04, 2024-01-06, 2024-01-08" in out
    assert "  failed   1  2024-01-05" in out
    assert "  missing  3  2024-01-07, 2024-01-09..2024-01-10" in out
    assert "  2024-01-01 ####X#.#.." in out


def test_range_cli_reverse_fills_the_newest_gaps_first(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main([
        "run", "--module", pipeline, "--no-progress", "RangeDaily",
        "--of", "RangeCliReport", "--of-params", '{"region": "eu"}',
        "--start", "2024-01-01", "--stop", "2024-01-11", "--days-back", "100000",
        "--task-limit", "2", "--reverse",
    ])  # fmt: skip
    out = capsys.readouterr().out

    assert code == 0
    assert (tmp_path / "out/eu/2024-01-10.csv").exists()
    assert (tmp_path / "out/eu/2024-01-09.csv").exists()
    assert not (tmp_path / "out/eu/2024-01-07.csv").exists()
    assert "  missing  5  2024-01-03..2024-01-07" in out
    assert "  2024-01-01 ##.....###" in out
