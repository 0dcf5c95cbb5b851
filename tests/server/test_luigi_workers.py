"""Luigi's own workers against nbflow's server: the real ``luigi`` package as the client.

Each test starts a scheduler host answering luigid's protocol on a free port and runs
``python -m luigi --module <pipelines> ... --scheduler-url http://luigi:TOKEN@...`` in
subprocesses, exactly as a team's existing jobs would. Tasks log every run to a file
(one appended line per run), so "ran exactly once" is counted, not assumed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from luigi.rpc import RemoteScheduler

from nbflow.core.events import RetryPolicy
from tests.server.luigi_server import TOKEN, LuigiServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

PIPELINES = textwrap.dedent(
    """
    import os
    import time

    import luigi

    OUT = os.environ["LUIGI_TEST_OUT"]


    def note(text):
        handle = os.open(os.path.join(OUT, "runs.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(handle, (text + "\\n").encode())
        os.close(handle)


    class LwNode(luigi.Task):
        name = luigi.Parameter()
        needs = luigi.ListParameter(default=[])
        pause = luigi.FloatParameter(default=0.0, significant=False)

        def requires(self):
            return [LwNode(name=n, pause=self.pause) for n in self.needs]

        def output(self):
            return luigi.LocalTarget(os.path.join(OUT, "node-" + self.name))

        def run(self):
            note(self.name)
            time.sleep(self.pause)
            with self.output().open("w") as out:
                out.write(self.name)


    class LwDiamond(luigi.WrapperTask):
        pause = luigi.FloatParameter(default=0.0, significant=False)

        def requires(self):
            return LwNode(name="top", needs=["left", "right"], pause=self.pause)


    class LwWide(luigi.WrapperTask):
        pause = luigi.FloatParameter(default=0.0, significant=False)

        def requires(self):
            layer = [f"w{i}" for i in range(6)]
            return [LwNode(name="sink" + n, needs=layer, pause=self.pause) for n in "ab"]


    class LwFlaky(luigi.Task):
        def output(self):
            return luigi.LocalTarget(os.path.join(OUT, "flaky"))

        def run(self):
            note("flaky")
            if not os.path.exists(os.path.join(OUT, "allow")):
                raise RuntimeError("flaky: not allowed yet")
            with self.output().open("w") as out:
                out.write("ok")


    class LwDynamic(luigi.Task):
        def output(self):
            return luigi.LocalTarget(os.path.join(OUT, "dynamic"))

        def run(self):
            note("dynamic-start")
            children = yield [LwNode(name=f"dyn{i}") for i in range(3)]
            with self.output().open("w") as out:
                out.write(",".join(child.path for child in children))
            note("dynamic-end")


    class LwBatched(luigi.Task):
        item = luigi.Parameter(batch_method=",".join)

        def output(self):
            return luigi.LocalTarget(os.path.join(OUT, "batch-" + self.item))

        def run(self):
            note("batch " + self.item)
            for item in self.item.split(","):
                with open(os.path.join(OUT, "batch-" + item), "w") as out:
                    out.write(item)


    class LwBatchRoot(luigi.WrapperTask):
        def requires(self):
            return [LwBatched(item=i) for i in "abcde"]


    class LwGpu(luigi.Task):
        name = luigi.Parameter()
        resources = {"gpu": 1}

        def output(self):
            return luigi.LocalTarget(os.path.join(OUT, "gpu-" + self.name))

        def run(self):
            # Exclusive creation: fails if another task holds the "gpu" right now.
            handle = os.open(os.path.join(OUT, "gpu.lock"), os.O_CREAT | os.O_EXCL)
            note("gpu " + self.name)
            time.sleep(0.2)
            os.close(handle)
            os.remove(os.path.join(OUT, "gpu.lock"))
            with self.output().open("w") as out:
                out.write(self.name)


    class LwGpuGroup(luigi.WrapperTask):
        group = luigi.Parameter()

        def requires(self):
            return [LwGpu(name=f"{self.group}{i}") for i in range(3)]
    """
)

#: Luigi's exit codes made strict: anything but full success is non-zero.
STRICT = [
    "--retcode-task-failed", "1", "--retcode-scheduling-error", "2",
    "--retcode-missing-data", "3", "--retcode-not-run", "5",
]  # fmt: skip


@pytest.fixture
def out(tmp_path: Path) -> Path:
    (tmp_path / "pipelines.py").write_text(PIPELINES)
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "luigi.cfg").write_text(
        "[core]\nrpc-retry-attempts = 1\nrpc-retry-wait = 0\n"
        "[worker]\nwait_interval = 0.1\nping_interval = 0.5\n"
    )
    return folder


@pytest.fixture
def server() -> Iterator[LuigiServer]:
    running = LuigiServer(resources={"gpu": 1}).start()
    yield running
    running.stop()


def start_luigi(
    out: Path, server: LuigiServer, *args: str, token: str | None = TOKEN
) -> subprocess.Popen[str]:
    root = out.parent
    env = {
        **os.environ,
        "LUIGI_TEST_OUT": str(out),
        "LUIGI_CONFIG_PATH": str(root / "luigi.cfg"),
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "luigi", "--module", "pipelines", *args,
               "--scheduler-url", server.url(token), *STRICT]  # fmt: skip
    return subprocess.Popen(
        command, env=env, cwd=root, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def run_luigi(
    out: Path, server: LuigiServer, *args: str, token: str | None = TOKEN
) -> tuple[int, str]:
    process = start_luigi(out, server, *args, token=token)
    output, _ = process.communicate(timeout=180)
    return process.returncode, output


def runs(out: Path) -> Counter[str]:
    log = out / "runs.log"
    return Counter(log.read_text().split("\n")[:-1]) if log.exists() else Counter()


def remote_scheduler(url: str) -> Any:
    """Luigi's own client of luigid (untyped, hence Any)."""
    return RemoteScheduler(url)  # type: ignore[no-untyped-call]


@pytest.fixture
def remote(server: LuigiServer) -> Iterator[Any]:
    scheduler = remote_scheduler(server.url())
    yield scheduler
    scheduler.close()


def test_luigi_diamond_runs_each_task_once_after_its_requirements(
    out: Path, server: LuigiServer
) -> None:
    code, output = run_luigi(out, server, "LwDiamond")

    assert code == 0, output
    assert runs(out) == Counter({"left": 1, "right": 1, "top": 1})
    order = (out / "runs.log").read_text().split()
    assert order[-1] == "top"
    assert set(server.statuses().values()) == {"DONE"}


def test_luigi_run_again_finds_everything_done_and_runs_nothing(
    out: Path, server: LuigiServer
) -> None:
    run_luigi(out, server, "LwDiamond")

    code, output = run_luigi(out, server, "LwDiamond")

    assert code == 0, output
    assert runs(out) == Counter({"left": 1, "right": 1, "top": 1})


def test_luigi_failure_is_reported_then_forgiven_and_run_again(
    out: Path, server: LuigiServer, remote: Any
) -> None:
    code, output = run_luigi(out, server, "LwFlaky")
    assert code == 1, output
    scheduler = remote
    failed = scheduler.task_list("FAILED", "")
    (task_id,) = failed
    error = scheduler.fetch_error(task_id)
    assert "flaky: not allowed yet" in error["error"]
    assert error["taskFamily"] == "LwFlaky"

    (out / "allow").write_text("yes")
    forgiven = scheduler.forgive_failures(task_id)
    code, output = run_luigi(out, server, "LwFlaky")

    assert forgiven == {"task_id": task_id, "status": "PENDING"}
    assert code == 0, output
    assert runs(out)["flaky"] == 2
    assert list(scheduler.task_list("DONE", "")) == [task_id]


def test_two_luigi_processes_on_one_graph_run_every_task_exactly_once(
    out: Path, server: LuigiServer
) -> None:
    args = ("LwWide", "--pause", "0.2", "--workers", "2", "--worker-keep-alive")

    first = start_luigi(out, server, *args)
    second = start_luigi(out, server, *args)
    outputs = [process.communicate(timeout=180)[0] for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outputs
    expected = {f"w{i}" for i in range(6)} | {"sinka", "sinkb"}
    assert runs(out) == Counter(dict.fromkeys(expected, 1))
    assert set(server.statuses().values()) == {"DONE"}


def test_luigi_dynamic_dependencies_run_before_the_task_resumes(
    out: Path, server: LuigiServer, remote: Any
) -> None:
    code, output = run_luigi(out, server, "LwDynamic")

    assert code == 0, output
    counted = runs(out)
    assert counted == Counter(
        {"dynamic-start": 2, "dyn0": 1, "dyn1": 1, "dyn2": 1, "dynamic-end": 1}
    )
    graph = remote.graph()
    (dynamic,) = [t for t, task in graph.items() if task["name"] == "LwDynamic"]
    assert len(graph[dynamic]["deps"]) == 3


def test_luigi_batch_runs_ready_members_together(
    out: Path, server: LuigiServer
) -> None:
    code, output = run_luigi(out, server, "LwBatchRoot")

    assert code == 0, output
    batches = [line for line in runs(out) if line.startswith("batch ")]
    assert len(batches) == 1
    assert sorted(batches[0].removeprefix("batch ").split(",")) == list("abcde")
    assert set(server.statuses().values()) == {"DONE"}


def test_luigi_resources_are_shared_across_two_clients(
    out: Path, server: LuigiServer
) -> None:
    # Keep-alive: a worker that finds the resource taken waits instead of quitting.
    args = ("--workers", "3", "--worker-keep-alive")
    first = start_luigi(out, server, "LwGpuGroup", "--group", "x", *args)
    second = start_luigi(out, server, "LwGpuGroup", "--group", "y", *args)
    outputs = [process.communicate(timeout=180)[0] for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum(line.startswith("gpu ") for line in runs(out)) == 6


@pytest.mark.parametrize(("token", "status"), [("wrong", "403"), (None, "401")])
def test_luigi_client_without_the_token_fails_clearly(
    out: Path, server: LuigiServer, token: str | None, status: str
) -> None:
    code, output = run_luigi(out, server, "LwDiamond", token=token)

    assert code != 0
    assert "remote scheduler" in output
    assert status in output
    assert runs(out) == Counter()
    assert server.statuses() == {}


def test_luigi_remote_scheduler_reads_task_list_and_graph(
    out: Path, server: LuigiServer
) -> None:
    run_luigi(out, server, "LwDiamond")
    scheduler = remote_scheduler(server.url(token=None))  # reads need no token here
    try:
        done = scheduler.task_list("DONE", "")
        graph = scheduler.graph()
        searched = scheduler.task_search("LwNode")
    finally:
        scheduler.close()

    names = {task["display_name"] for task in done.values()}
    assert 'LwNode(name=top, needs=["left", "right"], pause=0.0)' in names
    (top,) = [t for t, task in graph.items() if task["params"].get("name") == "top"]
    assert len(graph[top]["deps"]) == 2
    assert all(task["status"] == "DONE" for task in graph.values())
    assert set(searched) == {"DONE"}
    assert len(searched["DONE"]) == 3


def test_retry_policy_of_the_server_applies_to_luigi_tasks(
    out: Path,
) -> None:
    server = LuigiServer(retry=RetryPolicy(retry_count=1)).start()
    try:
        code, _ = run_luigi(out, server, "LwFlaky")
        statuses = set(server.statuses().values())
    finally:
        server.stop()

    assert code == 1
    assert statuses == {"DISABLED"}
