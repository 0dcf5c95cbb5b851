"""Benchmark the kernel extension: view cost, no-op runs, background latency.

Prints measured numbers and PASS/MISS against the targets; never asserts.

1. The live view's cost on a 2,000-task run of no-op tasks (the worst case: the view's
   work per notification is compared with almost nothing): the same build bare, with
   the kernel's text view, with a ``RunView`` (nbflow.widgets; without a frontend it
   still receives and processes every notification) as a kernel run has it, and with
   the RunView alone. Target: <= 10% slower.
2. ``%nbflow run`` on a 1,000-task graph that is already complete, in an IPython
   shell: time until the "nothing to do" result. Target: <= 0.2 s.
3. ``%nbflow run --background`` on a 2,000-task graph, in an IPython shell: how long
   the magic takes to return, and how long the next cell then takes while the run
   works in the background. Target: <= 100 ms until the next cell has run.

Usage::

    python benchmarks/kernel_bench.py [--repeat 5]

Imports: stdlib, nbflow, IPython; nbflow.widgets if installed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

import nbflow
from nbflow.core import config
from nbflow.core.run import Run, worker_options
from nbflow.core.worker import Worker
from nbflow.kernel.display import TextFollower
from nbflow.kernel.record import RunRecord

VIEW_TASKS = 2_000
COMPLETE_TASKS = 1_000
VIEW_BUDGET = 0.10
NOTHING_BUDGET = 0.2
BACKGROUND_BUDGET = 0.100


class Leaf(nbflow.Task):
    """A no-op task with no outputs (it always runs)."""

    n = nbflow.IntParameter()

    def run(self) -> None:
        pass


class FanIn(nbflow.WrapperTask):
    """Requires ``size - 1`` leaves."""

    size = nbflow.IntParameter()

    def requires(self) -> list[Leaf]:
        return [Leaf(n=i) for i in range(self.size - 1)]


class Stored(nbflow.Task):
    """A task whose output (in memory) already exists."""

    n = nbflow.IntParameter()

    def output(self) -> nbflow.MemoryTarget:
        return nbflow.MemoryTarget(f"kernel-bench/stored-{self.n}")

    def run(self) -> None:
        with self.output().open("w") as out:
            out.write("x")


class AllStored(nbflow.WrapperTask):
    """Requires ``size - 1`` complete tasks: the whole graph is complete."""

    size = nbflow.IntParameter()

    def requires(self) -> list[Stored]:
        return [Stored(n=i) for i in range(self.size - 1)]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def timed_build(view: str) -> float:
    """Build a fresh 2,000-task fan-in shown by ``view``; return the wall seconds.

    Views: "none" (a bare build), "text" (what a kernel run shows without a frontend:
    the run record and the text view), "widgets" (the run record and a RunView, as in
    JupyterLab), "RunView" (the widget alone).
    """
    settings = config.current_settings()
    options = worker_options(settings, workers=1, executor="sync")
    root = FanIn(size=VIEW_TASKS)
    run = Run(Worker(options=options), [root], settings, track_progress=view != "none")
    follower = widget = None
    if view in ("text", "widgets"):
        record = RunRecord(1, run, [root])
        run.subscribe(record)
    if view == "text":
        follower = TextFollower(record, stream=io.StringIO())
    if view in ("widgets", "RunView"):
        from nbflow.widgets import RunView

        widget = RunView(run)
    begun = time.perf_counter()
    run.start()
    run.wait()
    if follower is not None:
        follower.finish(run.result)  # the main thread's share of the work
    took = time.perf_counter() - begun
    if widget is not None:
        widget.close()
    return took


def bench_view(repeat: int) -> None:
    print(
        f"1. live view on a {VIEW_TASKS:,}-task run (best of {repeat}, sync executor)"
    )
    views = ["none", "text"]
    try:
        import nbflow.widgets  # noqa: F401

        views += ["widgets", "RunView"]
    except ImportError:
        print("   nbflow.widgets is not importable: measuring the text view only")
    for view in views:  # warm up: imports, caches
        timed_build(view)
    best = {}
    for view in views:
        times = [timed_build(view) for _ in range(repeat)]
        best[view] = min(times)
        print(
            f"   {view:<8} {best[view]:.3f} s (median {statistics.median(times):.3f})"
        )
    for view in views[1:]:
        slower = best[view] / best["none"] - 1
        print(
            f"   {view}: {slower:+.1%} vs no view (goal <= +{VIEW_BUDGET:.0%}) "
            f"{verdict(slower <= VIEW_BUDGET)}"
        )


def shell_with_nbflow():
    from IPython.core.interactiveshell import InteractiveShell

    os.environ["NBFLOW_DISPLAY"] = "text"
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext nbflow")
    shell.user_ns.update(AllStored=AllStored, Stored=Stored, FanIn=FanIn)
    return shell


def bench_nothing_to_do(shell, repeat: int) -> None:
    print(f"2. %nbflow run on a {COMPLETE_TASKS:,}-task graph that is already complete")
    for i in range(COMPLETE_TASKS - 1):
        with Stored(n=i).output().open("w") as out:
            out.write("x")
    times = []
    for _ in range(repeat):
        sink = io.StringIO()
        begun = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            result = shell.run_cell(f"%nbflow run AllStored --size {COMPLETE_TASKS}")
        times.append(time.perf_counter() - begun)
        if not result.success or "nothing to do" not in sink.getvalue():
            print("   unexpected output:", sink.getvalue()[-300:])
    best = min(times)
    print(
        f"   time to 'nothing to do': {best:.3f} s best, {statistics.median(times):.3f} "
        f"s median (goal <= {NOTHING_BUDGET} s) {verdict(best <= NOTHING_BUDGET)}"
    )


def bench_background(shell, repeat: int) -> None:
    print(f"3. %nbflow run --background on a {VIEW_TASKS:,}-task graph, then a cell")
    returns, next_cells = [], []
    for _ in range(repeat):
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            begun = time.perf_counter()
            result = shell.run_cell(
                f"handle = %nbflow run FanIn --size {VIEW_TASKS} --background"
            )
            returned = time.perf_counter()
            shell.run_cell("after = 1 + 1")
            finished = time.perf_counter()
        handle = shell.user_ns["handle"]
        busy = not handle.done()
        handle.wait()
        if not result.success or not busy:
            print("   note: the run was not busy while the next cell ran")
        returns.append(returned - begun)
        next_cells.append(finished - returned)
    total = [a + b for a, b in zip(returns, next_cells)]
    print(
        f"   magic returned after {statistics.median(returns) * 1000:.1f} ms; the next "
        f"cell took {statistics.median(next_cells) * 1000:.1f} ms (medians)"
    )
    worst = max(total)
    print(
        f"   until the next cell has run: {statistics.median(total) * 1000:.1f} ms median, "
        f"{worst * 1000:.1f} ms worst (goal <= {BACKGROUND_BUDGET * 1000:.0f} ms) "
        f"{verdict(worst <= BACKGROUND_BUDGET)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"nbflow kernel benchmarks (Python {sys.version.split()[0]})")
    bench_view(args.repeat)
    shell = shell_with_nbflow()
    bench_nothing_to_do(shell, args.repeat)
    bench_background(shell, args.repeat)


if __name__ == "__main__":
    main()
