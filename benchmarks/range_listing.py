"""How fast a range finds its missing dates: folder listings versus one check per date.

Five daily task families write file targets under a temporary folder, each with its
date spelt in its path a different way (``data/sales/2024-01-31.csv``,
``data/stock/2024/01/31/stock.csv``, ...), three years of them with three gaps each.
For each family a 3-year range is asked for its missing dates (``requires()``), under
nbflow and under Luigi 3.8.1, with the tool that checks one date at a time
(``RangeDailyBase``) and the one that lists folders (``RangeDaily``). The file-system
calls are counted by wrapping each library's ``LocalTarget.exists`` and
``LocalFileSystem.exists`` and ``listdir`` (Luigi's ``LocalTarget.exists`` calls its
file system's ``exists``; nbflow's stats the file itself). The times are the wall and
CPU time of the five ``requires()`` calls (each the best of ``--repeat``), file
creation excluded; the goal is judged on CPU time, which moves less with the load of
a shared machine. "right" says whether exactly the gaps were found.

Usage::

    python benchmarks/range_listing.py             # both libraries
    python benchmarks/range_listing.py --no-luigi  # nbflow only
    python benchmarks/range_listing.py --years 10 --repeat 5

Prints a table and PASS/MISS for the issue's goal (a 3-year daily range over 5
families answers in well under a second: <= 0.5 s); never asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

LAYOUTS = (
    "data/sales/%Y-%m-%d.csv",
    "data/stock/%Y/%m/%d/stock.csv",
    "data/refunds/day=%Y%m%d/part-0.parquet",
    "data/2019-archive/visits_%Y_%m_%d.json",
    "data/fx/%Y/fx-%m-%d.csv",
)
GOAL_SECONDS = 0.5
START = dt.date(2024, 1, 1)


def gaps_for(years: int) -> set[dt.date]:
    """Three missing days: the first, one in the middle, the last."""
    stop = START + dt.timedelta(days=365 * years)
    return {START, START + (stop - START) / 2, stop - dt.timedelta(days=1)}


def write_tree(root: Path, years: int) -> None:
    gaps = gaps_for(years)
    day, stop = START, START + dt.timedelta(days=365 * years)
    while day < stop:
        if day not in gaps:
            for layout in LAYOUTS:
                path = root / day.strftime(layout)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"x")
        day += dt.timedelta(days=1)


def count_calls(file_system: type, target: type, calls: Counter[str]) -> None:
    """Count calls of ``target.exists`` and of ``file_system``'s exists and listdir."""
    for owner, name, key in (
        (target, "exists", "target.exists"),
        (file_system, "exists", "fs.exists"),
        (file_system, "listdir", "fs.listdir"),
    ):
        original = getattr(owner, name)

        @functools.wraps(original)
        def counted(
            self: Any,
            *args: Any,
            _key: str = key,
            _original: Any = original,
            **kwargs: Any,
        ) -> Any:
            calls[_key] += 1
            return _original(self, *args, **kwargs)

        setattr(owner, name, counted)


def families(lib: Any) -> list[type]:
    made = []
    for index, layout in enumerate(LAYOUTS):

        def output(self: Any, _layout: str = layout) -> Any:
            return lib.LocalTarget(self.day.strftime(_layout))

        body = {"day": lib.DateParameter(), "output": output, "__module__": __name__}
        made.append(type(f"RangeBench{index}", (lib.Task,), body))
    return made


def measure(
    lib: Any, tools: Any, tool: str, years: int, repeat: int, calls: Counter[str]
) -> dict:
    stop = START + dt.timedelta(days=365 * years)
    now = int(dt.datetime(stop.year, stop.month, stop.day, tzinfo=dt.UTC).timestamp())
    classes = families(lib)
    best, best_cpu, found = float("inf"), float("inf"), []
    for attempt in range(repeat):
        calls.clear()
        ranges = [
            getattr(tools, tool)(of=cls, start=START, stop=stop, now=now + attempt,
                                 days_back=366 * years + 10, task_limit=10_000)
            for cls in classes
        ]  # fmt: skip
        started, started_cpu = time.perf_counter(), time.process_time()
        found = [sorted(dep.day for dep in task.requires()) for task in ranges]
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    expected = sorted(gaps_for(years))
    return {
        "tool": tool,
        "seconds": best,
        "cpu": best_cpu,
        "target.exists": calls["target.exists"],
        "fs.exists": calls["fs.exists"],
        "fs.listdir": calls["fs.listdir"],
        "missing": sum(len(days) for days in found),
        "right": all(days == expected for days in found),
    }


def run_library(name: str, years: int, repeat: int) -> list[dict]:
    calls: Counter[str] = Counter()
    if name == "nbflow":
        import nbflow as lib
        from nbflow.core import target
        from nbflow.tools import range as tools
    else:
        import logging

        import luigi as lib
        import luigi.local_target as target
        from luigi.tools import range as tools

        logging.getLogger("luigi-interface").setLevel(logging.CRITICAL)
    count_calls(target.LocalFileSystem, target.LocalTarget, calls)
    rows = []
    for tool in ("RangeDailyBase", "RangeDaily"):
        row = measure(lib, tools, tool, years, repeat, calls)
        rows.append({"library": name, **row})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=3, help="range length (3)")
    parser.add_argument("--repeat", type=int, default=3, help="keep the best of N (3)")
    parser.add_argument("--no-luigi", action="store_true", help="nbflow only")
    args = parser.parse_args(argv)
    libraries = ["nbflow"] if args.no_luigi else ["nbflow", "luigi"]
    with tempfile.TemporaryDirectory(prefix="nbflow-range-") as root:
        os.chdir(root)
        write_tree(Path(root), args.years)
        rows = [
            row
            for name in libraries
            for row in run_library(name, args.years, args.repeat)
        ]
    days = 365 * args.years
    print(
        f"{len(LAYOUTS)} families x {days} days, {len(gaps_for(args.years))} gaps each\n"
    )
    print(
        "| library | tool | Target.exists | FileSystem.exists | FileSystem.listdir "
        "| wall s | CPU s | missing found | right |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row['library']} | {row['tool']} | {row['target.exists']:,} "
            f"| {row['fs.exists']:,} | {row['fs.listdir']:,} | {row['seconds']:.3f} "
            f"| {row['cpu']:.3f} "
            f"| {row['missing']:,} | {'yes' if row['right'] else 'no'} |"
        )
    ours = next(
        r for r in rows if r["library"] == "nbflow" and r["tool"] == "RangeDaily"
    )
    verdict = "PASS" if ours["cpu"] <= GOAL_SECONDS and ours["right"] else "MISS"
    print(
        f"\nnbflow RangeDaily, {args.years} years x {len(LAYOUTS)} families: "
        f"CPU <= {GOAL_SECONDS} s and right  {verdict} ({ours['cpu']:.3f} s CPU, "
        f"{ours['seconds']:.3f} s wall, "
        f"{ours['fs.exists'] + ours['fs.listdir']} file-system calls)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
