"""A run's bounded log: bytes kept, characters dropped, offset deltas; and its streaming."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

import nbflow
from nbflow.core import capture, remote
from nbflow.core.capture import (
    LOG_MAX_BYTES,
    CapturedOutput,
    LogDelta,
    LogText,
    capturing,
    installed,
)
from nbflow.core.config import Settings, use_settings
from nbflow.core.execution import execute
from nbflow.core.remote import ServerScheduler

if TYPE_CHECKING:
    import pytest

MEGABYTE = 1024 * 1024


def _five_megabytes() -> list[str]:
    """5 MB of numbered 1 KB lines (each 1023 characters and a newline)."""
    return [f"{n:08d}".ljust(1023, ".") + "\n" for n in range(5 * 1024)]


def test_log_keeps_the_last_megabyte_by_default_and_counts_what_it_dropped() -> None:
    output = CapturedOutput("A_1")
    lines = _five_megabytes()

    for line in lines:
        output.write(line)

    log = output.log()
    assert LOG_MAX_BYTES == MEGABYTE
    assert log.text == "".join(lines[-1024:])
    assert log.dropped == 4 * MEGABYTE
    assert log.written == 5 * MEGABYTE
    assert output.lines()[-1] == lines[-1].rstrip("\n")
    assert len(output.lines()) == capture.MAX_LINES


def test_log_of_one_huge_write_keeps_its_end() -> None:
    output = CapturedOutput("A_1", max_bytes=10)

    output.write("x" * 100 + "0123456789")

    assert output.log() == LogText("0123456789", 100, 110)


def test_log_limit_counts_utf8_bytes_and_never_splits_a_character() -> None:
    output = CapturedOutput("A_1", max_bytes=6)

    output.write("aé€é")  # 1 + 2 + 3 + 2 bytes

    log = output.log()
    assert log.text == "€é"  # 5 bytes: the cut fell inside the first "é"
    assert log.written == 4
    assert log.dropped + len(log.text) == log.written


def test_log_limit_comes_from_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture._CAPTURE, "max_bytes", LOG_MAX_BYTES)

    with installed("off", max_bytes=5):
        output = CapturedOutput("A_1")
    output.write("abcdefgh")

    assert output.log() == LogText("defgh", 3, 8)


def test_log_deltas_hand_out_each_character_once_with_its_offset() -> None:
    output = CapturedOutput("A_1")

    output.write("one\n")
    first = output.delta()
    nothing = output.delta()
    output.write("two")
    output.write("\n")
    second = output.delta()

    assert first == LogDelta(0, "one\n")
    assert nothing is None
    assert second == LogDelta(4, "two\n")


def test_log_delta_after_more_than_the_log_keeps_starts_after_a_gap() -> None:
    output = CapturedOutput("A_1", max_bytes=4)
    output.write("ab")
    assert output.delta() == LogDelta(0, "ab")

    output.write("cdefghij")

    assert output.delta() == LogDelta(6, "ghij")


def test_log_of_a_task_that_prints_nothing_is_never_made() -> None:
    output = CapturedOutput("A_1")

    assert output.log() == LogText("", 0, 0)
    assert output.delta() is None
    assert output.lines() == ()
    assert output._log is None


def test_log_small_writes_are_joined_into_chunks() -> None:
    output = CapturedOutput("A_1")

    for _ in range(10_000):
        output.write("x")

    assert output._log is not None
    assert len(output._log.chunks) <= 3
    assert output.log().text == "x" * 10_000


class LogQuietTask(nbflow.Task):
    def complete(self) -> bool:
        return False

    def run(self) -> None:
        pass


class LogChattyTask(nbflow.Task):
    def complete(self) -> bool:
        return False

    def run(self) -> None:
        print("hello")  # noqa: T201
        sys.stderr.write("warned\n")


def test_execute_puts_the_last_delta_on_the_outcome() -> None:
    outcome = execute(LogChattyTask(), None, "capture")

    assert outcome.output == ("hello", "warned")
    assert outcome.log == LogDelta(0, "hello\nwarned\n")


def test_execute_of_a_quiet_task_carries_no_log() -> None:
    outcome = execute(LogQuietTask(), None, "capture")

    assert outcome.output == ()
    assert outcome.log is None


def test_capturing_a_live_report_carries_the_delta_since_the_last() -> None:
    reports: list[capture.LiveOutput] = []
    arrived = threading.Event()

    def report(_task_id: str, _kind: str, live: capture.LiveOutput) -> None:
        reports.append(live)
        arrived.set()

    with capturing("A_1", "capture", report) as output:
        print("first")  # noqa: T201
        assert arrived.wait(30)
        print("second")  # noqa: T201
    assert output is not None

    assert reports[0].delta == LogDelta(0, "first\n")
    assert output.delta() == LogDelta(6, "second\n")


# --- the scheduler server's client ------------------------------------------------------


def test_server_client_joins_a_tasks_deltas_in_offset_order() -> None:
    client = ServerScheduler("http://127.0.0.1:9", worker_id="w")

    client.add_log("A_1", LogDelta(4, "two\n"))
    client.add_log("A_1", LogDelta(0, "one\n"))
    client.add_log("B_1", LogDelta(10, "b"))
    client.add_log("A_1", LogDelta(20, "after a gap"))

    assert client._take_logs() == [
        {"task_id": "A_1", "offset": 0, "text": "one\ntwo\n"},
        {"task_id": "A_1", "offset": 20, "text": "after a gap"},
        {"task_id": "B_1", "offset": 10, "text": "b"},
    ]
    assert client._take_logs() == []


def test_server_client_keeps_at_most_the_log_limit_waiting() -> None:
    settings = Settings.from_mapping({"worker": {"log_max_bytes": 10}})
    with use_settings(settings):
        client = ServerScheduler("http://127.0.0.1:9", worker_id="w")

    client.add_log("A_1", LogDelta(0, "0123456789"))
    client.add_log("A_1", LogDelta(10, "abcdef"))

    assert client._take_logs() == [
        {"task_id": "A_1", "offset": 6, "text": "6789abcdef"}
    ]


def test_server_client_leaves_logs_beyond_a_calls_share_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remote, "LOGS_PER_CALL", 5)
    client = ServerScheduler("http://127.0.0.1:9", worker_id="w")
    client.add_log("A_1", LogDelta(0, "aaaaaa"))
    client.add_log("B_1", LogDelta(0, "bb"))

    first, second = client._take_logs(), client._take_logs()

    assert first == [{"task_id": "A_1", "offset": 0, "text": "aaaaaa"}]
    assert second == [{"task_id": "B_1", "offset": 0, "text": "bb"}]
