"""Benchmark nbflow against Luigi on the same no-op task graphs.

Every (library, graph, size) measurement runs in a fresh interpreter
(``python benchmarks/run.py --one LIB GRAPH SIZE`` prints one JSON object), so peak
RSS and import caches never mix. The parent prints a table (wall seconds of the
``build()`` call, tasks/s, peak RSS, nbflow's speed relative to Luigi at the same
size) and checks nbflow's targets, printing PASS/MISS (it never asserts).

Usage::

    python benchmarks/run.py                  # full run (under ~10 minutes on 2 cores)
    python benchmarks/run.py --quick          # smoke run, small sizes only
    python benchmarks/run.py --no-luigi --json results.json
    python benchmarks/run.py --luigi-sizes fan-in=500,1000 --luigi-sizes chain=200

Imports: stdlib; nbflow and luigi only inside the measuring subprocess.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LIBRARIES = ("nbflow", "luigi")

#: nbflow-only sizes (Luigi takes minutes at these sizes).
NBFLOW_SIZES: dict[str, list[int]] = {
    "fan-in": [10_000, 100_000],
    "chain": [5_000],
    "chain-fail": [10_000],
    "diamonds": [10_000],
    "all-complete": [5_000],
}
#: Sizes run under both libraries so the ratio compares like with like.
LUIGI_SIZES: dict[str, list[int]] = {
    "fan-in": [500, 1_000, 2_000],
    "chain": [500, 1_000],
    "chain-fail": [],
    "diamonds": [500],
    "all-complete": [1_000, 5_000],
}
QUICK_NBFLOW_SIZES: dict[str, list[int]] = {
    "fan-in": [1_000, 10_000],
    "chain": [1_000],
    "chain-fail": [2_000],
    "diamonds": [1_000],
    "all-complete": [1_000],
}
QUICK_LUIGI_SIZES: dict[str, list[int]] = {
    "fan-in": [200],
    "chain": [200],
    "chain-fail": [],
    "diamonds": [200],
    "all-complete": [500],
}


# --------------------------------------------------------------------------- child


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _import_library(name: str) -> Any:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    module = importlib.import_module(name)
    if name == "luigi":
        for logger_name in (
            "luigi",
            "luigi-interface",
            "luigi.scheduler",
            "luigi.worker",
        ):
            logging.getLogger(logger_name).setLevel(logging.CRITICAL)
    return module


def _build(lib_name: str, lib: Any, roots: list[Any]) -> bool:
    if lib_name == "luigi":
        return bool(
            lib.build(roots, local_scheduler=True, workers=1, log_level="CRITICAL")
        )
    return bool(lib.build(roots, workers=1, local_scheduler=True))


def _diagnose(lib_name: str, lib: Any, graph: str, size: int) -> str:
    """Build a fresh copy of the graph with a detailed summary, to say what went wrong."""
    from graphs import GRAPHS

    roots = GRAPHS[graph].factory(lib, size)
    options = {"log_level": "CRITICAL"} if lib_name == "luigi" else {}
    result = lib.build(
        roots, workers=1, local_scheduler=True, detailed_summary=True, **options
    )
    text = getattr(result, "one_line_summary", "") or getattr(
        result, "summary_text", ""
    )
    return " ".join(str(text).split())[:300]


def measure(lib_name: str, graph: str, size: int) -> dict[str, Any]:
    """Import ``lib_name``, build ``graph`` at ``size`` and return the measurements."""
    import warnings

    from graphs import GRAPHS

    # Luigi warns once per task class that a task without outputs is never complete.
    warnings.simplefilter("ignore")
    shape = GRAPHS[graph]
    record: dict[str, Any] = {
        "library": lib_name,
        "graph": graph,
        "size": size,
        "tasks": shape.count(size),
    }
    start = time.perf_counter()
    lib = _import_library(lib_name)
    record["import_s"] = time.perf_counter() - start
    record["rss_after_import_mb"] = _peak_rss_mb()
    start = time.perf_counter()
    roots = shape.factory(lib, size)
    record["setup_s"] = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        succeeded = _build(lib_name, lib, roots)
    except Exception as exc:  # noqa: BLE001  (a RecursionError is a result to report)
        record["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        succeeded = None
    record["build_s"] = time.perf_counter() - start
    record["cpu_s"] = time.process_time() - cpu_start
    record["peak_rss_mb"] = _peak_rss_mb()
    record["succeeded"] = succeeded
    record["as_expected"] = succeeded is shape.expect_success
    if not record["as_expected"] and "error" not in record:
        record["diagnosis"] = _diagnose(lib_name, lib, graph, size)
    record["tasks_per_s"] = (
        record["tasks"] / record["build_s"] if record["build_s"] else 0
    )
    return record


# -------------------------------------------------------------------------- parent


@dataclass(frozen=True)
class Job:
    """One measurement to run in its own subprocess."""

    library: str
    graph: str
    size: int


def run_one(job: Job, timeout: float) -> dict[str, Any]:
    """Run ``job`` in a fresh interpreter; return its record (or a timeout/error record)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one"]
    command += [job.library, job.graph, str(job.size)]
    base = {"library": job.library, "graph": job.graph, "size": job.size}
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {**base, "timeout": True, "timeout_s": timeout}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {**base, "error": f"exit {done.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


def best_of(job: Job, timeout: float, repeat: int) -> dict[str, Any]:
    """Run ``job`` ``repeat`` times (fresh processes); keep the fastest build."""
    records = [run_one(job, timeout) for _ in range(max(1, repeat))]
    timed = [r for r in records if "build_s" in r]
    if not timed:
        return records[0]
    best = min(timed, key=lambda r: r["build_s"])
    return {**best, "runs": len(records)}


def parse_size_spec(
    specs: list[str] | None, default: dict[str, list[int]]
) -> dict[str, list[int]]:
    """Parse ``--luigi-sizes`` values: ``500,1000`` (every graph) or ``fan-in=500,1000``."""
    if not specs:
        return default
    from graphs import GRAPHS

    sizes = {graph: list(values) for graph, values in default.items()}
    for spec in specs:
        graph, _, numbers = spec.rpartition("=")
        values = [int(n) for n in numbers.split(",") if n.strip()]
        if not graph:
            sizes = {name: list(values) for name in GRAPHS if name != "chain-fail"}
        elif graph in GRAPHS:
            sizes[graph] = values
        else:
            known = ", ".join(GRAPHS)
            msg = f"--luigi-sizes: unknown graph {graph!r}. Expected one of {known}."
            raise SystemExit(msg)
    return sizes


def plan(args: argparse.Namespace) -> list[Job]:
    """Return the jobs in run order: per graph, shared sizes first, then nbflow-only."""
    nbflow_sizes = QUICK_NBFLOW_SIZES if args.quick else NBFLOW_SIZES
    default_luigi = QUICK_LUIGI_SIZES if args.quick else LUIGI_SIZES
    luigi_sizes = parse_size_spec(args.luigi_sizes, default_luigi)
    jobs: list[Job] = []
    for graph in nbflow_sizes.keys() | luigi_sizes.keys():
        shared = sorted(set(luigi_sizes.get(graph, [])))
        for size in shared:
            jobs.append(Job("nbflow", graph, size))
            if not args.no_luigi:
                jobs.append(Job("luigi", graph, size))
        only_nbflow = sorted(set(nbflow_sizes.get(graph, [])) - set(shared))
        jobs.extend(Job("nbflow", graph, size) for size in only_nbflow)
    order = list(NBFLOW_SIZES)
    return sorted(
        jobs, key=lambda j: (order.index(j.graph), j.size, j.library != "nbflow")
    )


def _seconds(record: dict[str, Any]) -> str:
    if record.get("timeout"):
        return f"timeout>{record['timeout_s']:.0f}"
    if "build_s" not in record:
        return "error"
    return f"{record['build_s']:.3f}"


def _ratio(record: dict[str, Any], results: list[dict[str, Any]]) -> str:
    if record["library"] != "nbflow" or "build_s" not in record:
        return ""
    for other in results:
        if (other["library"], other["graph"], other["size"]) == (
            "luigi",
            record["graph"],
            record["size"],
        ):
            if other.get("timeout"):
                return f">{other['timeout_s'] / record['build_s']:.0f}x"
            if "build_s" in other and record["build_s"] > 0:
                return f"{other['build_s'] / record['build_s']:.1f}x"
    return ""


HEADER = (
    "graph",
    "size",
    "tasks",
    "library",
    "build s",
    "cpu s",
    "tasks/s",
    "peak RSS MB",
    "import s",
    "nbflow speedup",
    "ok",
)


def table_rows(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Return one printable row per result."""
    rows = []
    for record in results:
        ok = "yes" if record.get("as_expected") else record.get("error", "no")
        if record.get("diagnosis"):
            ok = f"no: {record['diagnosis']}"
        if record.get("timeout"):
            ok = "timeout"
        rows.append(
            (
                record["graph"],
                f"{record['size']:,}",
                f"{record.get('tasks', 0):,}",
                record["library"],
                _seconds(record),
                f"{record['cpu_s']:.3f}" if "cpu_s" in record else "",
                f"{record['tasks_per_s']:,.0f}" if "tasks_per_s" in record else "",
                f"{record['peak_rss_mb']:.0f}" if "peak_rss_mb" in record else "",
                f"{record['import_s']:.3f}" if "import_s" in record else "",
                _ratio(record, results),
                str(ok)[:60],
            )
        )
    return rows


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Format rows as a Markdown table (readable in a terminal too)."""
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    right = {1, 2, 4, 5, 6, 7, 8, 9}

    def line(cells: tuple[str, ...]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2)
            for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(HEADER), rule, *(line(r) for r in rows)])


def _find(
    results: list[dict[str, Any]], graph: str, size: int
) -> dict[str, Any] | None:
    for record in results:
        if (record["library"], record["graph"], record["size"]) == (
            "nbflow",
            graph,
            size,
        ):
            return record
    return None


def _time_target(results, graph, size, limit) -> tuple[str, str]:
    record = _find(results, graph, size)
    label = f"nbflow {graph} {size:,}: build <= {limit} s"
    if record is None:
        return label, "SKIP (not measured)"
    if "build_s" not in record or not record.get("as_expected"):
        return (
            label,
            f"MISS ({_seconds(record)}, {record.get('error', 'unexpected result')})",
        )
    verdict = "PASS" if record["build_s"] <= limit else "MISS"
    return label, f"{verdict} ({record['build_s']:.3f} s)"


def check_targets(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return (target, verdict) pairs; verdicts are PASS, MISS, OK, FAIL or SKIP."""
    checks = [
        _time_target(results, "fan-in", 10_000, 1.0),
        _time_target(results, "fan-in", 100_000, 10.0),
        _time_target(results, "chain", 5_000, 0.5),
        _time_target(results, "all-complete", 5_000, 0.1),
    ]
    big = _find(results, "fan-in", 100_000)
    label = "nbflow fan-in 100,000: peak RSS <= 1 GB"
    if big is None or "peak_rss_mb" not in big:
        checks.append((label, "SKIP (not measured)"))
    else:
        verdict = "PASS" if big["peak_rss_mb"] <= 1024 else "MISS"
        checks.append((label, f"{verdict} ({big['peak_rss_mb']:.0f} MB)"))
    small = _find(results, "fan-in", 10_000)
    label = "nbflow scaling: time(fan-in 100k) / time(fan-in 10k) <= 12"
    if big is None or small is None or "build_s" not in big or "build_s" not in small:
        checks.append((label, "SKIP (not measured)"))
    else:
        factor = big["build_s"] / small["build_s"]
        checks.append((label, f"{'PASS' if factor <= 12 else 'MISS'} ({factor:.1f})"))
    deep = _find(results, "chain-fail", 10_000)
    label = "nbflow chain-fail 10,000 deep: fails cleanly, no RecursionError"
    if deep is None:
        checks.append((label, "SKIP (not measured)"))
    elif deep.get("as_expected"):
        checks.append((label, f"OK (build returned False in {deep['build_s']:.3f} s)"))
    else:
        checks.append(
            (label, f"FAIL ({deep.get('error', 'build did not report failure')})")
        )
    return checks


def machine() -> str:
    """Describe the machine: OS, Python, CPU count."""
    return (
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )


def revision() -> str:
    """Return the nbflow checkout's commit, marked "+dirty" if nbflow/ has local edits."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "nbflow"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one measurement or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--one",
        nargs=3,
        metavar=("LIB", "GRAPH", "SIZE"),
        help="measure one build in this process and print JSON",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes only (smoke run)"
    )
    parser.add_argument("--no-luigi", action="store_true", help="run nbflow only")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each measurement N times and keep the fastest (default 1)",
    )
    parser.add_argument("--json", metavar="FILE", help="write all results to FILE")
    parser.add_argument(
        "--luigi-sizes",
        action="append",
        metavar="[GRAPH=]N,N",
        help="sizes run under both libraries (repeatable)",
    )
    parser.add_argument(
        "--luigi-timeout",
        type=float,
        default=120.0,
        help="seconds before a Luigi run is reported as timeout",
    )
    parser.add_argument(
        "--nbflow-timeout",
        type=float,
        default=300.0,
        help="seconds before an nbflow run is reported as timeout",
    )
    args = parser.parse_args(argv)
    if args.one:
        lib_name, graph, size = args.one
        if lib_name not in LIBRARIES:
            parser.error(
                f"LIB must be one of {', '.join(LIBRARIES)} (got {lib_name!r})"
            )
        print(json.dumps(measure(lib_name, graph, int(size))))
        return 0
    return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    """Run every planned job, print the table and the targets, optionally write JSON."""
    jobs = plan(args)
    started = time.perf_counter()
    print(f"nbflow vs luigi: {len(jobs)} measurements, each in a fresh process")
    print(
        f"{machine()}; nbflow {revision()}; {dt.datetime.now(dt.timezone.utc).date()}"
    )
    results = []
    for number, job in enumerate(jobs, 1):
        timeout = args.luigi_timeout if job.library == "luigi" else args.nbflow_timeout
        print(
            f"[{number}/{len(jobs)}] {job.library} {job.graph} {job.size:,} ...",
            end=" ",
            flush=True,
        )
        record = best_of(job, timeout, args.repeat)
        print(_seconds(record), flush=True)
        results.append(record)
    print()
    print(format_table(table_rows(results)))
    print()
    checks = check_targets(results)
    width = max(len(label) for label, _ in checks)
    for label, verdict in checks:
        print(f"{label.ljust(width)}  {verdict}")
    total = time.perf_counter() - started
    print(f"\ntotal benchmark time {total:.0f} s")
    if args.json:
        payload = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(),
            "machine": machine(),
            "nbflow_revision": revision(),
            "results": results,
            "targets": dict(checks),
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
