"""Task claims between threads of one process (flock conflicts across open files)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import nbflow
from nbflow.core.claim import (
    MARKER_DAYS,
    _prune_markers,
    claim,
    claim_path,
    mark_completed,
)
from nbflow.core.lock import ENV_NO_LOCK, ENV_PID_DIR, ENV_RUN_STARTED


class Messages:
    """A reporter that keeps the status messages."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, task_id: str, kind: str, value: Any) -> None:
        assert kind == "status_message"
        self.seen.append(str(value))


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV_PID_DIR, str(tmp_path / "locks"))
    monkeypatch.delenv(ENV_NO_LOCK, raising=False)
    monkeypatch.delenv(ENV_RUN_STARTED, raising=False)
    return tmp_path


def _task(out: Path) -> nbflow.Task:
    class ClaimTestOutput(nbflow.Task):
        def output(self) -> nbflow.LocalTarget:
            return nbflow.LocalTarget(str(out / "made.txt"))

    return ClaimTestOutput()


def _contend(task: nbflow.Task, *, holder_writes: bool) -> tuple[bool, Messages]:
    """Hold the claim in a thread while this thread asks for it; return what it got."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with claim(task):
            holding.set()
            release.wait(10)
            if holder_writes:
                Path(task.output().path).write_text("made by the holder")
                mark_completed(claim_path(task))

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    messages = Messages()
    threading.Timer(0.3, release.set).start()
    with claim(task, messages) as done_elsewhere:
        got = done_elsewhere
    holder.join(10)
    return got, messages


def test_claim_waits_for_holder_then_reports_task_done_elsewhere(out: Path) -> None:
    got, messages = _contend(_task(out), holder_writes=True)

    assert got is True
    me = f"pid {os.getpid()} on host {socket.gethostname()}"
    assert messages.seen[0] == f"waiting for {me}, which is running it"
    assert messages.seen[-1].startswith(f"done by pid {os.getpid()}")


def test_claim_runs_task_when_holder_ended_without_output(out: Path) -> None:
    got, messages = _contend(_task(out), holder_writes=False)

    assert got is False
    assert messages.seen[-1].endswith("ended without completing it")


def test_claim_counts_a_task_completed_since_run_started_as_done(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(out)
    monkeypatch.setenv(ENV_RUN_STARTED, repr(time.time() - 5))
    with claim(task):  # another run, finishing after this one began
        (out / "made.txt").write_text("made by another run")
        mark_completed(claim_path(task))

    with claim(task) as done_elsewhere:
        assert done_elsewhere is True


def test_claim_runs_a_forced_rerun_of_an_output_written_just_before(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(out)
    with claim(task):  # an earlier run of this process
        (out / "made.txt").write_text("made by the earlier run")
        mark_completed(claim_path(task))
    (out / "made.txt").write_text("edited by hand")
    monkeypatch.setenv(ENV_RUN_STARTED, repr(time.time()))

    with claim(task) as done_elsewhere:
        assert done_elsewhere is False


def test_claim_reruns_outputs_older_than_the_run(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(out)
    with claim(task):
        (out / "made.txt").write_text("made long ago")
        mark_completed(claim_path(task))
    monkeypatch.setenv(ENV_RUN_STARTED, repr(time.time() + 5))

    with claim(task) as done_elsewhere:
        assert done_elsewhere is False
        assert claim_path(task).exists()

    assert not claim_path(task).exists()


def test_claim_path_none_without_outputs_in_memory_or_with_no_lock(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class InMemory(nbflow.Task):
        def output(self) -> nbflow.MemoryTarget:
            return nbflow.MemoryTarget("x")

    class Nothing(nbflow.Task):
        pass

    assert claim_path(InMemory()) is None
    assert claim_path(Nothing()) is None
    assert claim_path(_task(out)) is not None
    monkeypatch.setenv(ENV_NO_LOCK, "1")
    assert claim_path(_task(out)) is None


def test_claim_markers_older_than_a_week_are_pruned(out: Path) -> None:
    claims = out / "claims"
    claims.mkdir()
    old, fresh = claims / "old.done", claims / "fresh.done"
    for marker in (old, fresh):
        marker.write_text("1 host 0.0\n")
    week_ago = time.time() - MARKER_DAYS * 86_400 - 60
    os.utime(old, (week_ago, week_ago))

    _prune_markers(claims)

    assert sorted(path.name for path in claims.iterdir()) == ["fresh.done"]
