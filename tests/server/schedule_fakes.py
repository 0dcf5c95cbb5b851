"""Fakes for the trigger's tests: a clock the test sets, a launcher that records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from nbflow.server.schedules import Schedule


def at(text: str) -> float:
    """Seconds since the epoch of an ISO time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


@dataclass
class FakeClock:
    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeRun:
    pid: int
    code: int | None = None

    def poll(self) -> int | None:
        return self.code

    def wait(self, timeout: float | None = None) -> int:
        del timeout
        return -15 if self.code is None else self.code


@dataclass
class RecordingLauncher:
    """Records each launch; runs end when the test says so."""

    launched: list[tuple[str, str]] = field(default_factory=list)
    runs: list[FakeRun] = field(default_factory=list)
    fail_with: OSError | None = None

    def launch(self, schedule: Schedule, value: str, log_path: Path) -> FakeRun:
        del log_path
        if self.fail_with is not None:
            raise self.fail_with
        self.launched.append((schedule.name, value))
        run = FakeRun(pid=100_000 + len(self.runs))
        self.runs.append(run)
        return run

    def stop(self, run: FakeRun, grace: float) -> None:
        del grace
        if run.code is None:
            run.code = -15

    def finish_all(self, code: int = 0) -> None:
        for run in self.runs:
            if run.code is None:
                run.code = code
