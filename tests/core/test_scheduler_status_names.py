"""Luigi's status names at ``luigi.scheduler`` (``DONE``, ``FAILED``, ...)."""

from __future__ import annotations

import nbflow
import nbflow.scheduler
from nbflow.core import scheduler
from nbflow.core.worker import Worker

NAMES = (
    "PENDING",
    "FAILED",
    "DONE",
    "RUNNING",
    "BATCH_RUNNING",
    "SUSPENDED",
    "UNKNOWN",
    "DISABLED",
)


def test_each_name_is_the_plain_string_luigi_uses() -> None:
    for name in NAMES:
        value = getattr(scheduler, name)
        assert type(value) is str
        assert value == name
        assert getattr(nbflow.scheduler, name) is value


def test_a_finished_task_is_reported_in_the_state_named_done() -> None:
    class StatusNamesDone(nbflow.Task):
        def complete(self):
            return self.ran

        ran = False

        def run(self):
            type(self).ran = True

    worker = Worker()
    worker.add(StatusNamesDone())
    assert worker.run() is True
    worker.stop()
    (info,) = worker.scheduler.tasks()
    assert info.status == scheduler.DONE
