"""The scheduler's per-task record, its moves, and the snapshot it hands out.

``Node`` is mutable and private to one :class:`~nbflow.core.scheduler.Scheduler`;
``TaskInfo`` is the frozen snapshot that queries return. The queues ready nodes wait
in are in :mod:`nbflow.core.scheduler_queue`.

Imports: nbflow.core.events.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from nbflow.core.events import RetryPolicy, Status, TaskSpec

#: Statuses that keep everything downstream from running.
BAD = frozenset(
    {Status.FAILED, Status.DISABLED, Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED}
)
#: The bad statuses that a retry will not cure.
DISABLED_LIKE = frozenset({Status.DISABLED, Status.UPSTREAM_DISABLED})

_STORY_LENGTH = 32


class Move(str, enum.Enum):
    """The scheduler's internal moves; TRANSITIONS maps (status, move) to a status."""

    DISPATCH = "dispatch"
    BATCH = "dispatch-batch"
    SUCCEED = "succeed"
    FAIL = "fail"
    DISABLE = "disable"
    SUSPEND = "suspend-for-dependencies"
    RETRY = "retry"
    UPSTREAM_FAIL = "upstream-failed"
    UPSTREAM_DISABLE = "upstream-disabled"
    RECOVER = "upstream-recovered"
    #: Discovered broken (complete() or requires() raised) or disabled: never runs.
    BREAK = "broken"
    SWITCH_OFF = "disabled"
    CANCEL = "cancelled"
    #: A running task given back without a failure (its worker left or lost it).
    HAND_BACK = "handed-back"
    #: A worker added again a task that had failed, finished or been cancelled.
    READD = "re-added"
    #: A worker added again a task and found it complete.
    FOUND_COMPLETE = "found-complete"
    FORGIVE = "failures-forgiven"
    REENABLE = "re-enabled"
    MARK_DONE = "marked-done"


UNSTARTED = (Status.PENDING, Status.UPSTREAM_FAILED, Status.UPSTREAM_DISABLED)
RUNNING_LIKE = frozenset({Status.RUNNING, Status.BATCH_RUNNING})
#: What a task found complete, or marked done, may have been: anything not running.
CLOSABLE = (*UNSTARTED, Status.FAILED, Status.DISABLED, Status.CANCELLED)
#: What a task added again as incomplete leaves for PENDING.
REOPENABLE = frozenset({Status.FAILED, Status.DONE, Status.CANCELLED})

#: Every legal move: (status before, move) -> status after.
TRANSITIONS: dict[tuple[Status, Move], Status] = {
    (Status.PENDING, Move.DISPATCH): Status.RUNNING,
    (Status.PENDING, Move.BATCH): Status.BATCH_RUNNING,
    (Status.RUNNING, Move.SUCCEED): Status.DONE,
    (Status.BATCH_RUNNING, Move.SUCCEED): Status.DONE,
    (Status.RUNNING, Move.FAIL): Status.FAILED,
    (Status.BATCH_RUNNING, Move.FAIL): Status.FAILED,
    (Status.RUNNING, Move.DISABLE): Status.DISABLED,
    (Status.BATCH_RUNNING, Move.DISABLE): Status.DISABLED,
    (Status.RUNNING, Move.SUSPEND): Status.PENDING,
    (Status.FAILED, Move.RETRY): Status.PENDING,
    (Status.RUNNING, Move.CANCEL): Status.CANCELLED,
    (Status.BATCH_RUNNING, Move.CANCEL): Status.CANCELLED,
    (Status.PENDING, Move.UPSTREAM_FAIL): Status.UPSTREAM_FAILED,
    (Status.PENDING, Move.UPSTREAM_DISABLE): Status.UPSTREAM_DISABLED,
    (Status.UPSTREAM_FAILED, Move.UPSTREAM_DISABLE): Status.UPSTREAM_DISABLED,
    (Status.UPSTREAM_DISABLED, Move.UPSTREAM_FAIL): Status.UPSTREAM_FAILED,
    (Status.UPSTREAM_FAILED, Move.RECOVER): Status.PENDING,
    (Status.UPSTREAM_DISABLED, Move.RECOVER): Status.PENDING,
    # Discovered broken or disabled (after wiring, so maybe already UPSTREAM_*).
    **{(before, Move.BREAK): Status.FAILED for before in UNSTARTED},
    **{(before, Move.SWITCH_OFF): Status.DISABLED for before in UNSTARTED},
    # Added again, and the administration's moves.
    **{(before, Move.HAND_BACK): Status.PENDING for before in RUNNING_LIKE},
    **{(before, Move.READD): Status.PENDING for before in REOPENABLE},
    **{(before, Move.FOUND_COMPLETE): Status.DONE for before in CLOSABLE},
    **{(before, Move.MARK_DONE): Status.DONE for before in CLOSABLE},
    (Status.FAILED, Move.FORGIVE): Status.PENDING,
    (Status.FAILED, Move.REENABLE): Status.PENDING,
    (Status.DISABLED, Move.REENABLE): Status.PENDING,
}


class TaskInfo(NamedTuple):
    """A snapshot of one task as the scheduler sees it (immutable, cheap to make)."""

    task_id: str
    family: str
    params: tuple[tuple[str, str], ...]
    deps: tuple[str, ...]
    status: Status
    complete_before: bool
    runnable: bool
    priority: float
    worker_id: str | None
    progress: float | None
    status_message: str | None
    tracking_url: str | None
    error: str
    traceback: str
    failures: int
    reason: str
    #: True when it never ran because a requirement is bad or missing.
    blocked: bool
    #: The workers that added it (sorted); none: any worker may run it.
    owners: tuple[str, ...] = ()
    #: When its status last changed (when it was added, if never).
    changed_at: float = 0.0


class Node:
    """Mutable scheduling state of one task (see the scheduler's invariants)."""

    __slots__ = (
        "_story",
        "bad",
        "batch",
        "batch_key",
        "changed_at",
        "complete_before",
        "dependents",
        "deps",
        "disabled_deps",
        "error",
        "failures",
        "family",
        "first_failure_at",
        "id",
        "leader",
        "max_batch_size",
        "message",
        "order",
        "owners",
        "params",
        "parked",
        "priority",
        "private",
        "progress",
        "queued",
        "reason",
        "remaining",
        "resources",
        "retry",
        "retry_at",
        "runnable",
        "status",
        "traceback",
        "tracking_url",
        "was_bad",
        "was_disabled",
        "worker",
    )  # fmt: skip

    def __init__(self, spec: TaskSpec, order: int, at: float, owner: str = "") -> None:
        self.id = spec.task_id
        self.family = spec.family
        self.params = spec.params
        self.order = order
        # Containers start as shared empty tuples and become a dict/list on first use:
        # most nodes of a big graph have no requirements or no dependents.
        self.deps: dict[str, None] | tuple[()] = ()  # an ordered set once filled
        self.dependents: list[str] | tuple[()] = ()
        #: The workers that added it; none (the embedded case): anyone may run it.
        #: A worker that cannot run it (an incomplete external task) is no owner.
        self.owners: set[str] | tuple[()] = {owner} if owner and spec.runnable else ()
        self.changed_at = at
        self.complete_before = spec.complete
        self.status = Status.DONE if spec.complete else Status.PENDING
        self.runnable = spec.runnable
        self.priority = spec.priority
        self.resources = dict(spec.resources)
        self.retry: RetryPolicy = spec.retry
        self.batch_key = spec.batch_key
        self.private = spec.private
        self.max_batch_size = spec.max_batch_size
        self.reason = spec.reason
        self.remaining = self.bad = self.disabled_deps = 0
        self.queued = self.parked = self.was_bad = self.was_disabled = False
        self.worker: str | None = None
        self.leader: str | None = None
        self.batch: tuple[str, ...] = ()
        self.progress: float | None = None
        self.message: str | None = None
        self.tracking_url: str | None = None
        self.error = self.traceback = ""
        self.failures: list[float] | tuple[()] = ()
        self.first_failure_at: float | None = None
        self.retry_at: float | None = None
        self._story: list[tuple[float, str, Status]] | None = None

    def is_ready(self) -> bool:
        """Return whether the node may be dispatched now (resources aside)."""
        return (
            self.status is Status.PENDING
            and self.remaining == 0
            and self.bad == 0
            and self.runnable
            and not self.parked
        )

    def excessive_failures(self, now: float) -> bool:
        """Return whether the retry policy says to disable instead of retrying."""
        if len(self.failures) >= self.retry.retry_count:
            return True
        timeout = self.retry.disable_hard_timeout
        first = self.first_failure_at
        return timeout is not None and first is not None and now - first >= timeout

    def log(self, at: float, move: str, status: Status) -> None:
        """Append a move to the bounded story."""
        story = self._story
        if story is None:
            story = self._story = []
        story.append((at, move, status))
        if len(story) > _STORY_LENGTH:  # a list: far smaller than a deque per task
            del story[0]

    def story(self) -> tuple[str, ...]:
        """Return the story as readable lines."""
        return tuple(
            f"at {at:.3f}: {move} -> {status}" for at, move, status in self._story or ()
        )

    def info(self) -> TaskInfo:
        """Return a frozen snapshot."""
        return TaskInfo(
            task_id=self.id,
            family=self.family,
            params=self.params,
            deps=tuple(self.deps),
            status=self.status,
            complete_before=self.complete_before,
            runnable=self.runnable,
            priority=self.priority,
            worker_id=self.worker,
            progress=self.progress,
            status_message=self.message,
            tracking_url=self.tracking_url,
            error=self.error,
            traceback=self.traceback,
            failures=len(self.failures),
            reason=self.reason,
            blocked=self.status is Status.PENDING
            and (self.remaining > 0 or self.bad > 0),
            owners=tuple(sorted(self.owners)) if self.owners else (),
            changed_at=self.changed_at,
        )
