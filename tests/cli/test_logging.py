"""Logging of ``nbflow run`` and ``python -m luigi``-style runs, in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PIPELINE = textwrap.dedent("""
    import logging

    import nbflow


    class LoggingChatty(nbflow.Task):
        def run(self):
            logging.getLogger("luigi-interface").info("chatty task says hi")
            logging.getLogger("luigi-interface").warning("chatty task warns")
""")

LUIGI_COMMAND = "import sys; from nbflow.cmdline import luigi_run; luigi_run()"


def _run(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "logging_pipeline.py").write_text(PIPELINE)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_CONFIG_PATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(tmp_path)])
    env.pop("NBFLOW_DEBUG", None)
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=120,
    )


def _nbflow_run(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return _run(
        tmp_path,
        "-m",
        "nbflow",
        "run",
        "--module",
        "logging_pipeline",
        "LoggingChatty",
        "--no-progress",
        "--no-lock",
        *argv,
    )


def test_nbflow_run_logs_warnings_to_stderr_by_default(tmp_path: Path) -> None:
    process = _nbflow_run(tmp_path)

    assert process.returncode == 0, process.stderr
    assert "WARNING luigi-interface: chatty task warns" in process.stderr
    assert "chatty task says hi" not in process.stderr
    assert "1 ran successfully" in process.stdout


def test_nbflow_run_log_level_from_the_core_section(tmp_path: Path) -> None:
    (tmp_path / "nbflow.toml").write_text('[core]\nlog_level = "INFO"\n')

    process = _nbflow_run(tmp_path)

    assert process.returncode == 0, process.stderr
    assert "INFO luigi-interface: chatty task says hi" in process.stderr
    assert "Execution Summary" not in process.stderr  # printed once, on stdout


def test_nbflow_run_logging_conf_file_replaces_the_default(tmp_path: Path) -> None:
    conf = tmp_path / "logging.cfg"
    conf.write_text(
        textwrap.dedent("""\
            [loggers]
            keys=root

            [handlers]
            keys=file

            [formatters]
            keys=plain

            [logger_root]
            level=INFO
            handlers=file

            [handler_file]
            class=FileHandler
            formatter=plain
            args=('run.log',)

            [formatter_plain]
            format=FILE %(name)s %(message)s
            """)
    )

    process = _nbflow_run(tmp_path, "--logging-conf-file", str(conf))

    assert process.returncode == 0, process.stderr
    assert "chatty task" not in process.stderr
    text = (tmp_path / "run.log").read_text()
    assert "FILE luigi-interface chatty task says hi" in text


def test_nbflow_run_missing_logging_conf_file_is_a_usage_error(tmp_path: Path) -> None:
    process = _nbflow_run(tmp_path, "--logging-conf-file", "nowhere.cfg")

    assert process.returncode == 2
    assert process.stderr.startswith("nbflow: error: --logging-conf-file:")
    assert "'nowhere.cfg'" in process.stderr
    assert "Traceback" not in process.stderr


def test_no_configure_logging_leaves_logging_alone(tmp_path: Path) -> None:
    (tmp_path / "nbflow.toml").write_text(
        '[core]\nno_configure_logging = true\nlog_level = "DEBUG"\n'
    )

    process = _nbflow_run(tmp_path)

    assert process.returncode == 0, process.stderr
    assert "chatty task says hi" not in process.stderr
    # Python's last-resort handler still shows warnings, without a format
    assert "chatty task warns" in process.stderr
    assert "WARNING luigi-interface" not in process.stderr


def test_luigi_command_logs_the_summary_like_luigi(tmp_path: Path) -> None:
    process = _run(
        tmp_path,
        "-c",
        LUIGI_COMMAND,
        "--module",
        "logging_pipeline",
        "LoggingChatty",
        "--no-lock",
    )

    assert process.returncode == 0, process.stderr
    assert "INFO luigi-interface: chatty task says hi" in process.stderr
    assert "INFO nbflow-interface: \n===== nbflow Execution Summary" in process.stderr


def test_luigi_command_without_a_task_says_no_task_specified(tmp_path: Path) -> None:
    process = _run(tmp_path, "-c", LUIGI_COMMAND)

    assert process.returncode != 0
    assert "No task specified" in process.stderr
    assert "Fix: name the task to run" in process.stderr
