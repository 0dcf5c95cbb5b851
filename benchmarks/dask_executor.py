"""Benchmark the dask executor against the thread and process executors.

Prints numbers and ratios, never asserts. In one run, side by side:

1. sleep: 200 tasks that each sleep 50 ms, 2 at a time (ideal: 5 s);
2. cpu: 100 tasks that each spend ~50 ms of pure-Python CPU, 2 at a time (threads
   hold the GIL: ideal 5 s for threads, 2.5 s for 2 processes or 2 Dask workers);
3. overhead: 2,000 no-op tasks, 2 at a time: wall seconds per task, the cost of
   nbflow's path through each executor (for Dask: pack, submit, the ``started``
   event, the result's round trip).

Dask runs on one LocalCluster of 2 worker processes (one thread each), started once
as ``--executor dask --workers 2`` starts it; its start-up time is printed apart.
The tasks are defined in this script's ``__main__``, so they travel by value, as a
notebook's do.

Run from the repository root::

    python benchmarks/dask_executor.py [--sleep-tasks 200] [--cpu-tasks 100]
                                       [--noop-tasks 2000]
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import nbflow

#: Seconds each sleeping task sleeps.
SLEEP = 0.05


class BenchDaskSleep(nbflow.Task):
    """Sleep 50 ms."""

    n = nbflow.IntParameter()

    def run(self) -> None:
        time.sleep(SLEEP)


class BenchDaskCpu(nbflow.Task):
    """Spend ~50 ms of CPU in pure Python."""

    n = nbflow.IntParameter()
    loops = nbflow.IntParameter()

    def run(self) -> None:
        total = 0
        for i in range(self.loops):
            total += i * i
        assert total >= 0  # keeps the loop from being optimised away


class BenchDaskNoop(nbflow.Task):
    """Do nothing."""

    n = nbflow.IntParameter()

    def run(self) -> None:
        pass


def calibrate(target: float = 0.05) -> int:
    """Return the loop count that takes ``target`` CPU seconds here (best of 5).

    CPU time of this thread, not wall time: other load on the machine must not make
    the tasks smaller.
    """
    loops = 100_000
    fastest = float("inf")
    for _ in range(5):
        started = time.thread_time()
        BenchDaskCpu(n=-1, loops=loops).run()
        fastest = min(fastest, time.thread_time() - started)
    return max(1, int(loops * target / fastest))


def timed(roots: list[Any], executor: Any) -> float:
    """Return the wall seconds ``build`` takes to run ``roots`` (all must succeed)."""
    started = time.perf_counter()
    ok = nbflow.build(roots, executor=executor, workers=2)
    elapsed = time.perf_counter() - started
    if not ok:
        message = f"a benchmark run failed ({executor})"
        raise SystemExit(message)
    return elapsed


def measure(name: str, roots_of: Any, executors: dict[str, Any], count: int) -> None:
    """Run the same workload on each executor; print seconds, rate, ratio to threads."""
    print(f"\n{name}: {count} tasks, 2 at a time")
    print(
        f"  {'executor':<10} {'wall s':>8} {'tasks/s':>9} {'ms/task':>8} {'vs threads':>11}"
    )
    base = None
    for label, executor in executors.items():
        seconds = timed(roots_of(), executor)
        base = base or seconds
        print(
            f"  {label:<10} {seconds:8.2f} {count / seconds:9.1f} "
            f"{1000 * seconds / count:8.2f} {seconds / base:10.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sleep-tasks", type=int, default=200)
    parser.add_argument("--cpu-tasks", type=int, default=100)
    parser.add_argument("--noop-tasks", type=int, default=2000)
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    from distributed import Client

    from nbflow.dask.cluster import start_local_cluster

    started = time.perf_counter()
    cluster = start_local_cluster(2)
    client = Client(cluster)
    print(
        f"LocalCluster of 2 worker processes started in {time.perf_counter() - started:.2f} s"
    )
    loops = calibrate()
    print(f"cpu task: {loops:,} loop iterations (~50 ms of CPU here, measured)")
    executors = {"threads": "threads", "processes": "processes", "dask": client}
    try:
        measure(
            f"sleep {int(SLEEP * 1000)} ms",
            lambda: [BenchDaskSleep(n=i) for i in range(args.sleep_tasks)],
            executors,
            args.sleep_tasks,
        )
        measure(
            "cpu ~50 ms",
            lambda: [BenchDaskCpu(n=i, loops=loops) for i in range(args.cpu_tasks)],
            executors,
            args.cpu_tasks,
        )
        measure(
            "no-op (per-task overhead)",
            lambda: [BenchDaskNoop(n=i) for i in range(args.noop_tasks)],
            executors,
            args.noop_tasks,
        )
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
