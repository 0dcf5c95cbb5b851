"""What passes between the scheduler host and its callers: calls, replies, errors.

The host (:mod:`nbflow.server.host`) takes :class:`Call` s and :class:`Read` s from
any thread and answers each through its future; :class:`Reply` is what a worker's call
gets back. Kept apart from the host so the host module holds only its thread's work.

Imports: stdlib, nbflow.core.{errors, events}.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.errors import NbflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

    from nbflow.core.events import Action, Notification, RunTask, SchedulerEvent
    from nbflow.core.scheduler import Scheduler


class EventRejectedError(NbflowError, ValueError):
    """An event sent to the server cannot be applied (the HTTP API answers 4xx)."""

    def __init__(self, event: str, problem: str, fix: str) -> None:
        super().__init__(event, problem, fix)
        self.event, self.problem, self.fix = event, problem, fix

    def __str__(self) -> str:
        return f"nbflow server: {self.problem} (got {self.event}). Fix: {self.fix}."


class HostStoppedError(NbflowError, RuntimeError):
    """The scheduler host is not running (not started, stopped, or its store failed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"nbflow server: the scheduler is not running ({self.reason}). Expected a "
            "started server. Fix: start it again (nbflow server); its state is "
            "restored from the database."
        )


@dataclass(frozen=True)
class Reply:
    """What a worker's call gets back."""

    #: Tasks to start now, for the calling worker.
    actions: tuple[RunTask, ...] = ()
    #: Notifications after the call's ``since`` (about the worker's tasks).
    notifications: tuple[Notification, ...] = ()
    #: Whether the worker should keep going (``Scheduler.has_work_for``).
    has_work: bool = False
    #: The last notification seq the scheduler made.
    seq: int = 0
    #: False when the server does not know the worker (new, or declared gone):
    #: it should announce itself again with ``WorkerStarted``.
    known_worker: bool = True
    #: Events dropped as stale (reports about tasks the worker no longer runs).
    dropped: tuple[str, ...] = ()
    #: The worker was asked to cancel its run (``RunCancelRequested``): it should stop.
    cancel: bool = False
    #: With ``echo``: every action the events made, in order (any worker's runs too).
    applied: tuple[Action, ...] = ()


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the host sees it."""

    worker_id: str
    slots: int
    assistant: bool
    last_seen: float
    running: tuple[str, ...]
    #: Asked to cancel its run, and not stopped yet.
    cancelling: bool = False


@dataclass
class Call:
    """A caller's events for the host thread, answered through ``future``."""

    worker_id: str | None
    events: Sequence[SchedulerEvent]
    running: Collection[str] | None
    since: int | None
    #: apply the events exactly as given and answer every action they made
    echo: bool = False
    future: Future[Reply] = field(default_factory=Future)


@dataclass
class Read:
    """A read-only query to run on the host thread, answered through ``future``."""

    fn: Callable[[Scheduler], Any]
    future: Future[Any] = field(default_factory=Future)


@dataclass
class HostStats:
    """Counters for metrics (read from any thread; written by the host thread)."""

    calls: int = 0
    events: int = 0
    batches: int = 0
    #: Seconds the last batch took to apply and commit.
    last_batch_seconds: float = 0.0
    #: Recent batch durations, for the metrics' histogram (drained by the reader).
    batch_seconds: list[float] = field(default_factory=list)
    restored_events: int = 0
    restore_seconds: float = 0.0


@dataclass
class Answer:
    """What the host thread gathers for one call while applying its batch."""

    call: Call
    dropped: list[str]
    known: list[str]
    applied: list[Action] = field(default_factory=list)
    error: NbflowError | None = None


__all__ = [
    "Answer",
    "Call",
    "EventRejectedError",
    "HostStats",
    "HostStoppedError",
    "Read",
    "Reply",
    "WorkerInfo",
]
