from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nbflow import __version__
from nbflow.cli import ModuleImportError, exit_code_for, main
from nbflow.cli import run as cli_run
from nbflow.core.config import reset_settings_cache
from nbflow.core.errors import (
    CyclicDependencyError,
    SchedulerError,
    TaskFailedError,
    UnknownTaskError,
)
from nbflow.core.registry import REGISTRY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]

PIPELINE = """
import nbflow as luigi


class Clean(luigi.Task):
    \"\"\"Keep the rows above a threshold.\"\"\"

    day = luigi.Parameter(default="d1", description="Which day to clean.")
    min_amount = luigi.IntParameter(default=0, description="Drop rows below this.")

    def output(self):
        return luigi.LocalTarget(f"clean-{self.day}-{self.min_amount}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(str(self.min_amount))


class Report(luigi.Task):
    \"\"\"Summarise a cleaned day.\"\"\"

    day = luigi.Parameter(description="Which day to report on.")

    def requires(self):
        return Clean(day=self.day)

    def output(self):
        return luigi.LocalTarget(f"report-{self.day}.txt")

    def run(self):
        with self.input().open() as src, self.output().open("w") as out:
            out.write("report " + src.read())


class Counted(luigi.Task):
    n = luigi.IntParameter(description="How many.")

    def output(self):
        return luigi.LocalTarget(f"counted-{self.n}.txt")

    def run(self):
        self.set_status_message("counting")
        self.set_tracking_url("http://logs/counted")
        with self.output().open("w") as out:
            out.write(str(self.n))


class Explodes(luigi.Task):
    def output(self):
        return luigi.LocalTarget("never.txt")

    def run(self):
        raise ValueError("kaboom")


class BrokenComplete(luigi.Task):
    def complete(self):
        raise RuntimeError("disk on fire")


class Ping(luigi.Task):
    def requires(self):
        return Pong()

    def output(self):
        return luigi.LocalTarget("ping.txt")


class Pong(luigi.Task):
    def requires(self):
        return Ping()

    def output(self):
        return luigi.LocalTarget("pong.txt")


class Upload(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("missing-upload.csv")


class Ingest(luigi.Task):
    def requires(self):
        return Upload()

    def output(self):
        return luigi.LocalTarget("ingested.txt")

    def run(self):
        pass
"""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH", "NBFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    # Each test sees only its own pipeline's tasks; other tests' classes come back after.
    saved = {family: dict(classes) for family, classes in REGISTRY._by_family.items()}
    namespaces = dict(REGISTRY._namespaces)
    REGISTRY.clear()
    modules = set(sys.modules)
    reset_settings_cache()
    yield
    reset_settings_cache()
    REGISTRY.clear()
    REGISTRY._by_family.update(saved)
    REGISTRY._namespaces.update(namespaces)
    for name in set(sys.modules) - modules:
        if name.startswith("cli_pipeline_"):
            del sys.modules[name]


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str], str]:
    def write(source: str) -> str:
        name = f"cli_pipeline_{uuid.uuid4().hex[:10]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), "utf-8")
        return name

    return write


@pytest.fixture
def pipeline(write_module: Callable[[str], str]) -> str:
    return write_module(PIPELINE)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- success ---------------------------------------------------------------------------


def test_cli_run_succeeds_prints_summary_and_exits_0(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(
        capsys,
        "run",
        "--module",
        pipeline,
        "Report",
        "--day",
        "d2",
        "--local-scheduler",
    )

    assert code == 0
    assert "===== nbflow Execution Summary =====" in out
    assert "2 ran successfully" in out
    assert "looks :)" in out
    assert (tmp_path / "report-d2.txt").read_text() == "report 0"
    assert "error" not in err


def test_cli_run_family_param_reaches_a_required_task(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = run_cli(
        capsys, "run", "--module", pipeline, "Report", "--day", "d3",
        "--Clean-min-amount", "7",
    )  # fmt: skip

    assert code == 0
    assert (tmp_path / "report-d3.txt").read_text() == "report 7"


def test_cli_run_accepts_module_colon_task(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = run_cli(capsys, "run", f"{pipeline}:Counted", "--n=4")

    assert code == 0
    assert (tmp_path / "counted-4.txt").read_text() == "4"


def test_cli_run_with_worker_options(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "run", "--module", pipeline, "Report", "--day", "d4",
        "--workers", "2", "--executor", "threads", "--parallel-scheduling",
        "--log-level", "info", "--no-progress",
    )  # fmt: skip

    assert code == 0
    assert "2 ran successfully" in out


# --- help and version ------------------------------------------------------------------


def test_cli_task_help_lists_parameters_with_descriptions(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "run", "--module", pipeline, "Clean", "--help")

    assert code == 0
    assert "Keep the rows above a threshold." in out
    assert "--min-amount" in out
    assert "Drop rows below this." in out
    assert "--day" in out
    assert "Which day to clean." in out


@pytest.mark.parametrize("argv", [["run", "--help"], ["run", "-h"]])
def test_cli_run_help_documents_every_option(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, *argv)

    assert code == 0
    for option in (
        "--module", "--workers", "--executor", "--keep-alive", "--parallel-scheduling",
        "--local-scheduler", "--log-level", "--no-progress", "MODULE:TASK",
    ):  # fmt: skip
        assert option in out
    assert "task_failed" in out
    assert "Luigi" in out


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_cli_top_level_help(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, flag)

    assert code == 0
    assert "usage: nbflow" in out
    assert "run" in out


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--version")

    assert code == 0
    assert out.strip() == f"nbflow {__version__}"


# --- command-line and definition errors: exit 2 ----------------------------------------


def assert_usage_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("nbflow: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_cli_unknown_task_suggests_close_names(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "run", "--module", pipeline, "Reprot", "--day", "x")

    assert_usage_error(*result, "unknown task 'Reprot'", "Did you mean: Report?")


def test_cli_unknown_parameter_names_task_and_parameter(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "run", "--module", pipeline, "Counted", "--count", "3")

    assert_usage_error(*result, "Counted: unknown parameter 'count'", "Expected", "n")


def test_cli_missing_parameter_names_task_and_parameter(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "run", "--module", pipeline, "Counted")

    assert_usage_error(*result, "Counted: missing value for parameter 'n'", "--n")


def test_cli_unparsable_parameter_names_task_parameter_and_value(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "run", "--module", pipeline, "Counted", "--n", "abc")

    assert_usage_error(*result, "Counted.n: invalid value (got 'abc')", "Fix:")


def test_cli_no_task_named(pipeline: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "run", "--module", pipeline)

    assert_usage_error(*result, "no task named")


def test_cli_bad_worker_count_and_log_level(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    workers = run_cli(
        capsys, "run", f"{pipeline}:Counted", "--n", "1", "--workers", "0"
    )
    level = run_cli(
        capsys, "run", f"{pipeline}:Counted", "--n", "1", "--log-level", "x"
    )

    assert_usage_error(*workers, "--workers must be a positive whole number")
    assert_usage_error(*level, "--log-level must be a logging level", "WARNING")


def test_cli_unknown_executor_lists_installed_ones(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "run", f"{pipeline}:Counted", "--n", "1", "--executor", "x"
    )

    assert_usage_error(*result, "no plugin named 'x'", "threads")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "no command given"),
        (["runn"], "use `nbflow run`"),
        (["--module", "m", "Task"], "write `nbflow run --module m Task`"),
    ],
)
def test_cli_unknown_or_missing_command(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, *argv)

    assert code == 2
    assert fragment in err


def test_cli_config_syntax_error_points_at_file_and_line(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "nbflow.toml").write_text("[core]\nworkers = 2\n[retcode\n")

    result = run_cli(capsys, "run", f"{pipeline}:Counted", "--n", "1")

    assert_usage_error(*result, f"{tmp_path / 'nbflow.toml'}:3")


def test_cli_module_with_syntax_error_is_named(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = write_module("x = 1\ndef broken(:\n    pass\n")

    result = run_cli(capsys, "run", "--module", name, "Anything")

    assert_usage_error(*result, f"module {name!r}", "SyntaxError", f"{name}.py:2")


def test_cli_module_raising_at_import_is_named(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = write_module("import nbflow\n\nRATE = 1 / 0\n")

    result = run_cli(capsys, "run", f"{name}:Anything")

    assert_usage_error(*result, f"module {name!r}", "ZeroDivisionError", f"{name}.py:3")


def test_cli_missing_module_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_cli(capsys, "run", "--module", "cli_pipeline_absent", "Task")

    assert_usage_error(*result, "cannot import module 'cli_pipeline_absent'")


def test_module_import_error_message_has_where_expected_fix() -> None:
    error = ModuleImportError("pipe", "NameError: x", "pipe.py:4")

    assert str(error).startswith("module 'pipe': importing it failed (got NameError")
    assert "Expected a module that imports without errors." in str(error)
    assert "Fix: correct the error at pipe.py:4" in str(error)


# --- runs that do not succeed ------------------------------------------------------------


def test_cli_failed_task_exits_1_and_summary_shows_it(
    pipeline: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code, out, err = run_cli(capsys, "run", "--module", pipeline, "Explodes")

    assert code == 1
    assert "1 failed" in out
    assert "Explodes()" in out
    assert "FAILED  Explodes(): ValueError: kaboom" in err
    assert "Explodes() failed:" in caplog.text
    assert "raise ValueError" in caplog.text


def test_cli_task_failed_retcode_from_config(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "nbflow.toml").write_text("[retcode]\ntask_failed = 0\n")

    code, out, _ = run_cli(capsys, "run", "--module", pipeline, "Explodes")

    assert code == 0
    assert "1 failed" in out


def test_cli_exception_in_complete_is_a_scheduling_error(
    pipeline: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code, out, err = run_cli(capsys, "run", "--module", pipeline, "BrokenComplete")

    assert code == 1
    assert "failed scheduling" in out
    assert "disk on fire" in err
    assert "BrokenComplete() failed:" in caplog.text


def test_cli_cycle_is_reported_naming_the_cycle(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "run", "--module", pipeline, "Ping")

    assert code == 1
    assert "dependency cycle: Ping" in out
    assert "Pong" in out
    assert "FAILED  Ping(): dependency cycle" in err


def test_cli_missing_external_dependency_uses_missing_data_code(
    pipeline: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    default, out, _ = run_cli(capsys, "run", "--module", pipeline, "Ingest")
    (tmp_path / "nbflow.toml").write_text("[retcode]\nmissing_data = 3\n")
    reset_settings_cache()

    configured, _, _ = run_cli(capsys, "run", "--module", pipeline, "Ingest")

    assert default == 0
    assert "missing external dependencies" in out
    assert configured == 3


def test_cli_unexpected_error_is_one_line_with_a_debug_hint(
    pipeline: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_build(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal trouble\nsecond line")

    monkeypatch.setattr(cli_run, "start_run", broken_build)

    code, _, err = run_cli(capsys, "run", f"{pipeline}:Counted", "--n", "1")

    assert code == 4
    assert err.strip().splitlines()[-1] == (
        "nbflow: error: unexpected RuntimeError: internal trouble "
        "(re-run with NBFLOW_DEBUG=1 for the traceback)"
    )
    assert "Traceback" not in err


def test_cli_debug_env_prints_the_traceback(
    pipeline: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_build(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal trouble")

    monkeypatch.setattr(cli_run, "start_run", broken_build)
    monkeypatch.setenv("NBFLOW_DEBUG", "1")

    code, _, err = run_cli(capsys, "run", f"{pipeline}:Counted", "--n", "1")

    assert code == 4
    assert "Traceback (most recent call last)" in err
    assert "in broken_build" in err


def test_cli_interrupt_exits_130(
    pipeline: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "start_run", interrupted)

    code, _, err = run_cli(capsys, "run", f"{pipeline}:Counted", "--n", "1")

    assert code == 130
    assert err.strip() == "nbflow: error: interrupted"


def test_exit_code_for_error_kinds(tmp_path: Path) -> None:
    cycle = CyclicDependencyError(("A", "B", "A"))

    assert exit_code_for(UnknownTaskError("X", ())) == 2
    assert exit_code_for(cycle) == 1
    assert exit_code_for(SchedulerError()) == 1
    assert exit_code_for(TaskFailedError("A", "boom")) == 1
    assert exit_code_for(RuntimeError("x")) == 4
    (tmp_path / "nbflow.toml").write_text("[retcode]\nscheduling_error = 6\n")
    reset_settings_cache()
    assert exit_code_for(cycle) == 6
    (tmp_path / "nbflow.toml").write_text("[retcode\n")
    reset_settings_cache()
    assert exit_code_for(RuntimeError("x")) == 4  # a broken config: the defaults


# --- progress ----------------------------------------------------------------------------


def test_cli_progress_lines_on_stderr_when_not_a_tty(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "run", "--module", pipeline, "Counted", "--n", "5")
    again, _, err_again = run_cli(
        capsys, "run", "--module", pipeline, "Counted", "--n=5"
    )

    assert code == again == 0
    lines = err.splitlines()
    assert lines[0] == "nbflow: 1 task, 0 already complete"
    assert lines[1] == "[0/1] RUNNING Counted(n=5)"
    assert "      Counted(n=5): counting" in lines
    assert "      Counted(n=5): http://logs/counted" in lines
    assert lines[-1].startswith("[1/1] DONE    Counted(n=5) ")
    assert err_again.splitlines() == ["nbflow: 1 task, 1 already complete"]


def test_cli_no_progress_is_quiet(
    pipeline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "run", f"{pipeline}:Counted", "--n", "6", "--no-progress"
    )

    assert code == 0
    assert "ran successfully" in out
    assert err == ""


# --- real processes ----------------------------------------------------------------------


def run_process(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CONFIG_PATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(tmp_path)])
    env.pop("NBFLOW_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=120,
    )


def test_python_dash_m_nbflow_runs_a_pipeline(pipeline: str, tmp_path: Path) -> None:
    process = run_process(tmp_path, "run", "--module", pipeline, "Report", "--day", "p")

    assert process.returncode == 0, process.stderr
    assert "2 ran successfully" in process.stdout
    assert "nbflow: 2 tasks, 0 already complete" in process.stderr
    assert "DONE    Report(day=p)" in process.stderr
    assert (tmp_path / "report-p.txt").read_text() == "report 0"


def test_python_dash_m_nbflow_reports_errors_without_traceback(
    pipeline: str, tmp_path: Path
) -> None:
    process = run_process(tmp_path, "run", f"{pipeline}:Counted", "--n", "zz")

    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr.startswith("nbflow: error: Counted.n: invalid value")
    assert "Traceback" not in process.stderr


def test_python_dash_m_nbflow_failed_task_logs_its_traceback(
    pipeline: str, tmp_path: Path
) -> None:
    process = run_process(tmp_path, "run", "--module", pipeline, "Explodes")

    assert process.returncode == 1
    assert "ERROR nbflow.cli: Explodes() failed:" in process.stderr
    assert "ValueError: kaboom" in process.stderr
