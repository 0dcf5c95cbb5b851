from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from nbflow.core.executor import (
    Interruptible,
    ProcessDiedError,
    ProcessExecutor,
    ThreadExecutor,
    make_executor,
    process_died,
)


def _spin(started: threading.Event, ran: list[str], name: str) -> str:
    started.set()
    ran.append(name)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "finished"


def test_thread_executor_interrupt_stops_running_and_queued_calls() -> None:
    pool = ThreadExecutor(1)
    started, ran = threading.Event(), []
    running = pool.submit(_spin, started, ran, "running")
    queued = pool.submit(_spin, threading.Event(), ran, "queued")
    assert started.wait(5)

    interrupted = pool.interrupt()

    assert interrupted == 1  # the queued call is stopped when it starts
    with pytest.raises(KeyboardInterrupt):
        running.result(5)
    with pytest.raises(KeyboardInterrupt):
        queued.result(5)
    assert ran == ["running"]
    assert pool.busy == 0
    assert pool.submit(pow, 3, 2).result(5) == 9  # later calls run as usual
    pool.shutdown()


def test_make_executor_threads_can_be_interrupted() -> None:
    pool = make_executor("threads", 2)

    assert isinstance(pool, Interruptible)
    pool.shutdown()


def test_process_executor_records_how_a_killed_process_died() -> None:
    pool = ProcessExecutor(1)
    pid = pool.submit(os.getpid).result(30)

    seen: list[object] = []

    killed = pool.submit(os.kill, pid, signal.SIGKILL)
    killed.add_done_callback(lambda _: seen.append(pool.deaths))  # as the worker does

    with pytest.raises(BrokenProcessPool):
        killed.result(30)
    pool.shutdown()  # waits for the pool's thread, which ran the callbacks
    assert seen == [{pid: -signal.SIGKILL}]


def test_process_died_says_which_process_died_and_how() -> None:
    own = process_died("Big(n=1)", 41, {41: -9}, {41: "Big(n=1)"})
    other = process_died("Small()", 42, {41: -9}, {41: "Big(n=1)", 42: "Small()"})

    assert isinstance(own, ProcessDiedError)
    assert str(own).startswith(
        "Big(n=1): its process died while it ran (got pid 41 killed by signal SIGKILL)."
    )
    assert "Expected the process to live until run() returns." in str(own)
    assert "Fix: find what stopped it" in str(own)
    assert str(other).startswith(
        "Small(): stopped because another process of the pool died (got the process "
        "running Big(n=1) (pid 41) killed by signal SIGKILL)."
    )
    assert "Fix: fix the task whose process died" in str(other)


def test_process_died_of_an_exit_code_or_an_unknown_process() -> None:
    exited = process_died("A()", 7, {7: 3}, {})
    unknown = process_died("A()", None, {8: -15}, {})

    assert exited.got == "pid 7 exited with code 3"
    assert unknown.got == "a process of the pool (pid 8) killed by signal SIGTERM"
