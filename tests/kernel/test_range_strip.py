"""A range run's calendar strip: shown under the live view, final at the run's end."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.core.range_cadence import RangeDaily
from nbflow.kernel import output as output_module
from nbflow.kernel.range_strip import CELLS_MAX, strip_bundle
from nbflow.kernel.session import Session

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.kernel

NOW = int(dt.datetime(2024, 3, 1, tzinfo=dt.UTC).timestamp())


class Recording:
    """A publisher that keeps what would be displayed: (kind, bundle, display id)."""

    sent: list[tuple[str, dict, str]] = []

    def display(self, bundle: dict, display_id: str) -> None:
        self.sent.append(("display", bundle, display_id))

    def update(self, bundle: dict, display_id: str) -> None:
        self.sent.append(("update", bundle, display_id))


@pytest.fixture
def sent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> list[tuple[str, dict, str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Recording, "sent", [])
    monkeypatch.setattr(output_module, "IPythonPublisher", Recording)
    monkeypatch.delenv("NBFLOW_DISPLAY", raising=False)
    return Recording.sent


class StripDay(nbflow.Task):
    day = nbflow.DateParameter()

    def output(self) -> nbflow.LocalTarget:
        return nbflow.LocalTarget(f"strip/{self.day:%Y-%m-%d}.txt")

    def run(self) -> None:
        if self.day.day == 3:
            raise ValueError("no data")
        with self.output().open("w") as out:
            out.write("x")


def test_range_strip_follows_the_run_and_ends_with_each_dates_state(sent) -> None:
    task = RangeDaily(
        of=StripDay, start=dt.date(2024, 1, 1), stop=dt.date(2024, 1, 6),
        now=NOW, days_back=400, task_limit=3,
    )  # fmt: skip
    session = Session()

    with pytest.raises(nbflow.NbflowError):
        session.run(task, display="widgets")
    deadline = time.monotonic() + 10
    while (
        len([s for s in sent if s[0] == "update"]) < 2 and time.monotonic() < deadline
    ):
        time.sleep(0.05)

    strips = [s for s in sent if "nbflow-range-strip" in s[1].get("text/html", "")]
    assert strips[0][0] == "display"
    final = strips[-1][1]
    assert strips[-1][0] == "update"
    assert strips[-1][2] == strips[0][2]
    assert final["text/html"].count('data-state="done"') == 2
    assert final["text/html"].count('data-state="failed"') == 1
    assert final["text/html"].count('data-state="missing"') == 2
    assert 'title="2024-01-03: failed"' in final["text/html"]
    assert "  2024-01-01 ##X.." in final["text/plain"]
    session.runs[0].run.view.close()


def test_range_strip_escapes_and_folds_long_ranges(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    task = RangeDaily(
        of=StripDay, start=dt.date(2020, 1, 1), stop=dt.date(2024, 1, 1),
        now=NOW, days_back=5000, task_limit=0,
    )  # fmt: skip
    task.requires()

    bundle = strip_bundle(task, None)

    assert bundle["text/html"].count("nbflow-range-cell ") <= CELLS_MAX
    assert 'title="2020-01-01..2020-01-02: missing"' in bundle["text/html"]
    assert "<script" not in bundle["text/html"]


def test_range_strip_before_the_plan_says_it_is_checking() -> None:
    task = RangeDaily(of=StripDay, start=dt.date(2024, 1, 1), now=NOW)

    bundle = strip_bundle(task, None)

    assert "checking which dates are missing" in bundle["text/plain"]
