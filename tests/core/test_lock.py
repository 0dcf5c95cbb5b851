"""The command lock in one process (separate open files conflict like processes)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from nbflow.core.cmdline import Invocation, UsageError
from nbflow.core.config import Settings, use_settings
from nbflow.core.lock import (
    ENV_NO_LOCK,
    ENV_PID_DIR,
    AlreadyRunningExit,
    LockDirError,
    LockOptions,
    command_key,
    command_lock,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ARGV = ["--module", "pipeline", "Root"]


@pytest.fixture
def locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(ENV_PID_DIR, str(tmp_path / "locks"))
    monkeypatch.chdir(tmp_path)
    with use_settings(Settings.from_mapping({"retcode": {"already_running": 3}})):
        yield tmp_path / "locks"


def test_command_lock_second_identical_command_exits_already_running(
    locks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with command_lock(ARGV, Invocation()):
        with (
            pytest.raises(AlreadyRunningExit) as exit_info,
            command_lock(ARGV, Invocation()),
        ):
            pytest.fail("entered a lock that is held")

        error = capsys.readouterr().err
        with command_lock([*ARGV, "--other"], Invocation()):
            pass  # another command

    assert exit_info.value.code == 3
    assert error.startswith(
        f"nbflow: already running: the same command runs as pid {os.getpid()}"
    )
    assert "Fix: wait for it to finish, or pass --take-lock" in error
    with command_lock(ARGV, Invocation()):
        pass  # released


def test_command_lock_size_lets_that_many_run(locks: Path) -> None:
    sized = Invocation(options={"lock_size": "2"})

    with (
        command_lock(ARGV, sized),
        command_lock(ARGV, sized),
        pytest.raises(AlreadyRunningExit),
        command_lock(ARGV, sized),
    ):
        pass


def test_command_lock_no_lock_takes_nothing_and_turns_claims_off(locks: Path) -> None:
    free = Invocation(options={"no_lock": True})

    with command_lock(ARGV, Invocation()), command_lock(ARGV, free):
        assert os.environ[ENV_NO_LOCK] == "1"

    assert ENV_NO_LOCK not in os.environ


def test_command_lock_ignores_lock_file_of_dead_process(locks: Path) -> None:
    with command_lock(ARGV, Invocation()):
        pass
    (slot,) = locks.glob("*.0.pid")
    slot.write_text("999999999\nelsewhere\n0\nusr1\n")

    with command_lock(ARGV, Invocation()):
        assert slot.read_text().startswith(f"{os.getpid()}\n")


def test_lock_options_command_line_wins_over_core_section(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_PID_DIR, raising=False)
    settings = Settings.from_mapping(
        {"core": {"lock_size": 3, "no_lock": True, "lock_pid_dir": "/from/config"}}
    )

    from_config = LockOptions.resolve({}, settings)
    given = LockOptions.resolve({"lock_size": "5", "lock_pid_dir": "/given"}, settings)

    assert from_config == LockOptions("/from/config", 3, no_lock=True)
    assert (given.size, given.pid_dir) == (5, "/given")


def test_lock_options_bad_lock_size_says_how_to_fix() -> None:
    with pytest.raises(UsageError) as error:
        LockOptions.resolve({"lock_size": "0"}, Settings.from_mapping({}))

    assert str(error.value) == (
        "command line: --lock-size must be a whole number of at least 1 (got '0'). "
        "Fix: write --lock-size 2 to let two runs of the command work at once."
    )


def test_command_lock_unusable_dir_is_a_lock_dir_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    invocation = Invocation(options={"lock_pid_dir": str(blocker / "locks")})

    with pytest.raises(LockDirError) as error, command_lock(ARGV, invocation):
        pass

    assert str(error.value).startswith("--lock-pid-dir: cannot use the lock directory")
    assert "Expected a directory that only you can write. Fix: pass" in str(error.value)


def test_command_key_ignores_take_lock_and_depends_on_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = command_key(ARGV, Invocation())
    taking = command_key([*ARGV, "--take-lock"], Invocation())
    monkeypatch.chdir(tmp_path)

    assert here == taking
    assert command_key(ARGV, Invocation()) != here
