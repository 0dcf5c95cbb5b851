from __future__ import annotations

import threading
import time

import pytest

import nbflow
from nbflow.core.errors import WorkerCountError
from nbflow.core.events import RunFinished, RunStarted, Status, TaskStatusChanged
from nbflow.core.run import Run
from nbflow.core.stream import RecordingListener
from nbflow.core.summary import RunStatus


def test_background_run_returns_at_once_and_finishes() -> None:
    gate = threading.Event()

    class Gated(nbflow.Task):
        def run(self):
            gate.wait(5)

    handle = nbflow.build([Gated()], wait=False)

    assert isinstance(handle, Run)
    assert handle.state == "running"
    assert not handle.done()
    gate.set()
    assert handle.wait(5).status is RunStatus.SUCCESS
    assert handle.state == "succeeded"
    assert "succeeded" in repr(handle)


def test_background_run_cancel_stops_starting_tasks() -> None:
    started = threading.Event()
    release = threading.Event()
    ran: list[int] = []

    class Step(nbflow.Task):
        n = nbflow.IntParameter()

        def requires(self):
            return Step(self.n - 1) if self.n else []

        def run(self):
            ran.append(self.n)
            started.set()
            deadline = time.monotonic() + 5
            while not release.is_set() and time.monotonic() < deadline:
                time.sleep(0.01)  # cancel() interrupts it here

    handle = nbflow.build([Step(3)], wait=False, workers=2, executor="threads")
    assert started.wait(5)

    handle.cancel()
    result = handle.wait(5)
    release.set()

    assert handle.state == "cancelled"
    assert ran == [0]
    assert result.tasks["cancelled"] == [Step(0).task_id]
    info = handle.worker.scheduler.task_info(Step(0).task_id)
    assert info.error == "cancelled"
    assert result.status is RunStatus.CANCELLED
    assert "the run was cancelled before it finished" in result.one_line_summary
    assert handle.progress.counts.get("CANCELLED") == 1


def test_subscribe_replays_history_then_goes_live() -> None:
    class Quick(nbflow.Task):
        n = nbflow.IntParameter()

    handle = nbflow.build([Quick(n) for n in range(3)], wait=False)
    handle.wait(5)
    late = RecordingListener()

    handle.subscribe(late)

    kinds = [type(n) for n in late.notifications]
    assert kinds[0] is RunStarted or RunStarted in kinds
    assert kinds[-1] is RunFinished
    assert late.notifications == handle.notifications
    done = [
        n
        for n in late.notifications
        if isinstance(n, TaskStatusChanged) and n.status is Status.DONE
    ]
    assert len(done) == 3
    finished = late.notifications[-1]
    assert dict(finished.counts) == {"DONE": 3}
    assert finished.state == "succeeded"


def test_wait_reraises_a_build_that_could_not_start() -> None:
    class Any_(nbflow.Task):
        pass

    handle = nbflow.build([Any_()], wait=False, executor="no-such-executor")

    with pytest.raises(nbflow.NbflowError, match="no plugin named 'no-such-executor'"):
        handle.wait(5)
    assert handle.state == "failed"


def test_run_with_task_and_wait_false_returns_handle() -> None:
    class Fine(nbflow.Task):
        pass

    handle = nbflow.run(Fine(), wait=False)

    assert isinstance(handle, Run)
    assert handle.wait(5).scheduling_succeeded


def test_build_accepts_an_executor_instance_and_leaves_it_open() -> None:
    from concurrent.futures import ThreadPoolExecutor

    class OnPool(nbflow.Task):
        n = nbflow.IntParameter()

    with ThreadPoolExecutor(2) as pool:
        assert nbflow.build([OnPool(1), OnPool(2)], executor=pool, workers=2)
        assert pool.submit(lambda: 42).result() == 42


def test_interrupted_task_in_run_thread_makes_the_run_cancelled() -> None:
    class Interrupted(nbflow.Task):
        def run(self):
            raise KeyboardInterrupt

    handle = nbflow.build([Interrupted()], wait=False)
    result = handle.wait(5)

    assert handle.state == "cancelled"
    assert result.tasks["cancelled"] == [Interrupted().task_id]


def test_a_run_with_no_worker_is_refused_instead_of_waiting_forever() -> None:
    class NoWorkerTask(nbflow.Task):
        def complete(self) -> bool:
            return False

        def run(self) -> None:
            raise AssertionError("must not run")

    with pytest.raises(
        WorkerCountError, match=r"at least 1 \(got 0\).*Fix: pass workers=1"
    ):
        nbflow.build([NoWorkerTask()], workers=0)
