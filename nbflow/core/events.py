"""The scheduler's vocabulary: statuses, events (in), actions (out), notifications.

Everything here is a frozen, slotted dataclass of plain values (strings, numbers,
tuples), so it pickles, serialises to JSON for the server, and never holds a live Task.

- A **SchedulerEvent** is something that happened, fed to ``Scheduler.handle``; names
  are past tense (``TaskSucceeded``). Every event carries ``at``, the time it happened:
  the scheduler has no clock of its own. (``nbflow.Event`` is another thing: Luigi's
  names for task handler events, in :mod:`nbflow.core.task`.)
- An **Action** is what the scheduler asks its shell to do; names are imperative
  (``RunTask``, ``Notify``).
- A **Notification** is one entry on the ordered event stream that widgets, progress
  displays, the server's live feed and history stores subscribe to. ``seq`` orders
  them; a listener that sees seq jump knows it missed something.

Notifications and actions are immutable ``NamedTuple`` s rather than frozen dataclasses:
the scheduler makes several per task, and a NamedTuple is built about three times faster,
which is measurable on graphs of 100,000 tasks.

Imports: stdlib only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Status(str, enum.Enum):
    """Luigi's task states."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    BATCH_RUNNING = "BATCH_RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    DISABLED = "DISABLED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    UPSTREAM_DISABLED = "UPSTREAM_DISABLED"
    #: Stopped while running (Ctrl-C, ``cancel()``): neither done nor failed.
    CANCELLED = "CANCELLED"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed task is retried, and when it is disabled instead."""

    #: Failures within ``disable_window`` seconds that disable the task.
    retry_count: int = 999_999_999
    #: Seconds after a failure before the task may run again.
    retry_delay: float = 900.0
    #: Seconds over which failures are counted.
    disable_window: float = 3600.0
    #: Disable a task still failing this many seconds after its first failure.
    disable_hard_timeout: float | None = None


_DEFAULT_RETRY = RetryPolicy()


class TaskSpec(NamedTuple):
    """What the scheduler knows of one task: identity, edges and scheduling hints."""

    task_id: str
    family: str
    #: Serialized public parameters, for display.
    params: tuple[tuple[str, str], ...] = ()
    deps: tuple[str, ...] = ()
    #: Already complete when discovered: never run.
    complete: bool = False
    #: False for an incomplete ExternalTask: it waits for something outside.
    runnable: bool = True
    priority: float = 0
    resources: tuple[tuple[str, int], ...] = ()
    retry: RetryPolicy = _DEFAULT_RETRY
    #: Tasks with equal keys may run together as one batch (None: not batchable).
    batch_key: str | None = None
    max_batch_size: float = float("inf")
    #: Set when completeness or requires() raised: the task can never run.
    broken: str | None = None
    disabled: bool = False
    #: Why the completeness check decided as it did (e.g. "output missing").
    reason: str = ""
    #: Only the workers that added it may run it, never an assistant: its class is
    #: defined in ``__main__`` (a notebook, a script), which no other process imports.
    private: bool = False


# --- Scheduler events (in) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerStarted:
    """A worker can run ``slots`` tasks at once (sent again when that changes)."""

    worker_id: str
    slots: int
    at: float = 0.0
    #: An assistant may run any task, not only those it added (Luigi's assistant).
    assistant: bool = False


@dataclass(frozen=True, slots=True)
class WorkerStopped:
    """A worker went away; whatever it was running has failed."""

    worker_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TasksDiscovered:
    """Tasks (and their edges) were found by expanding ``requires()``."""

    specs: tuple[TaskSpec, ...]
    at: float = 0.0
    #: Ids of the tasks the user asked for.
    roots: tuple[str, ...] = ()
    #: The worker that found them; it becomes one of their owners. "" (the embedded
    #: case): the tasks get no owner, and any worker may run them.
    worker_id: str = ""


@dataclass(frozen=True, slots=True)
class TaskSucceeded:
    """``run()`` returned and every output exists."""

    task_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TaskFailed:
    """``run()`` raised, its outputs were missing, it timed out or its process died."""

    task_id: str
    error: str = ""
    traceback: str = ""
    at: float = 0.0
    #: "failure", "timeout", "process" or "cancelled" (the task becomes CANCELLED).
    kind: str = "failure"


@dataclass(frozen=True, slots=True)
class DependenciesAdded:
    """A running task yielded requirements that are not complete yet."""

    task_id: str
    deps: tuple[str, ...]
    specs: tuple[TaskSpec, ...] = ()
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ProgressReported:
    """A running task called ``set_progress_percentage``."""

    task_id: str
    percentage: float
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class StatusMessageSet:
    """A running task called ``set_status_message``."""

    task_id: str
    message: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TrackingUrlSet:
    """A running task called ``set_tracking_url``."""

    task_id: str
    url: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class ResourcesDecreased:
    """A running task gave back part of its resources."""

    task_id: str
    amounts: tuple[tuple[str, int], ...]
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RunBegan:
    """A worker starts running what was added to the scheduler."""

    run_id: str
    roots: tuple[str, ...] = ()
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RunEnded:
    """A run is over: "succeeded", "failed" or "cancelled"."""

    run_id: str
    state: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: failed tasks whose retry delay is over become pending again."""

    at: float


# --- Administration (the server's API, luigid's admin calls) ----------------------


@dataclass(frozen=True, slots=True)
class TaskHandedBack:
    """A RUNNING task goes back to PENDING without counting a failure.

    Sent when its worker shuts down cleanly or, after a server restart, does not list
    it among the tasks it runs.
    """

    task_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class FailuresForgiven:
    """A FAILED task becomes PENDING at once, its failure count reset."""

    task_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TaskReenabled:
    """A DISABLED (or FAILED) task becomes PENDING, its failure count reset."""

    task_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TaskMarkedDone:
    """Someone declared a task DONE (unless it is running): its dependents may run."""

    task_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class SchedulerPaused:
    """Nothing is dispatched until ``SchedulerResumed``; running tasks carry on."""

    at: float = 0.0


@dataclass(frozen=True, slots=True)
class RunCancelRequested:
    """Ask ``worker_id`` to cancel its run (ignored for an unknown worker).

    It is given nothing more, learns of it in its next reply (``cancel``), and stops as
    on Ctrl-C.
    """

    worker_id: str
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class SchedulerResumed:
    """Dispatching starts again after ``SchedulerPaused``."""

    at: float = 0.0


@dataclass(frozen=True, slots=True)
class TasksPruned:
    """Forget finished tasks (DONE, DISABLED, FAILED) last changed before ``before``.

    A task is kept while anything that depends on it is kept, so no remaining task
    ever refers to a forgotten one.
    """

    before: float
    at: float = 0.0


#: What ``Scheduler.handle`` accepts; each member has one handler in the scheduler.
SchedulerEvent = (
    WorkerStarted
    | WorkerStopped
    | TasksDiscovered
    | TaskSucceeded
    | TaskFailed
    | DependenciesAdded
    | ProgressReported
    | StatusMessageSet
    | TrackingUrlSet
    | ResourcesDecreased
    | RunBegan
    | RunEnded
    | Tick
    | TaskHandedBack
    | FailuresForgiven
    | TaskReenabled
    | TaskMarkedDone
    | SchedulerPaused
    | SchedulerResumed
    | TasksPruned
    | RunCancelRequested
)


# --- Notifications (the event stream) ------------------------------------------


class TaskAdded(NamedTuple):
    """A task joined the graph, with its starting status."""

    seq: int
    at: float
    task_id: str
    family: str
    params: tuple[tuple[str, str], ...]
    deps: tuple[str, ...]
    status: Status
    #: True when its outputs existed before this run.
    complete_before: bool = False
    reason: str = ""


class TaskStatusChanged(NamedTuple):
    """A task moved from ``previous`` to ``status``."""

    seq: int
    at: float
    task_id: str
    status: Status
    previous: Status
    worker_id: str | None = None
    error: str = ""
    traceback: str = ""
    #: For UPSTREAM_* statuses: the task whose failure caused it.
    cause: str = ""
    #: When a run ends: the last lines the task printed or logged.
    output: tuple[str, ...] = ()
    #: When it failed: the traceback with every frame (``traceback`` has the user's).
    full_traceback: str = ""


class TaskOutput(NamedTuple):
    """A running task printed or logged: the tail of its output so far.

    Sent by the worker, not the scheduler, at most twice a second per task, and only
    for tasks that write something. ``seq`` repeats that of the notification before
    it: an output snapshot adds nothing the stream's order depends on.
    """

    seq: int
    at: float
    task_id: str
    lines: tuple[str, ...]


class TaskProgressed(NamedTuple):
    """A running task's progress changed."""

    seq: int
    at: float
    task_id: str
    percentage: float


class TaskMessage(NamedTuple):
    """A running task set its status message."""

    seq: int
    at: float
    task_id: str
    message: str


class TaskTrackingUrl(NamedTuple):
    """A running task set its tracking URL."""

    seq: int
    at: float
    task_id: str
    url: str


class RunStarted(NamedTuple):
    """A run began: which tasks were asked for, and how many tasks the graph has."""

    seq: int
    at: float
    run_id: str
    roots: tuple[str, ...]
    total: int


class RunFinished(NamedTuple):
    """A run ended, with its state and the number of tasks in each status."""

    seq: int
    at: float
    run_id: str
    state: str
    counts: tuple[tuple[str, int], ...]


class PauseChanged(NamedTuple):
    """The scheduler was paused (nothing is dispatched) or resumed."""

    seq: int
    at: float
    paused: bool


class RunCancelling(NamedTuple):
    """``worker_id`` was asked to cancel its run (``RunCancelRequested``)."""

    seq: int
    at: float
    worker_id: str


class TasksRemoved(NamedTuple):
    """The scheduler forgot these finished tasks (``TasksPruned``)."""

    seq: int
    at: float
    task_ids: tuple[str, ...]


Notification = (
    TaskAdded
    | TaskStatusChanged
    | TaskProgressed
    | TaskMessage
    | TaskTrackingUrl
    | TaskOutput
    | RunStarted
    | RunFinished
    | PauseChanged
    | TasksRemoved
    | RunCancelling
)


# --- Actions (out) ---------------------------------------------------------------


class RunTask(NamedTuple):
    """Run this task on this worker (``batch`` lists every member of a batch run)."""

    task_id: str
    worker_id: str
    batch: tuple[str, ...] = ()


class Notify(NamedTuple):
    """Publish this notification on the event stream."""

    notification: Notification


Action = RunTask | Notify


class Listener(Protocol):
    """A subscriber of the event stream (widgets, progress displays, history)."""

    def on_notification(self, notification: Notification) -> None:
        """Receive one notification, in ``seq`` order."""
