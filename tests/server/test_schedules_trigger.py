"""The trigger with a fake clock on a real database: on time, catch-up, never twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from nbflow.server.schedule_store import Fire, ScheduleStore
from nbflow.server.schedules import Schedule
from nbflow.server.store import Store
from nbflow.server.trigger import Trigger
from tests.server.schedule_fakes import FakeClock, RecordingLauncher, at

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server


@pytest.fixture
def store(db_url: str) -> Iterator[ScheduleStore]:
    opened = Store.open(db_url)
    yield ScheduleStore(opened)
    opened.close()


def make_trigger(
    store: ScheduleStore,
    clock: FakeClock,
    *schedules: Schedule,
    launcher: RecordingLauncher | None = None,
    tmp_path: Path | None = None,
) -> tuple[Trigger, RecordingLauncher]:
    launcher = launcher or RecordingLauncher()
    trigger = Trigger(
        store, launcher, schedules=schedules, clock=clock, log_dir=tmp_path
    )
    trigger.load()
    return trigger, launcher


DAILY = Schedule("daily", "0 2 * * *", "Report", module="jobs", max_running=10)
HOURLY = Schedule("hourly", "0 * * * *", "Hourly")


def test_trigger_fires_on_time_for_the_interval_that_just_ended(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY, DAILY)

    clock.now = at("2024-01-01T10:59:59")
    assert trigger.tick() == []
    clock.now = at("2024-01-01T11:00:00")
    fired = trigger.tick()
    clock.now = at("2024-01-01T11:00:30")
    again = trigger.tick()
    clock.now = at("2024-01-02T02:00:01")
    launcher.finish_all()
    trigger.tick()

    assert len(fired) == 1
    assert again == []
    assert launcher.launched == [
        ("hourly", "2024-01-01T10"),
        ("daily", "2024-01-01"),
        ("hourly", "2024-01-01T11"),  # catch-up "all", one at a time (max_running 1)
    ]


def test_trigger_records_each_fire_and_its_outcome(store: ScheduleStore) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY)
    clock.now = at("2024-01-01T11:00:05")
    trigger.tick()

    launcher.runs[0].code = 3
    trigger.tick()

    (fire,) = store.fires("hourly")
    assert (fire.state, fire.exit_code, fire.value) == ("failed", 3, "2024-01-01T10")
    assert fire.fire_time == at("2024-01-01T11:00:00")
    assert fire.started == at("2024-01-01T11:00:05")
    clock.now = at("2024-01-01T12:00:00")
    trigger.tick()  # the next fire runs: the list shows it and the failure before it
    listed = {entry["name"]: entry for entry in trigger.describe()}["hourly"]
    assert listed["last_fire"]["state"] == "running"
    assert listed["last_finished"]["state"] == "failed"
    assert listed["next_fire"] == at("2024-01-01T13:00:00")
    assert listed["next_value"] == "2024-01-01T12"


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [
        ("all", ["2024-01-02", "2024-01-03", "2024-01-04"]),
        ("latest", ["2024-01-04"]),
        ("none", []),
    ],
)
def test_trigger_catches_up_after_a_downtime_as_configured(
    store: ScheduleStore, catch_up: str, expected: list[str]
) -> None:
    schedule = Schedule(
        "daily", "0 2 * * *", "Report", catch_up=catch_up, max_running=9
    )
    clock = FakeClock(at("2024-01-01T03:00:00"))
    first, launcher = make_trigger(store, clock, schedule)
    clock.now = at("2024-01-02T02:00:00")
    first.tick()
    launcher.finish_all()
    first.tick()
    assert launcher.launched == [("daily", "2024-01-01")]

    clock.now = at("2024-01-05T09:00:00")  # the server was down for three fires
    second, relaunched = make_trigger(store, clock, schedule)
    second.tick()
    second.tick()
    clock.now = at("2024-01-06T02:00:00")  # back to normal: the next one fires on time
    relaunched.finish_all()
    second.tick()

    assert [value for _, value in relaunched.launched] == [*expected, "2024-01-05"]
    values = [fire.value for fire in reversed(store.fires("daily"))]
    assert values == ["2024-01-01", *expected, "2024-01-05"]


def test_trigger_after_a_restart_never_fires_an_interval_twice(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    first, launcher = make_trigger(store, clock, HOURLY)
    clock.now = at("2024-01-01T11:00:00")
    first.tick()
    first.stop()  # the run is stopped with the server

    second, relaunched = make_trigger(store, clock, HOURLY)
    fired_again = second.tick()
    clock.now = at("2024-01-01T11:59:59")
    fired_later = second.tick()

    assert launcher.launched == [("hourly", "2024-01-01T10")]
    assert fired_again == fired_later == []
    assert relaunched.launched == []
    (fire,) = store.fires("hourly")
    assert (fire.state, fire.exit_code) == ("failed", -15)
    assert fire.message == "stopped with the server"


def test_trigger_a_crash_between_claim_and_launch_loses_the_fire_not_repeats_it(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    make_trigger(store, clock, HOURLY)
    claim = Fire(0, "hourly", at("2024-01-01T11:00:00"), "2024-01-01T10", "claimed",
                 at("2024-01-01T11:00:00"), None, None, None, None, "x.log", "")  # fmt: skip
    assert store.claim(claim) is not None  # ... and the server died before launching
    assert store.claim(claim) is None  # a second claim of the interval is refused

    clock.now = at("2024-01-01T11:00:10")
    restarted, launcher = make_trigger(store, clock, HOURLY)
    restarted.tick()

    assert launcher.launched == []
    (fire,) = store.fires("hourly")
    assert fire.state == "lost"
    assert "outcome was not seen" in fire.message


def test_trigger_waits_for_a_place_when_max_running_is_reached(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY)  # max_running 1
    clock.now = at("2024-01-01T13:00:00")

    trigger.tick()
    trigger.tick()
    assert [value for _, value in launcher.launched] == ["2024-01-01T10"]
    launcher.finish_all()
    trigger.tick()

    assert [value for _, value in launcher.launched] == [
        "2024-01-01T10",
        "2024-01-01T11",
    ]


def test_trigger_paused_lets_intervals_pass_and_resumes_with_the_next(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY)
    trigger.set_paused("hourly", paused=True)

    clock.now = at("2024-01-01T12:30:00")
    trigger.tick()
    assert launcher.launched == []
    restarted, relaunched = make_trigger(store, clock, HOURLY)  # pause is durable
    restarted.tick()
    restarted.set_paused("hourly", paused=False)
    clock.now = at("2024-01-01T13:00:00")
    restarted.tick()

    assert relaunched.launched == [("hourly", "2024-01-01T12")]


def test_trigger_uses_the_schedules_timezone(store: ScheduleStore) -> None:
    paris = Schedule("paris", "0 2 * * *", "Report", timezone="Europe/Paris")
    clock = FakeClock(at("2024-01-01T03:00:00"))
    trigger, launcher = make_trigger(store, clock, paris)

    clock.now = at("2024-01-02T00:59:59")
    trigger.tick()
    clock.now = at("2024-01-02T01:00:00")  # 02:00 in Paris
    trigger.tick()

    assert launcher.launched == [("paris", "2024-01-01")]


def test_trigger_records_a_run_that_cannot_start(store: ScheduleStore) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    failing = RecordingLauncher(fail_with=FileNotFoundError(2, "No such file", "/x"))
    trigger, _ = make_trigger(store, clock, HOURLY, launcher=failing)
    clock.now = at("2024-01-01T11:00:00")

    trigger.tick()
    clock.now = at("2024-01-01T11:30:00")
    trigger.tick()

    (fire,) = store.fires("hourly")
    assert fire.state == "not_started"
    assert "could not start" in fire.message


def test_trigger_api_schedules_survive_a_restart_and_config_ones_cannot_be_removed(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, _ = make_trigger(store, clock, DAILY)
    trigger.add({"name": "adhoc", "cron": "*/15 * * * *", "task": "Quick"})

    restarted, launcher = make_trigger(store, clock, DAILY)
    clock.now = at("2024-01-01T10:45:00")
    restarted.tick()

    assert launcher.launched == [("adhoc", "2024-01-01T1030")]
    names = [entry["name"] for entry in restarted.describe()]
    assert names == ["adhoc", "daily"]
    with pytest.raises(Exception, match="declared in the server's config"):
        restarted.remove("daily")
    restarted.remove("adhoc")
    assert [entry["name"] for entry in restarted.describe()] == ["daily"]


def test_store_keeps_only_the_newest_fires_of_a_schedule(
    store: ScheduleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nbflow.server.schedule_store.KEEP_FIRES", 3)
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY)

    for hour in range(11, 16):
        clock.now = at(f"2024-01-01T{hour}:00:00")
        launcher.finish_all()
        trigger.tick()

    values = [fire.value for fire in store.fires("hourly")]
    assert values == ["2024-01-01T14", "2024-01-01T13", "2024-01-01T12"]


def test_trigger_pausing_right_after_a_fire_keeps_the_fire_and_the_next(
    store: ScheduleStore,
) -> None:
    clock = FakeClock(at("2024-01-01T10:30:00"))
    trigger, launcher = make_trigger(store, clock, HOURLY)
    clock.now = at("2024-01-01T11:00:00")
    trigger.tick()
    launcher.finish_all()

    trigger.set_paused("hourly", paused=True)
    trigger.set_paused("hourly", paused=False)
    trigger.tick()
    clock.now = at("2024-01-01T12:00:00")
    trigger.tick()

    assert [value for _, value in launcher.launched] == [
        "2024-01-01T10",
        "2024-01-01T11",
    ]
