"""Benchmark NotebookTask: its overhead over bare papermill, and parallel notebook tasks.

Prints numbers, never asserts. Two measurements:

1. overhead: the same small notebook run by ``papermill.execute_notebook`` and by a
   ``NotebookTask`` (through ``nbflow.build``: graph, scheduler, signature check,
   staged products, kept executed notebook), interleaved, medians compared
   (goal: <= 10 %);
2. parallelism: N small notebook tasks with 1 worker, then with 2 workers.

Run from the repository root::

    python benchmarks/notebook_bench.py [--repeat 5] [--tasks 20]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import papermill

import nbflow
from nbflow.notebook import NotebookTask

CELLS = [
    ("n: int = 0\nproduct = None", ["parameters"]),
    ("import json\nvalues = [i * i for i in range(1000)]", []),
    ("total = sum(values) + n", []),
    (
        "with open(product['output'], 'w') as out:\n    json.dump({'total': total}, out)",
        [],
    ),
]


def write_notebook(path: Path) -> None:
    cells = [
        {
            "cell_type": "code",
            "id": f"c{number}",
            "metadata": {"tags": tags},
            "source": source,
            "execution_count": None,
            "outputs": [],
        }
        for number, (source, tags) in enumerate(CELLS)
    ]
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": spec},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


class BenchNotebook(NotebookTask):
    notebook = "bench.ipynb"
    executed_dir = "executed"
    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(f"out/task-{self.n}.json")


def bare_run(n: int) -> float:
    started = time.perf_counter()
    Path("out").mkdir(exist_ok=True)
    papermill.execute_notebook(
        "bench.ipynb",
        f"bare/{n}.ipynb",
        parameters={"n": n, "product": {"output": f"out/bare-{n}.json"}},
        progress_bar=False,
    )
    return time.perf_counter() - started


def task_run(n: int) -> float:
    started = time.perf_counter()
    ok = nbflow.build([BenchNotebook(n=n)], workers=1)
    elapsed = time.perf_counter() - started
    if not ok:
        print(f"  task run {n} failed")
    return elapsed


def overhead(repeat: int) -> None:
    bare_run(-1)  # warm up: imports, kernel spec caches
    task_run(-1)
    bare, task = [], []
    for n in range(repeat):
        bare.append(bare_run(n))
        task.append(task_run(n))
    bare_median, task_median = statistics.median(bare), statistics.median(task)
    extra = 100.0 * (task_median - bare_median) / bare_median
    print(f"overhead ({repeat} runs each, interleaved, medians)")
    print(f"  bare papermill        {bare_median:6.3f} s   (min {min(bare):.3f})")
    print(f"  NotebookTask (build)  {task_median:6.3f} s   (min {min(task):.3f})")
    print(f"  overhead              {extra:+6.1f} %   (goal <= 10 %)")


def parallel(count: int) -> None:
    print(f"{count} small notebook tasks")
    timings = {}
    for workers, offset in ((1, 1000), (2, 2000)):
        tasks = [BenchNotebook(n=offset + i) for i in range(count)]
        started = time.perf_counter()
        ok = nbflow.build(tasks, workers=workers)
        timings[workers] = time.perf_counter() - started
        per_task = timings[workers] / count
        state = "" if ok else "  (some failed)"
        print(
            f"  {workers} worker(s)  {timings[workers]:6.2f} s  "
            f"({per_task:.2f} s per task){state}"
        )
    print(f"  speed-up with 2 workers: {timings[1] / timings[2]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("papermill").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="nbflow-notebook-bench-") as folder:
        os.chdir(folder)
        write_notebook(Path("bench.ipynb"))
        Path("bare").mkdir()
        print(f"cpus: {os.cpu_count()}, scratch: {folder}")
        overhead(args.repeat)
        parallel(args.tasks)


if __name__ == "__main__":
    main()
