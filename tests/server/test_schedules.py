"""Schedule definitions from config files and the API: parsing, clear errors, intervals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from nbflow.core.config import Settings
from nbflow.server.schedules import Schedule, ScheduleError, from_settings, parse
from nbflow.server.trigger import run_command
from tests.server.schedule_fakes import at

if TYPE_CHECKING:
    from pathlib import Path


def test_from_settings_reads_ini_sections_with_param_keys(tmp_path: Path) -> None:
    config = tmp_path / "luigi.cfg"
    config.write_text(
        textwrap.dedent(
            """
            [schedule.nightly]
            cron = 0 2 * * *
            task = Report
            module = jobs.reports
            param.region = eu
            params = {"limit": 10}
            catch_up = latest
            timezone = Europe/Paris
            workers = 4
            paused = yes
            """
        )
    )

    (nightly,) = from_settings(Settings.load([config]))

    assert nightly == Schedule(
        "nightly", "0 2 * * *", "Report", module="jobs.reports",
        params=(("limit", "10"), ("region", "eu")), catch_up="latest",
        timezone="Europe/Paris", workers=4, paused=True,
    )  # fmt: skip


def test_from_settings_reads_toml_tables(tmp_path: Path) -> None:
    config = tmp_path / "nbflow.toml"
    config.write_text(
        textwrap.dedent(
            """
            [schedule.hourly-eu]
            cron = "0 * * * *"
            task = "Load"
            date_param = "hour"
            param.source = "s3://bucket"
            max_running = 2

            [schedule.weekly]
            cron = "@weekly"
            task = "Summary"
            date_param = ""
            """
        )
    )

    hourly, weekly = from_settings(Settings.load([config]))

    assert (hourly.name, weekly.name) == ("hourly-eu", "weekly")
    assert hourly.params == (("source", "s3://bucket"),)
    assert (hourly.date_param, hourly.max_running) == ("hour", 2)
    assert weekly.date_param == ""


@pytest.mark.parametrize(
    ("options", "key", "fix"),
    [
        ({"cron": "0 2 * *", "task": "T"}, "cron", "correct the expression"),
        ({"cron": "61 * * * *", "task": "T"}, "cron", "correct the expression"),
        ({"task": "T"}, "cron", 'add cron = ... to the schedule (e.g. cron = "0 2'),
        ({"cron": "@daily"}, "task", "add task = ..."),
        ({"cron": "@daily", "task": "T", "catch_up": "some"}, "catch_up", "one of"),
        ({"cron": "@daily", "task": "T", "timezone": "Mars/Base"}, "timezone", "name"),
        ({"cron": "@daily", "task": "T", "workers": "0"}, "workers", "1 or more"),
        ({"cron": "@daily", "task": "T", "paused": "maybe"}, "paused", "true or false"),
        ({"cron": "@daily", "task": "T", "crn": "x"}, "crn", "Did you mean: cron?"),
        ({"cron": "@daily", "task": "T", "params": "[1]"}, "params", "param.NAME"),
        ({"cron": "@daily", "task": "T; rm -rf /"}, "task", "correct task"),
        ({"cron": "@daily", "task": "T", "date_format": "YYYY"}, "date_format", "%"),
        (  # would send the run, with its token, to another server
            {"cron": "@daily", "task": "T", "param.scheduler_url": "http://x:1"},
            "param.scheduler_url",
            "give the task's parameter another name",
        ),
        (
            {"cron": "@daily", "task": "T", "params": '{"work": 9}'},
            "param.work",
            "nbflow run's own options",
        ),
        (
            {"cron": "@daily", "task": "T", "date_param": "retcode_task_failed"},
            "date_param",
            "another name",
        ),
    ],
)
def test_parse_errors_name_the_schedule_the_key_and_the_fix(
    options: dict[str, str], key: str, fix: str
) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse("nightly", options, "[schedule.nightly] in nbflow.toml")

    message = str(raised.value)
    assert message.startswith(f"[schedule.nightly] in nbflow.toml {key}: invalid value")
    assert "Expected " in message
    assert fix in message


def test_parse_refuses_a_name_that_is_no_path_segment() -> None:
    with pytest.raises(ScheduleError, match="rename the schedule"):
        parse("../x", {"cron": "@daily", "task": "T"}, "the schedule sent")


def test_parse_refuses_cwd_from_the_api() -> None:
    with pytest.raises(ScheduleError, match="declare the schedule in the server's"):
        parse("x", {"cron": "@daily", "task": "T", "cwd": "/tmp"}, "api", source="api")


@pytest.mark.parametrize(
    ("cron", "fire", "value"),
    [
        ("0 2 * * *", "2024-01-02T02:00:00", "2024-01-01"),  # the day that ended
        ("@daily", "2024-03-01T00:00:00", "2024-02-29"),
        ("0 * * * *", "2024-01-01T00:00:00", "2023-12-31T23"),
        ("*/15 * * * *", "2024-01-01T10:15:00", "2024-01-01T1000"),
        ("@monthly", "2024-02-01T00:00:00", "2024-01-01"),
    ],
)
def test_interval_value_is_the_interval_that_just_ended(
    cron: str, fire: str, value: str
) -> None:
    schedule = Schedule("s", cron, "T")

    assert schedule.interval_value(at(fire)) == value


def test_interval_value_with_a_format_and_a_timezone() -> None:
    schedule = Schedule(
        "s", "0 2 * * *", "T", date_format="%Y%m%d", timezone="America/New_York"
    )

    assert schedule.interval_value(at("2024-01-02T07:00:00")) == "20240101"
    assert schedule.next_fire(at("2024-01-02T07:00:00")) == at("2024-01-03T07:00:00")
    assert schedule.latest_fire(at("2024-01-02T06:59:59")) == at("2024-01-01T07:00:00")


def test_run_command_passes_values_as_single_arguments() -> None:
    schedule = Schedule(
        "s", "@daily", "Report", params=(("note", "a b; $(x) --flag"),),
        date_param="run_day", executor="threads", workers=3,
    )  # fmt: skip

    command = run_command(schedule, "2024-01-01", "http://127.0.0.1:9", "py")

    assert command[:5] == [
        "py",
        "-m",
        "nbflow",
        "run",
        "--scheduler-url=http://127.0.0.1:9",
    ]
    assert command[-3:] == ["Report", "--run-day=2024-01-01", "--note=a b; $(x) --flag"]
    assert command[10:12] == ["--executor", "threads"]
    assert not any("token" in part.lower() for part in command)


def test_nbflow_server_refuses_a_bad_schedule_before_listening(tmp_path: Path) -> None:
    (tmp_path / "nbflow.toml").write_text(
        '[schedule.nightly]\ncron = "0 2 * *"\ntask = "Report"\n'
    )

    done = subprocess.run(
        [sys.executable, "-m", "nbflow", "server", "--port", "0",
         "--db", f"sqlite:///{tmp_path / 's.db'}", "--token", "t0123456789"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert "[schedule.nightly] in " in done.stderr
    assert "nbflow.toml cron: invalid value (got '0 2 * *')" in done.stderr
    assert "Fix: correct the expression" in done.stderr
