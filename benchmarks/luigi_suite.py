"""Luigi's own test suite as nbflow's compatibility bar.

Downloads Luigi 3.8.1's source distribution from PyPI (it ships ``test/``; nothing of
Luigi's is committed here), runs a chosen list of its user-facing test files twice --
under real Luigi, and with ``luigi`` and its submodules resolving to nbflow -- and prints
per file: tests collected, passed under Luigi, passed under nbflow, then the failing
tests grouped by cause.

Counting (the issue's bar: >= 90 % of the public-API tests that pass under Luigi):

- **public**: passes under Luigi and uses only Luigi's public API. These are counted.
- **internals**: the test's source reaches into luigid's internals (the central
  scheduler, its RPC, the worker's private methods; see ``INTERNALS``), or its file
  cannot be imported without luigid's modules (``INTERNAL_IMPORT``). Reported
  separately, not counted.
- **range**: ``luigi.tools.range`` tests, counted with the recurring-runs work.
- **deliberate**: tests of behaviour nbflow changes on purpose (``DELIBERATE`` below,
  each with the reason and README's name for it). Listed, not counted.

Luigi's ``test/conftest.py`` and ``test/helpers.py`` reach into Luigi's private
attributes; the nbflow run replaces them with ``luigi_suite_support/conftest.py`` and
``helpers.py`` (same names and meanings, written against nbflow's API). The test files
themselves run unchanged.

Usage::

    python benchmarks/luigi_suite.py                   # every file, both runs (~3-5 min)
    python benchmarks/luigi_suite.py -k util_test -k mock_test   # files whose name has these
    python benchmarks/luigi_suite.py --json results.json --causes 40
    python benchmarks/luigi_suite.py --show-failures   # also list every failing public test

The download, the two ``pip install --target`` trees and the results of the Luigi side
(which do not change) are cached in ``~/.cache/nbflow/luigi-suite`` (``--cache DIR`` to
move it; ``--fresh-luigi`` runs Luigi's side again).

Imports: stdlib only; Luigi and nbflow run in pytest subprocesses.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUPPORT = HERE / "luigi_suite_support"
LUIGI_VERSION = "3.8.1"
#: What the test files need besides Luigi (the ``mock`` backport, psutil).
TEST_REQUIREMENTS = ("mock", "psutil")

#: Luigi's user-facing test files: tasks, parameters, targets, date intervals,
#: util/decorators, mock, ranges, config, command line, events, execution summary,
#: worker behaviour.
FILES = (
    "auto_namespace_test",
    "choice_parameter_test.py",
    "clone_test.py",
    "cmdline_test.py",
    "config_env_test.py",
    "config_toml_test.py",
    "customized_run_test.py",
    "date_interval_test.py",
    "date_parameter_test.py",
    "decorator_test.py",
    "dict_parameter_test.py",
    "dynamic_import_test.py",
    "event_callbacks_test.py",
    "execution_summary_test.py",
    "factorial_test.py",
    "fib_test.py",
    "helpers_test.py",
    "instance_test.py",
    "instance_wrap_test.py",
    "interface_test.py",
    "list_parameter_test.py",
    "local_target_test.py",
    "lock_test.py",
    "mock_test.py",
    "most_common_test.py",
    "notifications_test.py",
    "numerical_parameter_test.py",
    "optional_parameter_test.py",
    "parameter_test.py",
    "priority_test.py",
    "range_test.py",
    "recursion_test.py",
    "retcodes_test.py",
    "set_task_name_test.py",
    "setup_logging_test.py",
    "subtask_test.py",
    "target_test.py",
    "task_bulk_complete_test.py",
    "task_forwarded_attributes_test.py",
    "task_progress_percentage_test.py",
    "task_register_test.py",
    "task_running_resources_test.py",
    "task_serialize_test.py",
    "task_status_message_test.py",
    "task_test.py",
    "util_previous_test.py",
    "util_test.py",
    "visible_parameters_test.py",
    "worker_external_task_test.py",
    "worker_task_test.py",
    "worker_test.py",
    "wrap_test.py",
)
#: Bump when the plugin's records change (Luigi's cached results are then run again).
CACHE_VERSION = 3
#: Files counted with the recurring-runs work (luigi.tools.range).
RANGE_FILES = ("range_test.py",)

#: Tests of behaviour nbflow changes on purpose: (regex on the test id, reason). Each
#: is in README's "Where nbflow deliberately differs from Luigi".
_GLOBALS = (
    "patches a global of a Luigi module ({}); nbflow's Luigi modules re-export the core, "
    "so the patch does not reach the code that uses it"
)
DELIBERATE: tuple[tuple[str, str], ...] = (
    (
        (
            r"retcodes_test.py::RetcodesTest::test_(task_failed|failure_in_complete"
            r"|failure_in_requires|task_limit)$"
        ),
        (
            "a failed task exits 1, not 0 ([retcode] task_failed = 0 and scheduling_error = 0"
            " restore Luigi's codes)"
        ),
    ),
    (
        r"retcodes_test.py::RetcodesTest::test_retry_sucess_task$",
        "a failed task is retried within a run only with keep_alive",
    ),
    (
        r"retcodes_test.py::RetcodesTest::test_validate_dependency_error$",
        (
            "a definition error (requires() returning a non-task) exits 2 with where and how to"
            " fix it; Luigi exits 4"
        ),
    ),
    (
        r"cmdline_test.py::CmdlineTest::test_cmdline_ambiguous_class$",
        "re-defining a task class replaces it (a notebook cell run again)",
    ),
    (
        r"instance_test.py::InstanceTest::test_unhashable_type$",
        "an unhashable value for a plain Parameter is an error naming DictParameter/ListParameter",
    ),
    (
        (
            r"target_test.py::TemporaryPathTest::test_(temporary_path_directory|windowsish_dir"
            r"|hadoopish_dir)$"
        ),
        (
            "temporaries are hidden and named for their owner (host, pid, start) so a later run"
            " removes a killed run's; the tests expect Luigi's '-luigi-tmp-' name"
        ),
    ),
    (
        r"parameter_test.py::TestPathParameter::test_exists\[",
        "run() must create every output: the test's task writes none, so nbflow fails it",
    ),
    (
        r"util_test.py::BasicsTest::test_kwargs_requires_gives_named_inputs$",
        "output() must return targets (checked when the graph is built, with a clear error)",
    ),
    (
        r"task_test.py::TaskTest::test_bad_param$",
        "nbflow's wording of the error (still a ValueError naming the task and parameter)",
    ),
    (
        r"optional_parameter_test.py::OptionalParameterTest::test_warning$",
        "a value given in code as text is parsed, so no wrong-type warning",
    ),
    (
        r"parameter_test.py::TestTaskParameter::testUsage$",
        "TaskParameter accepts a task name given as text",
    ),
    (
        r"date_interval_test.py::DateIntervalTest::test_(comparison_different_types|interval)$",
        (
            "date intervals of different kinds compare unequal (no TypeError); any interval"
            " steps with next()/prev()"
        ),
    ),
    (
        r"list_parameter_test.py::ListParameterTest::test_hash_normalize$",
        "a string given to ListParameter in code is an error, not a list of its characters",
    ),
    (
        r"parameter_test.py::TestParametersHashability::test_parse_invalid_format$",
        "a broken tuple literal raises ParameterValueError (a ValueError), not SyntaxError",
    ),
    (
        r"optional_parameter_test.py::OptionalParameterTest::test_optional_",
        _GLOBALS.format("luigi.parameter.warnings"),
    ),
    (
        (
            r"parameter_test.py::ParameterTest::test_(no_warn_on_none_in_optional|no_warn_on_string"
            r"|no_warn_on_string_in_optional|warn_on_bad_type_in_optional|warn_on_default_none)$"
        ),
        _GLOBALS.format("luigi.parameter.warnings"),
    ),
    (
        r"(dict|list)_parameter_test.py::\w+::test_schema$",
        _GLOBALS.format("luigi.parameter._JSONSCHEMA_ENABLED"),
    ),
    (
        (
            r"parameter_test.py::TestParamWithDefaultFromConfig::testTimeDelta8601"
            r"(MBeforeT|YearMonthNotSupported)$"
        ),
        _GLOBALS.format("luigi.parameter.ParameterException"),
    ),
    (
        r"worker_test.py::MultipleWorkersTest::test_(kill_worker|term_worker)$",
        (
            "with several workers tasks run in threads by default (Luigi forks a process per"
            " task): a task that signals its own process ends the run (--executor processes"
            " isolates tasks)"
        ),
    ),
    (
        r"worker_test.py::MultipleWorkersTest::test_time_out_hung_(single_)?worker$",
        "an IntParameter given a non-whole number in code is an error (Luigi keeps 0.1)",
    ),
    (
        r"parameter_test.py::ParameterTest::test_bool_parsing$",
        "a switch also takes an explicit value on the command line (--flag false)",
    ),
    (
        r"worker_test.py::MultipleWorkersTest::test_zero_workers$",
        "a run with no worker is an error (WorkerCountError), not a run that does nothing",
    ),
    (
        r"event_callbacks_test.py::TestEventCallbacks::test_processing_time_handler_",
        _GLOBALS.format("luigi.worker.time"),
    ),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- preparing the two environments ---------------------------------------------------


def pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} failed:\n{result.stderr.strip()}")


def prepare(cache: Path) -> tuple[Path, Path, Path]:
    """Return (Luigi's test dir, Luigi's site dir, nbflow's site dir), fetching as needed."""
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / f"luigi-{LUIGI_VERSION}"
    if not (source / "test").is_dir():
        log(f"downloading Luigi {LUIGI_VERSION}'s source distribution from PyPI ...")
        pip(
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(cache),
            f"luigi=={LUIGI_VERSION}",
        )
        archive = cache / f"luigi-{LUIGI_VERSION}.tar.gz"
        partial = cache / "extracting"
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        os.replace(partial / f"luigi-{LUIGI_VERSION}", source)
        shutil.rmtree(partial, ignore_errors=True)
    sites = []
    for name, packages in (
        ("site-luigi", (f"luigi=={LUIGI_VERSION}", *TEST_REQUIREMENTS)),
        ("site-nbflow", TEST_REQUIREMENTS),
    ):
        site = cache / name
        if not (site / ".complete").exists():
            log(f"installing {' '.join(packages)} into {site} ...")
            shutil.rmtree(site, ignore_errors=True)
            pip("install", "--target", str(site), *packages)
            (site / ".complete").write_text("")
        shutil.copy(SUPPORT / "plugin.py", site / "nbflow_suite_plugin.py")
        sites.append(site)
    alias = sites[1] / "luigi"
    alias.mkdir(exist_ok=True)
    shutil.copy(SUPPORT / "alias.py", alias / "__init__.py")
    return source / "test", sites[0], sites[1]


def run_dir(work: Path, library: str, tests: Path) -> Path:
    """A fresh copy of Luigi's test/ to run in (tests write files under test/)."""
    root = work / library
    shutil.copytree(tests, root / "test")
    if library == "nbflow":
        for name in ("conftest.py", "helpers.py"):
            shutil.copy(SUPPORT / name, root / "test" / name)
    return root


# -- running ---------------------------------------------------------------------------


def run_file(
    library: str, root: Path, site: Path, name: str, timeout: float, test_timeout: float
) -> dict:
    results = root / f"results-{name.replace('/', '_')}.jsonl"
    results.unlink(missing_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LUIGI_", "NBFLOW_", "PYTEST_", "COV_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(root / "test")]),
        NBFLOW_SUITE_RESULTS=str(results),
        NBFLOW_SUITE_TEST_TIMEOUT=str(test_timeout),
        PYTHONDONTWRITEBYTECODE="1",
    )
    base = [
        sys.executable, "-m", "pytest", "-p", "nbflow_suite_plugin",
        "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts=",
        "--rootdir", str(root), "-W", "ignore::DeprecationWarning",
    ]  # fmt: skip
    started = time.perf_counter()
    targets, output, timed_out, returncode = [f"test/{name}"], "", False, 0
    # A test that kills its own process (a task sending SIGKILL to the worker it runs
    # in) ends the run: the test that was running is recorded as the cause, and the
    # file's remaining tests run again in a fresh process, at most a few times.
    for _attempt in range(5):
        process = subprocess.Popen(
            base + targets, cwd=root, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        left = max(1.0, timeout - (time.perf_counter() - started))
        try:
            output, _ = process.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            timed_out = True
        returncode = process.returncode
        if timed_out or returncode >= 0:
            break
        targets = _after_death(results, returncode)
        if not targets:
            break
    return {
        "library": library,
        "file": name,
        "seconds": time.perf_counter() - started,
        "timed_out": timed_out,
        "returncode": returncode,
        "tail": output.strip().splitlines()[-15:],
        "records": read_records(results),
    }


def _after_death(results: Path, returncode: int) -> list[str]:
    """Record the test a dead process was running; return the tests it never ran."""
    records = read_records(results)
    collected = [r["nodeid"] for r in records if r.get("collected")]
    finished = {r["nodeid"] for r in records if "outcome" in r}
    started = [r["nodeid"] for r in records if r.get("started")]
    killer = next((n for n in reversed(started) if n not in finished), None)
    if killer is not None:
        cause = f"the test process died (signal {-returncode}) during this test"
        with results.open("a", encoding="utf-8") as out:
            out.write(
                json.dumps({"nodeid": killer, "outcome": "error", "cause": cause})
                + "\n"
            )
        finished.add(killer)
    return list(dict.fromkeys(n for n in collected if n not in finished))


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    ]


RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def outcomes(run: dict) -> tuple[dict[str, dict], list[str]]:
    """Per test id: {"outcome", "cause", "internals"}; and the file's collection errors."""
    tests: dict[str, dict] = {}
    collect_errors = []
    for record in run["records"]:
        if "collect_error" in record:
            collect_errors.append(record["cause"])
            continue
        test = tests.setdefault(
            record["nodeid"], {"outcome": None, "cause": "", "internals": []}
        )
        if record.get("collected"):
            test["internals"] = sorted(set(INTERNALS.findall(record["source"])))
            continue
        if record.get("started"):
            continue
        if test["outcome"] is None or RANK[record["outcome"]] > RANK[test["outcome"]]:
            test["outcome"], test["cause"] = record["outcome"], record["cause"]
    for test in tests.values():
        if test["outcome"] is None:
            test["outcome"] = "error"
            test["cause"] = (
                "the file's run timed out"
                if run["timed_out"]
                else "never run (the test process died)"
            )
    return tests, collect_errors


def pytest_failure(tail: list[str]) -> str:
    """The error line of a pytest run that wrote no results (a broken conftest, say)."""
    for line in reversed(tail):
        if re.match(r"^E?\s*\w+(Error|Exception)\b", line.strip()):
            return line.strip().removeprefix("E").strip()
    return tail[-1] if tail else "pytest wrote no results"


def normalise(cause: str) -> str:
    cause = re.sub(r"0x[0-9a-f]+", "0x…", cause)
    cause = re.sub(r"/tmp/\S+", "/tmp/…", cause)
    return cause[:160]


#: What a test must touch to count as "needs luigid's internals" (the central scheduler,
#: its RPC, the worker's private methods, the task history database).
INTERNALS = re.compile(
    r"luigi\.scheduler|luigi\.rpc|luigi\.server|luigi\.db_task_history|luigi\.task_history"
    r"|\b_WorkerSchedulerFactory\b|\b_summary_dict\b|\b_schedule_and_run\b|\bTaskProcess\b"
    r"|\bScheduler\(|RemoteScheduler|\bscheduler\.\w|\bsch\.\w|\b_scheduler\b"
    r"|\bw\d?\._[a-z]|worker\._[a-z]|\._worker\b|CentralPlannerScheduler"
)
#: A test file that cannot even be imported without luigid's modules: its tests count as
#: internals (worker_test.py imports luigi.rpc and luigi.scheduler at the top).
INTERNAL_IMPORT = re.compile(
    r"^(ImportError|ModuleNotFoundError):.*(luigi\.(scheduler|rpc|server)|RemoteScheduler|RPCError)"
)


def category(name: str, test_id: str, internals: list[str], nbflow_cause: str) -> str:
    if name in RANGE_FILES:
        return "range"
    for pattern, _reason in DELIBERATE:
        if re.search(pattern, test_id):
            return "deliberate"
    if internals or INTERNAL_IMPORT.search(nbflow_cause):
        return "internals"
    return "public"


# -- reporting ------------------------------------------------------------------------


def compare(luigi_runs: dict[str, dict], nbflow_runs: dict[str, dict]) -> list[dict]:
    rows = []
    for name, luigi_run in luigi_runs.items():
        under_luigi, luigi_errors = outcomes(luigi_run)
        under_nbflow, nbflow_errors = (
            outcomes(nbflow_runs[name]) if name in nbflow_runs else ({}, [])
        )
        missing_cause = nbflow_errors[0] if nbflow_errors else "not run under nbflow"
        if name in nbflow_runs and not nbflow_runs[name]["records"]:
            missing_cause = pytest_failure(nbflow_runs[name]["tail"])
        if name in nbflow_runs and nbflow_runs[name]["timed_out"]:
            missing_cause = "the file's run timed out"
        for test_id, luigi_test in under_luigi.items():
            nbflow_test = under_nbflow.get(
                test_id, {"outcome": "error", "cause": missing_cause}
            )
            rows.append(
                {
                    "file": name,
                    "test": test_id,
                    "category": category(
                        name,
                        test_id,
                        luigi_test["internals"],
                        nbflow_test["cause"] or "",
                    ),
                    "internals": luigi_test["internals"],
                    "luigi": luigi_test["outcome"] or "error",
                    "luigi_cause": luigi_test["cause"],
                    "nbflow": nbflow_test["outcome"] or "error",
                    "nbflow_cause": nbflow_test["cause"] or "",
                }
            )
        if not under_luigi and luigi_errors:
            log(f"warning: {name} does not even collect under Luigi: {luigi_errors[0]}")
    return rows


def report(
    rows: list[dict], runs: dict[str, dict[str, dict]], args: argparse.Namespace
) -> float | None:
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    header = f"{'file':<36} {'tests':>5} {'luigi':>5} {'public':>6} {'nbflow':>6} {'intern.':>9} {'other':>9} {'s luigi/nbflow':>15}"
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for name in sorted(by_file):
        file_rows = by_file[name]
        passing = [r for r in file_rows if r["luigi"] == "passed"]
        public = [r for r in passing if r["category"] == "public"]
        internals = [r for r in passing if r["category"] == "internals"]
        other = [r for r in passing if r["category"] in ("range", "deliberate")]
        ok = lambda group: sum(r["nbflow"] == "passed" for r in group)  # noqa: E731
        seconds = f"{runs['luigi'][name]['seconds']:.0f}/{runs['nbflow'].get(name, {}).get('seconds', 0):.0f}"
        print(
            f"{name:<36} {len(file_rows):>5} {len(passing):>5} {len(public):>6} {ok(public):>6}"
            f" {ok(internals):>4}/{len(internals):<4} {ok(other):>4}/{len(other):<4} {seconds:>15}"
        )
        totals.update(
            tests=len(file_rows), luigi=len(passing), public=len(public), public_ok=ok(public),
            internals=len(internals), internals_ok=ok(internals), other=len(other), other_ok=ok(other),
        )  # fmt: skip
    print("-" * len(header))
    print(
        f"{'total':<36} {totals['tests']:>5} {totals['luigi']:>5} {totals['public']:>6}"
        f" {totals['public_ok']:>6} {totals['internals_ok']:>4}/{totals['internals']:<4}"
        f" {totals['other_ok']:>4}/{totals['other']:<4}"
    )
    print()
    for label, wanted in (
        ("public-API", "public"),
        ("luigid-internals", "internals"),
        ("range", "range"),
    ):
        failing = [
            r
            for r in rows
            if r["luigi"] == "passed"
            and r["category"] == wanted
            and r["nbflow"] != "passed"
        ]
        if not failing:
            continue
        causes = Counter(normalise(r["nbflow_cause"]) for r in failing)
        print(
            f"Failing {label} tests by cause ({len(failing)} tests, {len(causes)} causes):"
        )
        for cause, count in causes.most_common(args.causes):
            examples = [
                r["test"] for r in failing if normalise(r["nbflow_cause"]) == cause
            ][:2]
            print(f"  {count:>4}  {cause}")
            for example in examples:
                print(f"          e.g. {example}")
        if len(causes) > args.causes:
            print(
                f"  ... and {len(causes) - args.causes} more causes (--causes N shows more)"
            )
        print()
        if args.show_failures and wanted == "public":
            for row in failing:
                print(f"  {row['test']}: {normalise(row['nbflow_cause'])}")
            print()
    deliberate = [
        r for r in rows if r["category"] == "deliberate" and r["luigi"] == "passed"
    ]
    if deliberate:
        print("Deliberate differences (not counted):")
        for row in deliberate:
            reason = next(
                reason
                for pattern, reason in DELIBERATE
                if re.search(pattern, row["test"])
            )
            print(f"  {row['test']} [{row['nbflow']}]: {reason}")
        print()
    if not totals["public"]:
        return None
    share = totals["public_ok"] / totals["public"]
    verdict = "PASS" if share >= args.goal else "MISS"
    print(
        f"public-API tests passing under nbflow: {totals['public_ok']}/{totals['public']}"
        f" = {share:.1%} (goal >= {args.goal:.0%}): {verdict}"
    )
    deliberate_ok = sum(r["nbflow"] == "passed" for r in deliberate)
    with_deliberate = (totals["public_ok"] + deliberate_ok) / (
        totals["public"] + len(deliberate)
    )
    print(
        f"counting the {len(deliberate)} tests of deliberate differences as failures too:"
        f" {totals['public_ok'] + deliberate_ok}/{totals['public'] + len(deliberate)}"
        f" = {with_deliberate:.1%}"
    )
    print(
        f"luigid-internals tests passing under nbflow: {totals['internals_ok']}/{totals['internals']} (not counted)"
    )
    return share


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-k",
        dest="keywords",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the files whose name contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "nbflow" / "luigi-suite",
        help="where the download and installs are kept (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="test files run at once (default: %(default)s)",
    )
    parser.add_argument(
        "--file-timeout",
        type=float,
        default=600,
        help="seconds per file and library (default: %(default)s)",
    )
    parser.add_argument(
        "--test-timeout",
        type=float,
        default=60,
        help="seconds per test (default: %(default)s)",
    )
    parser.add_argument(
        "--causes",
        type=int,
        default=25,
        help="causes listed per group (default: %(default)s)",
    )
    parser.add_argument(
        "--goal",
        type=float,
        default=0.9,
        help="share of public tests that must pass (default: %(default)s)",
    )
    parser.add_argument(
        "--show-failures",
        action="store_true",
        help="list every failing public-API test",
    )
    parser.add_argument(
        "--fresh-luigi",
        action="store_true",
        help="run Luigi's side again instead of reusing its cached results",
    )
    parser.add_argument(
        "--json", type=Path, help="also write every test's outcome to this file"
    )
    args = parser.parse_args(argv)  # fmt: skip

    files = [
        name
        for name in FILES
        if not args.keywords or any(k in name for k in args.keywords)
    ]
    if not files:
        parser.error(
            f"no test file matches {args.keywords}; the files are: {', '.join(FILES)}"
        )
    tests, luigi_site, nbflow_site = prepare(args.cache)
    # each invocation runs in its own copy, so several can run at once
    work = Path(tempfile.mkdtemp(prefix="run-", dir=args.cache))
    roots = {library: run_dir(work, library, tests) for library in ("luigi", "nbflow")}
    sites = {"luigi": luigi_site, "nbflow": nbflow_site}
    runs: dict[str, dict[str, dict]] = {"luigi": {}, "nbflow": {}}
    saved = args.cache / "luigi-results"
    saved.mkdir(exist_ok=True)
    plugin_version = CACHE_VERSION
    for name in files:
        path = saved / (name.replace("/", "_") + ".json")
        if not args.fresh_luigi and path.exists():
            result = json.loads(path.read_text(encoding="utf-8"))
            if result.get("plugin") == plugin_version:
                runs["luigi"][name] = result
    jobs = [
        (library, name)
        for name in files
        for library in ("luigi", "nbflow")
        if name not in runs[library]
    ]
    log(
        f"running {len(files)} of Luigi {LUIGI_VERSION}'s test files under Luigi and under nbflow ..."
    )
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {
            pool.submit(run_file, library, roots[library], sites[library], name, args.file_timeout, args.test_timeout): (library, name)
            for library, name in jobs
        }  # fmt: skip
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            library, name = futures[future]
            result = future.result()
            runs[library][name] = result
            if library == "luigi" and not result["timed_out"]:
                result["plugin"] = plugin_version
                path = saved / (name.replace("/", "_") + ".json")
                path.write_text(json.dumps(result), encoding="utf-8")
            flag = " (timed out)" if result["timed_out"] else ""
            log(
                f"[{done}/{len(jobs)}] {library:<6} {name} {result['seconds']:.1f} s{flag}"
            )
    log(f"all runs took {time.perf_counter() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)
    rows = compare(runs["luigi"], runs["nbflow"])
    print(
        f"\nLuigi {LUIGI_VERSION}'s test suite under Luigi and under nbflow ({time.strftime('%Y-%m-%d')})\n"
    )
    report(rows, runs, args)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
