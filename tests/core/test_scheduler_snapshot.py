"""A pickled Scheduler (the server's snapshot) resumes exactly where it stood.

One scripted session touches every kind of event; for every k, a scheduler fed the
first k events, pickled and unpickled, must answer the remaining events with the very
actions (same ``seq`` numbers) the uninterrupted scheduler gave.
"""

from __future__ import annotations

import pickle
from typing import get_args

from nbflow.core.events import (
    Action,
    DependenciesAdded,
    FailuresForgiven,
    ProgressReported,
    ResourcesDecreased,
    RetryPolicy,
    RunBegan,
    RunCancelRequested,
    RunEnded,
    RunTask,
    SchedulerEvent,
    SchedulerPaused,
    SchedulerResumed,
    Status,
    StatusMessageSet,
    TaskFailed,
    TaskHandedBack,
    TaskMarkedDone,
    TaskReenabled,
    TasksDiscovered,
    TasksPruned,
    TaskSucceeded,
    Tick,
    TrackingUrlSet,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.scheduler import Scheduler
from tests.builders import spec

TWICE = RetryPolicy(retry_count=2, retry_delay=10)
SPECS_A = (
    spec("x"),
    spec("y", "x"),
    spec("dyn", "x"),
    spec("d0", batch_key="Day"),
    spec("d1", batch_key="Day"),
    spec("heavy", resources=(("db", 1),)),
    spec("heavy2", resources=(("db", 1),)),
    spec("flaky", retry=TWICE),
    spec("top", "y", "dyn", "flaky", priority=5),
)
SPECS_B = (spec("x"), spec("y", "x"), spec("theirs", "y"), spec("other"))
#: "lone" always fails, and waits longer for its retry than the session lasts.
SHARED = (spec("x"), spec("lone", retry=RetryPolicy(retry_delay=1e6)))


class Session:
    """Feed events one by one, keeping each event's actions and the runs started."""

    def __init__(self) -> None:
        self.scheduler = Scheduler(resources={"db": 1})
        self.log: list[tuple[SchedulerEvent, list[Action]]] = []
        self.runs: list[RunTask] = []
        self.clock = 0.0

    def feed(self, *events: SchedulerEvent) -> None:
        for event in events:
            actions = self.scheduler.handle(event)
            self.log.append((event, actions))
            self.runs += [a for a in actions if isinstance(a, RunTask)]

    def finish_next(self, turn: int) -> None:
        """End the oldest run one way or another, depending on the turn."""
        run = self.runs.pop(0)
        self.clock += 1.0
        members = run.batch or (run.task_id,)
        at = self.clock
        if run.task_id == "dyn" and "extra" not in self.scheduler:
            self.feed(DependenciesAdded("dyn", ("extra",), (spec("extra"),), at=at))
        elif run.task_id == "heavy":
            self.feed(
                ResourcesDecreased("heavy", (("db", 1),), at=at),
                StatusMessageSet("heavy", "half", at=at),
                TrackingUrlSet("heavy", "http://tracker", at=at),
                TaskSucceeded("heavy", at=at),
            )
        elif turn % 7 == 3:
            self.feed(TaskHandedBack(run.task_id, at=at))
        elif run.task_id in {"flaky", "lone"} or turn % 5 == 4:
            self.feed(*(TaskFailed(m, "boom", at=at) for m in members))
        else:
            self.feed(ProgressReported(run.task_id, 50.0, at=at))
            self.feed(*(TaskSucceeded(m, at=at) for m in members))


def play() -> list[tuple[SchedulerEvent, list[Action]]]:
    """Return the scripted session: every event with the actions it gave."""
    session = Session()
    session.feed(
        RunBegan("r1"),
        WorkerStarted("a", 2),
        WorkerStarted("helper", 1, assistant=True),
        SchedulerPaused(at=0.5),
        TasksDiscovered(SPECS_A, worker_id="a", at=1.0),
        TasksDiscovered(SPECS_B, worker_id="b", at=1.5),
        TasksDiscovered(SHARED, at=1.5),
        WorkerStarted("b", 1, at=1.5),
        SchedulerResumed(at=1.7),
    )
    for turn in range(200):
        if not session.runs:
            retry_at = session.scheduler.next_retry_at
            if retry_at is None or retry_at > 1e5:
                break
            session.clock = max(session.clock, retry_at)
            session.feed(Tick(session.clock))
            continue
        session.finish_next(turn)
    failed = [t.task_id for t in session.scheduler.tasks() if t.status is Status.FAILED]
    disabled = [
        t.task_id for t in session.scheduler.tasks() if t.status is Status.DISABLED
    ]
    session.feed(
        *(FailuresForgiven(task_id, at=session.clock) for task_id in failed[:1]),
        *(TaskReenabled(task_id, at=session.clock) for task_id in disabled[:1]),
        TaskMarkedDone("other", at=session.clock),
        TasksDiscovered((spec("x"),), worker_id="b", at=session.clock),
        RunCancelRequested("helper", at=session.clock),
        WorkerStopped("helper", at=session.clock),
        TasksPruned(before=session.clock + 1.0, at=session.clock + 1.0),
        RunEnded("r1", "failed", at=session.clock + 1.0),
    )
    return session.log


def test_scripted_session_covers_every_event_type() -> None:
    fed = {type(event) for event, _ in play()}

    assert fed == set(get_args(SchedulerEvent))


def test_unpickled_scheduler_answers_the_rest_as_the_original_did() -> None:
    log = play()
    events = [event for event, _ in log]
    expected = [actions for _, actions in log]

    for k in range(len(events) + 1):
        replica = Scheduler(resources={"db": 1})
        for event in events[:k]:
            replica.handle(event)

        resumed = pickle.loads(pickle.dumps(replica))

        assert [resumed.handle(event) for event in events[k:]] == expected[k:], k


def test_pickling_does_not_disturb_the_original() -> None:
    log = play()
    events = [event for event, _ in log]
    half = len(events) // 2
    scheduler = Scheduler(resources={"db": 1})
    for event in events[:half]:
        scheduler.handle(event)

    pickle.dumps(scheduler)

    assert [scheduler.handle(event) for event in events[half:]] == [
        actions for _, actions in log[half:]
    ]
