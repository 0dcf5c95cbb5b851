from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

import nbflow
from nbflow.configuration import overridden
from nbflow.core.errors import ParameterDeprecationWarning
from nbflow.core.interface import _WorkerSchedulerFactory, build, core, run
from nbflow.core.logging_setup import InterfaceLogging
from nbflow.core.remote import ServerScheduler
from nbflow.core.retcodes import luigi_run
from nbflow.core.rpc import RemoteScheduler
from nbflow.core.scheduler import Scheduler
from nbflow.core.worker import Worker

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class InterfaceQuiet(nbflow.Task):
    def run(self) -> None:
        pass


@pytest.fixture(autouse=True)
def _fresh_logging_setup() -> Iterator[None]:
    InterfaceLogging._configured = False
    yield
    InterfaceLogging._configured = False


def _added_handlers(before: list[logging.Handler]) -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if h not in before]


def test_core_has_luigis_defaults() -> None:
    options = core()

    assert options.workers == 1
    assert options.parallel_scheduling_processes == 0
    assert options.scheduler_port == 8082
    assert options.local_scheduler is False
    assert options.log_level == "INFO"
    assert options.logging_conf_file == ""


def test_core_reads_the_core_section_in_either_spelling() -> None:
    config = {
        "core": {
            "parallel-scheduling-processes": "12",
            "workers": "3",
            "default-scheduler-host": "scheduler.example",
        }
    }

    # read, and deprecated as in Luigi: the dashes and Luigi's old option name
    with overridden(config), pytest.warns(ParameterDeprecationWarning) as caught:
        options = core()
    messages = " | ".join(str(warning.message) for warning in caught)
    assert "parallel-scheduling-processes (with dashes) should be avoided" in messages
    assert "default-scheduler-host is deprecated" in messages

    assert options.parallel_scheduling_processes == 12
    assert options.workers == 3
    assert options.scheduler_host == "scheduler.example"


def test_core_is_not_a_task_name_on_the_command_line() -> None:
    with pytest.raises(nbflow.core.errors.UnknownTaskError):
        nbflow.core.registry.REGISTRY.lookup("core")


def test_worker_scheduler_factory_makes_a_working_worker() -> None:
    factory = _WorkerSchedulerFactory()
    scheduler = factory.create_local_scheduler()

    worker = factory.create_worker(scheduler=scheduler, worker_processes=3)

    assert isinstance(scheduler, Scheduler)
    assert isinstance(worker, Worker)
    assert worker.scheduler is scheduler
    assert worker.options.workers == 3


def test_worker_scheduler_factory_remote_scheduler_is_luigids_client() -> None:
    factory = _WorkerSchedulerFactory()

    remote = factory.create_remote_scheduler(url="http://scheduler.example:8082/")

    assert isinstance(remote, RemoteScheduler)
    worker = factory.create_worker(remote, worker_processes=1, assistant=True)
    assert isinstance(worker.scheduler, ServerScheduler)
    assert worker.options.assistant


def test_run_from_a_command_line_logs_the_summary_at_info(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = list(logging.getLogger().handlers)

    succeeded = run(["InterfaceQuiet", "--local-scheduler", "--no-lock"])

    err = capsys.readouterr().err
    assert succeeded is True
    assert len(_added_handlers(before)) == 1
    assert "INFO nbflow-interface:" in err
    assert "===== nbflow Execution Summary =====" in err


def test_run_takes_the_log_level_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(["InterfaceQuiet", "--log-level", "WARNING", "--no-lock"])

    assert "Execution Summary" not in capsys.readouterr().err
    assert logging.getLogger().level == logging.WARNING


def test_run_with_a_bad_log_level_exits_with_the_levels() -> None:
    with pytest.raises(SystemExit) as caught:
        run(["InterfaceQuiet", "--log-level", "LOUD", "--no-lock"])

    message = str(caught.value.code)
    assert "--log-level must be a logging level (got 'LOUD')" in message
    assert "WARNING" in message


def test_run_with_a_missing_logging_conf_file_raises_an_os_error() -> None:
    argv = ["InterfaceQuiet", "--logging-conf-file", "missing.cfg", "--no-lock"]

    with pytest.raises(OSError, match="missing.cfg"):
        run(argv)


def test_luigi_run_sets_logging_up_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        luigi_run(["InterfaceQuiet", "--local-scheduler", "--no-lock"])

    assert caught.value.code == 0
    assert "===== nbflow Execution Summary =====" in capsys.readouterr().err


def test_luigi_run_with_a_missing_logging_conf_file_is_unhandled() -> None:
    argv = ["InterfaceQuiet", "--logging-conf-file", "missing.cfg", "--no-lock"]

    with pytest.raises(SystemExit) as caught:
        luigi_run(argv)

    assert caught.value.code == 4


def test_build_leaves_logging_alone_unless_asked() -> None:
    before = list(logging.getLogger().handlers)

    assert build([InterfaceQuiet()], local_scheduler=True) is True
    untouched = _added_handlers(before)
    assert build([InterfaceQuiet()], log_level="DEBUG") is True

    assert untouched == []
    assert len(_added_handlers(before)) == 1
    assert logging.getLogger().level == logging.DEBUG


def test_build_returns_the_result_with_detailed_summary() -> None:
    result = build([InterfaceQuiet()], detailed_summary=True, no_lock=True)

    assert result.scheduling_succeeded is True
    assert result.status is nbflow.RunStatus.SUCCESS


def test_run_with_use_dynamic_argparse_warns_it_does_nothing() -> None:
    with pytest.warns(DeprecationWarning, match="use_dynamic_argparse"):
        run(["InterfaceQuiet", "--no-lock"], use_dynamic_argparse=True)


def test_run_without_a_task_says_no_task_specified_and_how_to_fix() -> None:
    with pytest.raises(SystemExit) as caught:
        run(["--local-scheduler", "--no-lock"])

    message = str(caught.value.code)
    assert "No task specified" in message
    assert "Fix: name the task to run" in message


def test_run_reads_a_logging_conf_file(tmp_path: Path) -> None:
    log_file = tmp_path / "run.log"
    conf = tmp_path / "logging.cfg"
    conf.write_text(
        "[loggers]\nkeys=root\n\n[handlers]\nkeys=file\n\n[formatters]\nkeys=plain\n\n"
        "[logger_root]\nlevel=INFO\nhandlers=file\n\n"
        f"[handler_file]\nclass=FileHandler\nformatter=plain\nargs=({str(log_file)!r},)"
        "\n\n[formatter_plain]\nformat=%(name)s|%(message)s\n"
    )

    succeeded = run(["InterfaceQuiet", "--logging-conf-file", str(conf), "--no-lock"])
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.close()

    assert succeeded is True
    assert "nbflow-interface|\n===== nbflow Execution Summary" in log_file.read_text()
