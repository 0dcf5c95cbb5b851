"""The wire format: every scheduler value round-trips through JSON; bad input is refused."""

from __future__ import annotations

import json

import pytest

from nbflow.core import wire
from nbflow.core.events import (
    DependenciesAdded,
    PauseChanged,
    RetryPolicy,
    RunFinished,
    RunTask,
    Status,
    TaskFailed,
    TasksDiscovered,
    TaskSpec,
    TasksRemoved,
    TaskStatusChanged,
    Tick,
    WorkerStarted,
)
from nbflow.core.scheduler import Scheduler

SPECS = (
    TaskSpec("a", "A", params=(("day", "2024-01-01"),), priority=3.5),
    TaskSpec(
        "b",
        "B",
        deps=("a",),
        resources=(("db", 2),),
        retry=RetryPolicy(retry_count=2, retry_delay=1.5),
        batch_key="k",
        max_batch_size=4,
    ),
)


@pytest.mark.parametrize(
    "value",
    [
        TasksDiscovered(SPECS, at=1.0, roots=("b",), worker_id="w"),
        WorkerStarted("w", 3, at=2.0, assistant=True),
        TaskFailed("a", error="boom", traceback="tb", kind="process"),
        DependenciesAdded("b", ("a",), SPECS[:1], at=3.0),
        Tick(4.0),
        RunTask("b", "w", ("b", "c")),
        TaskStatusChanged(7, 1.0, "a", Status.FAILED, Status.RUNNING, "w", "e"),
        RunFinished(9, 2.0, "r", "failed", (("DONE", 3), ("FAILED", 1))),
        PauseChanged(3, 1.0, paused=True),
        TasksRemoved(4, 1.0, ("a", "b")),
    ],
    ids=lambda value: type(value).__name__,
)
def test_wire_round_trips_through_json_text(value) -> None:
    text = json.dumps(wire.to_json(value), allow_nan=False)

    assert wire.from_json(json.loads(text)) == value


def test_wire_round_trips_the_scheduler_own_output() -> None:
    scheduler = Scheduler()
    actions = scheduler.handle(WorkerStarted("w", 1), TasksDiscovered(SPECS))
    infos = scheduler.tasks()

    for value in [*actions, *infos]:
        assert wire.from_json(json.loads(json.dumps(wire.to_json(value)))) == value


def test_wire_leaves_defaults_out() -> None:
    assert wire.to_json(TaskSpec("a", "A")) == {
        "type": "TaskSpec",
        "task_id": "a",
        "family": "A",
    }


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([1, 2], "not a JSON object"),
        ({"type": "Nope"}, "unknown type 'Nope'"),
        ({"type": "TaskFailed"}, "needs the field 'task_id'"),
        ({"type": "TaskFailed", "task_id": 3}, "expected str, got int"),
        ({"type": "Tick", "at": "soon"}, "expected a number"),
        ({"type": "TaskFailed", "task_id": "a", "colour": 1}, "no field(s) colour"),
        ({"type": "TasksRemoved", "seq": 1, "at": 1, "task_ids": "ab"}, "a list"),
        ({"type": "WorkerStarted", "worker_id": "w", "slots": True}, "got bool"),
    ],
)
def test_wire_refuses_what_it_did_not_make(value, fragment) -> None:
    with pytest.raises(wire.WireFormatError) as refused:
        wire.from_json(value)

    assert fragment in str(refused.value)
    assert "Fix: send values made by nbflow.core.wire.to_json" in str(refused.value)


def test_wire_refuses_values_without_a_wire_form() -> None:
    with pytest.raises(wire.WireFormatError, match="no wire form"):
        wire.to_json(object())
