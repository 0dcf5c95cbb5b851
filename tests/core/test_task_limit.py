"""``[worker] task_limit``: a run schedules at most that many tasks (Luigi's worker)."""

from __future__ import annotations

import nbflow
from nbflow.core.configuration import overridden
from nbflow.core.worker import Worker, WorkerOptions


def _tree(tmp_path, name: str):
    """Return a binary tree of tasks, ``depth`` levels below the root."""

    class Tree(nbflow.Task):
        depth = nbflow.IntParameter()
        path = nbflow.Parameter(default="0")

        def output(self):
            return nbflow.LocalTarget(str(tmp_path / f"{self.path}.txt"))

        def requires(self):
            if len(self.path) <= self.depth:
                return [Tree(self.depth, self.path + str(i)) for i in range(2)]
            return []

        def run(self):
            with self.output().open("w") as out:
                out.write("done")

    Tree.__name__ = Tree.__qualname__ = name
    return Tree


def test_tasks_beyond_the_limit_are_not_run_nor_what_needs_them(tmp_path) -> None:
    tree = _tree(tmp_path, "TaskLimitTreeA")
    with overridden({"worker": {"task_limit": "6"}}):
        worker = Worker()  # no options: [worker] task_limit from the settings
    root = tree(depth=2)  # 1 + 2 + 4 tasks
    assert worker.add(root) is False
    worker.run()
    worker.stop()
    assert not root.complete()
    leaves = sorted(path.name for path in tmp_path.glob("0??.txt"))
    assert leaves == ["000.txt", "001.txt", "010.txt"]  # the 7th task: not scheduled
    (error,) = worker.scheduling_errors.values()
    assert "task limit of 6" in error[0]
    assert "[worker] task_limit" in error[0]


def test_a_limit_as_large_as_the_graph_runs_everything(tmp_path) -> None:
    tree = _tree(tmp_path, "TaskLimitTreeB")
    worker = Worker(options=WorkerOptions(task_limit=7))
    root = tree(depth=2)
    assert worker.add(root) is True
    assert worker.run() is True
    worker.stop()
    assert root.complete()


def test_the_limit_counts_tasks_across_adds(tmp_path) -> None:
    tree = _tree(tmp_path, "TaskLimitTreeC")
    worker = Worker(options=WorkerOptions(task_limit=4))
    assert worker.add(tree(depth=1, path="0")) is True  # 3 tasks
    assert worker.add(tree(depth=1, path="1")) is False  # 1 more is let through
    worker.run()
    worker.stop()
    assert len(worker.scheduling_errors) == 2


def test_build_reads_the_limit_from_the_settings(tmp_path) -> None:
    tree = _tree(tmp_path, "TaskLimitTreeD")
    root = tree(depth=1)
    with overridden({"worker": {"task_limit": "2"}}):
        result = nbflow.build([root], detailed_summary=True)
    assert not root.complete()
    assert len(result.tasks["scheduling_error"]) == 1
