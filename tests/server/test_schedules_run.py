"""A fire runs a real ``nbflow run`` process against a real server; its outcome is kept."""

from __future__ import annotations

import textwrap
import time
from typing import TYPE_CHECKING

import pytest

from nbflow.server.schedule_store import ScheduleStore
from nbflow.server.schedules import Schedule
from nbflow.server.trigger import ProcessLauncher, Trigger
from tests.server.live_server import TOKEN, LiveServer
from tests.server.schedule_fakes import FakeClock, at

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.server

JOBS = """
import nbflow


class ScheduledRunReport(nbflow.Task):
    date = nbflow.DateParameter()
    region = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(f"out/{self.date}-{self.region}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("made by the trigger")


class ScheduledRunBroken(nbflow.Task):
    date = nbflow.DateParameter()

    def output(self):
        return nbflow.LocalTarget(f"out/broken-{self.date}.txt")

    def run(self):
        raise RuntimeError("boom")
"""


def wait_for_runs(trigger: Trigger, timeout: float = 120.0) -> None:
    """Reap until no fire runs (the runs are real processes: seconds each)."""
    deadline = time.monotonic() + timeout
    while any(entry["running"] for entry in trigger.describe()):
        assert time.monotonic() < deadline, "the runs did not end"
        time.sleep(0.2)
        trigger.reap()


def test_a_fire_runs_the_task_on_the_server_and_records_its_exit_code(
    tmp_path: Path,
) -> None:
    (tmp_path / "scheduled_run_jobs.py").write_text(textwrap.dedent(JOBS))
    common = {"module": "scheduled_run_jobs", "cwd": str(tmp_path)}
    report = Schedule("report", "0 2 * * *", "ScheduledRunReport",
                      params=(("region", "eu"),), **common)  # fmt: skip
    broken = Schedule("broken", "0 2 * * *", "ScheduledRunBroken", **common)
    live = LiveServer(f"sqlite:///{tmp_path / 'server.db'}").start()
    clock = FakeClock(at("2024-01-01T03:00:00"))
    store = ScheduleStore(live.store)
    trigger = Trigger(store, ProcessLauncher(live.url, TOKEN), schedules=[report, broken],
                      clock=clock, log_dir=tmp_path / "logs")  # fmt: skip
    try:
        trigger.load()
        clock.now = at("2024-01-02T02:00:00")
        trigger.tick()
        wait_for_runs(trigger)
        tasks = live.get("/api/v1/tasks?family=ScheduledRunReport").json()["tasks"]
    finally:
        trigger.stop()
        live.stop()

    (made,) = store.fires("report")
    (failed,) = store.fires("broken")
    assert (made.state, made.exit_code, made.value) == ("succeeded", 0, "2024-01-01")
    assert (failed.state, failed.exit_code) == ("failed", 1)
    output = tmp_path / "out" / "2024-01-01-eu.txt"
    assert output.read_text() == "made by the trigger"
    assert [(task["status"], dict(task["params"])) for task in tasks] == [
        ("DONE", {"date": "2024-01-01", "region": "eu"})
    ]
    log = (tmp_path / "logs" / "broken" / "20240102T020000Z.log").read_text()
    assert "--date=2024-01-01" in log
    assert "RuntimeError: boom" in log
    assert TOKEN not in log
