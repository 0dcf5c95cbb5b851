from __future__ import annotations

import os
import signal
from pathlib import Path

from nbflow.core.pidfile import acquire_for, get_info, getpcmd


def test_getpcmd_reads_a_process_command_line() -> None:
    assert getpcmd(os.getpid()) != ""
    assert getpcmd(2**22 + 12345) == ""


def test_acquire_for_takes_a_free_slot_and_records_this_process(tmp_path) -> None:
    pid, _command, pid_file = get_info(str(tmp_path))

    assert acquire_for(str(tmp_path)) is True

    assert Path(pid_file).read_text().split() == [str(pid)]
    assert Path(pid_file).stat().st_mode & 0o700 == 0o700


def test_acquire_for_refuses_when_the_slots_are_taken(tmp_path) -> None:
    pid, _command, pid_file = get_info(str(tmp_path))
    Path(pid_file).write_text(f"{pid}\n")

    assert acquire_for(str(tmp_path)) is False
    assert acquire_for(str(tmp_path), num_available=2) is True


def test_acquire_for_forgets_processes_that_are_gone(tmp_path) -> None:
    pid, _command, pid_file = get_info(str(tmp_path))
    Path(pid_file).write_text(f"{2**22 + 12345}\n")

    assert acquire_for(str(tmp_path)) is True
    assert Path(pid_file).read_text().split() == [str(pid)]


def test_acquire_for_with_kill_signal_signals_holders_and_takes_over(tmp_path) -> None:
    pid, _command, pid_file = get_info(str(tmp_path))
    Path(pid_file).write_text(f"{pid}\n")
    previous = signal.signal(signal.SIGUSR2, lambda *_: None)
    try:
        assert acquire_for(str(tmp_path), kill_signal=signal.SIGUSR2) is True
    finally:
        signal.signal(signal.SIGUSR2, previous)
