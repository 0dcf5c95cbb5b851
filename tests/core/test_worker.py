from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import sys
import threading
import time
import types

import pytest

import nbflow
from nbflow.core.config import Settings
from nbflow.core.errors import TaskFailedError
from nbflow.core.events import Status, TaskMessage, TaskProgressed, TaskTrackingUrl
from nbflow.core.interruption import RunInterrupted
from nbflow.core.stream import RecordingListener
from nbflow.core.summary import RunResult, RunStatus


def _build(tasks, **kwargs) -> RunResult:
    result = nbflow.build(tasks, detailed_summary=True, **kwargs)
    assert isinstance(result, RunResult)
    return result


def _writer(tmp_path, name: str = "Write"):
    class Write(nbflow.Task):
        n = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(str(tmp_path / f"{name}-{self.n}.txt"))

        def run(self):
            with self.output().open("w") as out:
                out.write(f"value {self.n}\n")

    return Write


def test_build_runs_missing_and_skips_complete(tmp_path) -> None:
    write = _writer(tmp_path)

    class Gather(nbflow.WrapperTask):
        def requires(self):
            return [write(n) for n in range(3)]

    first = _build([Gather()])
    second = _build([Gather()])

    assert first.status is RunStatus.SUCCESS
    assert (tmp_path / "Write-2.txt").read_text() == "value 2\n"
    assert sorted(first.tasks["completed"]) == sorted(
        [write(n).task_id for n in range(3)] + [Gather().task_id]
    )
    assert "already_done" in second.tasks
    assert "completed" not in second.tasks
    assert "3 ran successfully" not in second.summary_text


def test_build_returns_bool_like_luigi(tmp_path) -> None:
    class Boom(nbflow.Task):
        def run(self):
            raise ValueError("boom")

    assert nbflow.build([_writer(tmp_path)(1)], local_scheduler=True) is True
    assert nbflow.build([Boom()], local_scheduler=True) is False


def test_build_output_missing_after_run_fails_and_blocks_downstream(tmp_path) -> None:
    class Lazy(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "never.txt"))

    class After(nbflow.Task):
        def requires(self):
            return Lazy()

        def run(self):
            raise AssertionError("must not run")

    result = _build([After()])

    assert result.tasks["failed"] == [Lazy().task_id]
    assert result.tasks["upstream_failure"] == [After().task_id]
    scheduler = result.worker.scheduler
    assert "output missing after run" in scheduler.task_info(Lazy().task_id).error
    assert result.status is RunStatus.FAILED


def test_build_exception_in_complete_is_a_scheduling_error() -> None:
    class Broken(nbflow.Task):
        def complete(self):
            raise OSError("storage unreachable")

    result = _build([Broken()])

    assert result.status is RunStatus.SCHEDULING_FAILED
    assert result.tasks["scheduling_error"] == [Broken().task_id]
    assert "storage unreachable" in result.summary_text
    assert not result.scheduling_succeeded


def test_build_cycle_is_named_and_nothing_runs() -> None:
    ran: list[str] = []

    class Ping(nbflow.Task):
        def requires(self):
            return Pong()

        def run(self):
            ran.append("ping")

    class Pong(nbflow.Task):
        def requires(self):
            return Ping()

        def run(self):
            ran.append("pong")

    result = _build([Ping()])

    errors = result.worker.scheduling_errors
    message = errors[Ping().task_id][0]
    assert "dependency cycle" in message
    assert (
        "Ping() -> Pong() -> Ping()" in message
        or "Pong() -> Ping() -> Pong()" in message
    )
    assert ran == []


def test_build_requires_returning_non_task_names_task_and_value() -> None:
    class Wrong(nbflow.Task):
        def requires(self):
            return ["not a task"]

    result = _build([Wrong()])

    message = result.worker.scheduling_errors[Wrong().task_id][0]
    assert "Wrong().requires()" in message
    assert "'not a task'" in message
    assert "Fix:" in message


def test_build_output_of_wrong_type_is_explained() -> None:
    class BadOutput(nbflow.Task):
        def output(self):
            return "data/out.csv"

        def complete(self):
            return False

    result = _build([BadOutput()])

    message = result.worker.scheduling_errors[BadOutput().task_id][0]
    assert "BadOutput().output()" in message
    assert "'data/out.csv'" in message
    assert "LocalTarget" in message


def test_build_checks_completeness_once_per_task() -> None:
    calls: list[str] = []

    class Counted(nbflow.Task):
        n = nbflow.IntParameter()

        def complete(self):
            calls.append(self.task_id)
            return False

        def requires(self):
            return [Counted(n=self.n - 1)] if self.n else []

    class Top(nbflow.Task):
        def requires(self):
            return [Counted(2), Counted(1)]

    _build([Top()])

    assert sorted(calls) == sorted({Counted(n).task_id for n in range(3)})


def test_build_missing_external_dependency() -> None:
    class Outside(nbflow.ExternalTask):
        def output(self):
            return nbflow.MemoryTarget("outside-never")

    class Needs(nbflow.Task):
        def requires(self):
            return Outside()

    result = _build([Needs()])

    assert result.status is RunStatus.MISSING_EXT
    assert result.tasks["still_pending_ext"] == [Outside().task_id]
    assert result.tasks["upstream_missing_dependency"] == [Needs().task_id]


def test_build_dynamic_dependencies_resume_from_the_top(tmp_path) -> None:
    write = _writer(tmp_path, "dyn")
    starts: list[int] = []

    class Dynamic(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "dynamic.txt"))

        def run(self):
            starts.append(1)
            first = yield write(1)
            more = yield [write(2), write(3)]
            with self.output().open("w") as out:
                out.write(first.path + "|" + ",".join(t.path for t in more))

    result = _build([Dynamic()])

    assert result.status is RunStatus.SUCCESS
    assert len(starts) == 3
    assert (tmp_path / "dynamic.txt").read_text().count("dyn-") == 3


def test_build_runtime_reports_reach_listeners() -> None:
    class Reporting(nbflow.Task):
        def run(self):
            self.set_status_message("halfway")
            self.set_progress_percentage(50)
            self.set_tracking_url("http://127.0.0.1/job/1")

    recorder = RecordingListener()
    _build([Reporting()], listeners=[recorder])

    kinds = {type(n) for n in recorder.notifications}
    assert {TaskMessage, TaskProgressed, TaskTrackingUrl} <= kinds
    statuses = [n.status for n in recorder.notifications if hasattr(n, "previous")]
    assert statuses == [Status.RUNNING, Status.DONE]


def test_build_threads_run_tasks_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    class Meet(nbflow.Task):
        n = nbflow.IntParameter()

        def run(self):
            barrier.wait()

    result = _build([Meet(1), Meet(2)], workers=2, executor="threads")

    assert result.status is RunStatus.SUCCESS


def test_build_processes_run_notebook_style_tasks_by_value(tmp_path) -> None:
    module = types.ModuleType("notebook_cell_module")
    sys.modules[module.__name__] = module
    source = (
        "import nbflow, os\n"
        "class InProcess(nbflow.Task):\n"
        "    n = nbflow.IntParameter()\n"
        "    def output(self):\n"
        f"        return nbflow.LocalTarget({str(tmp_path)!r} + f'/pid-{{self.n}}')\n"
        "    def run(self):\n"
        "        self.set_progress_percentage(100)\n"
        "        with self.output().open('w') as out:\n"
        "            out.write(str(os.getpid()))\n"
    )
    exec(compile(source, "<notebook cell>", "exec"), module.__dict__)
    try:
        tasks = [module.InProcess(n) for n in range(2)]
        recorder = RecordingListener()
        result = _build(tasks, workers=2, executor="processes", listeners=[recorder])
    finally:
        del sys.modules[module.__name__]

    assert result.status is RunStatus.SUCCESS, result.summary_text
    pids = {(tmp_path / f"pid-{n}").read_text() for n in range(2)}
    assert str(__import__("os").getpid()) not in pids
    assert any(isinstance(n, TaskProgressed) for n in recorder.notifications)


def test_build_unpicklable_task_in_processes_says_what_cannot_travel() -> None:
    class Locked(nbflow.Task):
        lock = threading.Lock()

        def run(self):
            self.held = self.lock

    task = Locked()
    task.__dict__["handle"] = threading.Lock()

    result = _build([task], workers=2, executor="processes")

    error = result.worker.scheduler.task_info(task.task_id).error
    assert "cannot be sent to a worker process" in error
    assert "threads executor" in error


def test_build_retries_with_keep_alive_until_success() -> None:
    attempts: list[int] = []

    class Flaky(nbflow.Task):
        def run(self):
            attempts.append(1)
            if len(attempts) < 2:
                raise RuntimeError("transient")

        def complete(self):
            return len(attempts) >= 2

    settings = Settings.from_mapping({"scheduler": {"retry_delay": 0.05}})
    result = _build([Flaky()], keep_alive=True, settings=settings)

    assert len(attempts) == 2
    assert result.status is RunStatus.SUCCESS_WITH_RETRY


def test_build_batches_with_batch_method() -> None:
    ran: list[int] = []

    class Daily(nbflow.Task):
        day = nbflow.IntParameter(batch_method=max)

        def run(self):
            ran.append(self.day)

    result = _build([Daily(d) for d in range(5)])

    assert ran == [4]
    assert len(result.tasks["completed"]) == 5


def test_build_worker_timeout_fails_the_task() -> None:
    release = threading.Event()

    class Slow(nbflow.Task):
        worker_timeout = 0.2

        def run(self):
            release.wait(5)

    started = time.perf_counter()
    result = _build([Slow()], workers=2, executor="threads")
    release.set()

    assert time.perf_counter() - started < 4
    error = result.worker.scheduler.task_info(Slow().task_id).error
    assert "timed out after 0.2 s" in error


def test_build_failure_at_root_of_deep_chain_has_no_recursion_error() -> None:
    class Link(nbflow.Task):
        n = nbflow.IntParameter()

        def requires(self):
            return Link(self.n - 1) if self.n else []

        def run(self):
            if self.n == 0:
                raise ValueError("root of the chain")

    result = _build([Link(10_000)])

    assert result.tasks["failed"] == [Link(0).task_id]
    assert len(result.tasks["upstream_failure"]) == 10_000


def test_run_with_task_raises_on_failure_unless_check_false() -> None:
    class Fails(nbflow.Task):
        def run(self):
            raise KeyError("x")

    with pytest.raises(TaskFailedError) as caught:
        nbflow.run(Fails())
    assert Fails().task_id in str(caught.value)

    result = nbflow.run(Fails(), check=False)
    assert result.status is RunStatus.FAILED


def test_run_with_luigi_command_line() -> None:
    ran: list[int] = []

    class CliTask(nbflow.Task):
        n = nbflow.IntParameter()

        def run(self):
            ran.append(self.n)

    assert nbflow.run(["CliTask", "--n", "4", "--local-scheduler"]) is True
    assert ran == [4]


def test_build_rejects_unknown_keyword() -> None:
    with pytest.raises(nbflow.NbflowError, match="build.keywords"):
        nbflow.build([], wokers=2)


def test_failing_listener_is_detached_and_run_goes_on(caplog) -> None:
    class Fine(nbflow.Task):
        def run(self):
            pass

    class Broken:
        def on_notification(self, notification):
            raise RuntimeError("view broke")

    result = _build([Fine()], listeners=[Broken()])

    assert result.status is RunStatus.SUCCESS
    assert "raised and was detached" in caplog.text


def test_build_dynamic_requirements_with_custom_complete(tmp_path) -> None:
    write = _writer(tmp_path, "bulk")
    checked: list[int] = []

    def all_written(default_check) -> bool:
        checked.append(1)
        return all((tmp_path / f"bulk-{n}.txt").exists() for n in range(3))

    class Bulk(nbflow.Task):
        def output(self):
            return nbflow.LocalTarget(str(tmp_path / "bulk-done.txt"))

        def run(self):
            outputs = yield nbflow.DynamicRequirements(
                [write(n) for n in range(3)], all_written
            )
            with self.output().open("w") as out:
                out.write(str(len(outputs)))

    result = _build([Bulk()])

    assert result.status is RunStatus.SUCCESS
    assert (tmp_path / "bulk-done.txt").read_text() == "3"
    assert len(checked) == 2


def _stepping_writer(tmp_path, writing: threading.Semaphore):
    class Step(nbflow.Task):
        """Writes its output in small steps for 10 s: an interrupt lands between two."""

        n = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(str(tmp_path / f"step-{self.n}.txt"))

        def run(self):
            with self.output().open("w") as out:
                writing.release()
                for _ in range(1000):
                    out.write("x")
                    time.sleep(0.01)

    return Step


def test_cancel_interrupts_running_threads_and_starts_nothing_more(tmp_path) -> None:
    writing = threading.Semaphore(0)
    step = _stepping_writer(tmp_path, writing)
    tasks = [step(n) for n in range(4)]
    handle = nbflow.build(tasks, wait=False, workers=2, executor="threads")
    assert writing.acquire(timeout=10)
    assert writing.acquire(timeout=10)  # both are between two steps of writing

    handle.cancel()
    result = handle.wait(10)

    scheduler = handle.worker.scheduler
    statuses = sorted(scheduler.status(task.task_id) for task in tasks)
    assert statuses == [Status.CANCELLED] * 2 + [Status.PENDING] * 2
    assert sorted(result.tasks) == ["cancelled", "not_run"]
    assert list(tmp_path.iterdir()) == []  # no output, no temporary
    assert handle.state == "cancelled"


def test_ctrl_c_in_a_sync_run_raises_run_interrupted_with_the_state() -> None:
    ran: list[str] = []

    class Interrupted(nbflow.Task):
        def run(self):
            ran.append("interrupted")
            raise KeyboardInterrupt

    class After(nbflow.Task):
        def requires(self):
            return Interrupted()

        def run(self):
            ran.append("after")

    with pytest.raises(RunInterrupted) as caught:
        nbflow.build([After()])

    scheduler = caught.value.worker.scheduler
    assert ran == ["interrupted"]
    assert scheduler.status(Interrupted().task_id) is Status.CANCELLED
    assert scheduler.status(After().task_id) is Status.PENDING
    assert caught.value.abandoned == 0


def test_killed_process_fails_its_task_and_a_fresh_pool_runs_the_rest(
    tmp_path,
) -> None:
    module = types.ModuleType("killed_process_module")
    sys.modules[module.__name__] = module
    source = (
        "import nbflow, os, signal\n"
        "class Dies(nbflow.Task):\n"
        "    def run(self):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "class Later(nbflow.Task):\n"
        "    def output(self):\n"
        f"        return nbflow.LocalTarget({str(tmp_path)!r} + '/later')\n"
        "    def run(self):\n"
        "        with self.output().open('w') as out:\n"
        "            out.write('ok')\n"
    )
    exec(compile(source, "<notebook cell>", "exec"), module.__dict__)
    try:
        dies, later = module.Dies(), module.Later()
        result = _build([dies, later], workers=1, executor="processes")
    finally:
        del sys.modules[module.__name__]

    error = result.worker.scheduler.task_info(dies.task_id).error
    assert error.startswith("ProcessDiedError: Dies(): its process died while it ran")
    assert "killed by signal SIGKILL" in error
    assert result.tasks["completed"] == [later.task_id]


class BlindPool(concurrent.futures.Executor):
    """A process pool that never notices its process died (as CPython's sometimes)."""

    def __init__(self) -> None:
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        task_id, _packed, reporter = args
        context = multiprocessing.get_context("fork")
        process = context.Process(target=_start_then_die, args=(task_id, reporter))
        process.start()
        self.processes.append(process)
        return concurrent.futures.Future()  # never completes

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for process in self.processes:
            process.join(timeout=5)


def _start_then_die(task_id: str, reporter) -> None:
    reporter.running(task_id)  # as a pool process does before running a task
    os.kill(os.getpid(), signal.SIGKILL)


# the fake pool forks a short-lived child that touches nothing shared (Python 3.12+ warns)
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_worker_fails_a_run_whose_process_vanished_unnoticed() -> None:
    class Vanishes(nbflow.Task):
        def run(self):
            pass

    pool = BlindPool()

    handle = nbflow.build([Vanishes()], wait=False, executor=pool)
    result = handle.wait(timeout=20)  # before the check, this never returned

    info = handle.worker.scheduler.task_info(Vanishes().task_id)
    assert result.tasks["failed"] == [Vanishes().task_id]
    assert "its process died while it ran" in info.error
    assert f"pid {pool.processes[0].pid} ended without a result" in info.error
