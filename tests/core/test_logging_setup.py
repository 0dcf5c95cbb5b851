from __future__ import annotations

import logging
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.configuration import LuigiTomlParser, overridden
from nbflow.core.config import Settings
from nbflow.core.logging_setup import (
    DaemonLogging,
    InterfaceLogging,
    LoggingConfigFileError,
    LoggingOptions,
    LogLevelError,
)
from nbflow.core.summary import SUMMARY_LOGGER

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def _loggers_restored() -> Iterator[None]:
    """fileConfig and dictConfig change every logger: put them back after each test."""
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    saved = [(x, x.disabled, x.level, list(x.handlers), x.propagate) for x in loggers]
    InterfaceLogging._configured = DaemonLogging._configured = False
    yield
    kept = {id(h) for entry in saved for h in entry[3]}
    for item in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(item, "handlers", []):
            if id(handler) not in kept:
                handler.close()  # a file handler's file
    for item, disabled, level, handlers, propagate in saved:
        item.disabled, item.propagate = disabled, propagate
        item.setLevel(level)
        item.handlers[:] = handlers
    for name in ("interface_file_logger", "section_logger"):
        logging.getLogger(name).handlers.clear()
    for cls in (InterfaceLogging, DaemonLogging):
        cls._configured = False
        if "config" in cls.__dict__:
            del cls.config  # back to the current settings


def _file_config(tmp_path: Path, logger_name: str, log_file: Path) -> Path:
    path = tmp_path / "logging.cfg"
    path.write_text(
        textwrap.dedent(f"""\
            [loggers]
            keys=root,{logger_name}

            [handlers]
            keys=file

            [formatters]
            keys=plain

            [logger_root]
            handlers=

            [logger_{logger_name}]
            level=INFO
            handlers=file
            qualname={logger_name}
            propagate=0

            [handler_file]
            class=FileHandler
            formatter=plain
            args=({str(log_file)!r},)

            [formatter_plain]
            format=%(levelname)s|%(message)s
            """)
    )
    return path


def _added_handlers(before: list[logging.Handler]) -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if h not in before]


def test_interface_logging_default_sends_records_at_the_level_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = list(logging.getLogger().handlers)

    configured = InterfaceLogging.setup(LoggingOptions(log_level="info"))
    logging.getLogger("nbflow.test").info("hello from a task")
    logging.getLogger("nbflow.test").debug("too detailed")

    assert configured is True
    assert len(_added_handlers(before)) == 1
    assert logging.getLogger().level == logging.INFO
    err = capsys.readouterr().err
    assert "INFO nbflow.test: hello from a task" in err
    assert "too detailed" not in err


def test_interface_logging_sets_up_once_per_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = list(logging.getLogger().handlers)
    InterfaceLogging.setup(LoggingOptions(log_level="ERROR"))

    again = InterfaceLogging.setup(LoggingOptions(log_level="DEBUG"))
    logging.getLogger("nbflow.test").warning("below the first level")

    assert again is False
    assert len(_added_handlers(before)) == 1
    assert "below the first level" not in capsys.readouterr().err


def test_interface_logging_can_leave_the_summary_to_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    InterfaceLogging.setup(LoggingOptions(log_level="INFO", hide_summary=True))

    logging.getLogger(SUMMARY_LOGGER).info("===== Luigi Execution Summary =====")
    logging.getLogger("nbflow.test").info("other news")

    err = capsys.readouterr().err
    assert "Execution Summary" not in err
    assert "other news" in err


def test_interface_logging_is_off_when_the_config_says_so() -> None:
    before = list(logging.getLogger().handlers)

    with overridden({"core": {"no_configure_logging": "true"}}):
        configured = InterfaceLogging.setup(LoggingOptions(log_level="INFO"))

    assert configured is False
    assert _added_handlers(before) == []


def test_interface_logging_reads_a_logging_config_file(tmp_path: Path) -> None:
    log_file = tmp_path / "run.log"
    path = _file_config(tmp_path, "interface_file_logger", log_file)
    before = list(logging.getLogger().handlers)

    configured = InterfaceLogging.setup(LoggingOptions(logging_conf_file=str(path)))
    logging.getLogger("interface_file_logger").info("to the file")

    assert configured is True
    assert _added_handlers(before) == []  # the file's config, not the default
    assert "INFO|to the file" in log_file.read_text()


def test_interface_logging_missing_config_file_is_a_clear_os_error() -> None:
    options = LoggingOptions(logging_conf_file="no/such/logging.cfg")

    with pytest.raises(LoggingConfigFileError) as caught:
        InterfaceLogging.setup(options)

    message = str(caught.value)
    assert isinstance(caught.value, OSError)
    assert "--logging-conf-file" in message
    assert "'no/such/logging.cfg'" in message
    assert "Expected the path of a logging.config.fileConfig file" in message
    assert "Fix:" in message


def test_logging_section_of_a_toml_config_is_a_dict_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = LuigiTomlParser()
    parser.data = {
        "logging": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"short": {"format": "S:{message}", "style": "{"}},
            "handlers": {
                "console": {
                    "class": "logging.StreamHandler",
                    "formatter": "short",
                    "stream": "ext://sys.stderr",
                }
            },
            "loggers": {"section_logger": {"handlers": ("console",), "level": "INFO"}},
        }
    }
    InterfaceLogging.config = parser

    configured = InterfaceLogging.setup(LoggingOptions(log_level="ERROR"))
    logging.getLogger("section_logger").info("configured by section")

    assert configured is True
    assert "S:configured by section" in capsys.readouterr().err


def test_logging_file_wins_over_section_and_section_over_default() -> None:
    calls: list[str] = []

    class Recorded(InterfaceLogging):
        @classmethod
        def _conf(cls, opts: Any) -> bool:
            calls.append("conf")
            return False

        @classmethod
        def _section(cls, opts: Any) -> bool:
            calls.append("section")
            return True

        @classmethod
        def _default(cls, opts: Any) -> bool:  # pragma: no cover - must not run
            calls.append("default")
            return True

    Recorded._configured = False

    assert Recorded.setup(LoggingOptions()) is True
    assert calls == ["conf", "section"]


def test_ini_settings_have_no_logging_section() -> None:
    InterfaceLogging.config = Settings.from_mapping({"logging": {"version": "1"}})

    assert InterfaceLogging._section(None) is False


def test_bad_log_level_names_the_levels_and_the_fix() -> None:
    with pytest.raises(LogLevelError) as caught:
        LoggingOptions(log_level="loud")

    message = str(caught.value)
    assert "--log-level must be a logging level (got 'loud')" in message
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in message
    assert "Fix:" in message
    assert isinstance(caught.value, ValueError)


def test_logging_options_fall_back_on_the_core_section() -> None:
    settings = Settings.from_mapping(
        {"core": {"log_level": "error", "logging_conf_file": "conf/log.cfg"}}
    )

    from_config = LoggingOptions.from_config(settings)
    given = LoggingOptions.from_config(settings, log_level="DEBUG")
    default = LoggingOptions.from_config(Settings(), default_level="INFO")

    assert (from_config.log_level, from_config.logging_conf_file) == (
        "ERROR",
        "conf/log.cfg",
    )
    assert given.log_level == "DEBUG"
    assert (default.log_level, default.logging_conf_file) == ("INFO", None)


def test_daemon_logging_in_the_background_logs_info() -> None:
    configured = DaemonLogging.setup(LoggingOptions(background=True))

    assert configured is True
    assert logging.getLogger().level == logging.INFO


def test_daemon_logging_writes_to_its_log_dir(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    root.handlers.clear()  # basicConfig only configures a bare root logger
    try:
        DaemonLogging.setup(LoggingOptions(logdir=str(tmp_path)))
        logging.getLogger("nbflow.test").info("daemon started")
        for handler in root.handlers:
            handler.close()
    finally:
        root.handlers[:] = handlers

    text = (tmp_path / "luigi-server.log").read_text()
    assert "nbflow.test[" in text
    assert "INFO: daemon started" in text


def test_daemon_logging_reads_the_core_logging_conf_file(tmp_path: Path) -> None:
    log_file = tmp_path / "daemon.log"
    path = _file_config(tmp_path, "interface_file_logger", log_file)
    DaemonLogging.config = Settings.from_mapping(
        {"core": {"logging_conf_file": str(path)}}
    )

    configured = DaemonLogging.setup(LoggingOptions())
    logging.getLogger("interface_file_logger").warning("from the daemon")

    assert configured is True
    assert "WARNING|from the daemon" in log_file.read_text()


def test_daemon_logging_missing_core_conf_file_names_the_setting() -> None:
    DaemonLogging.config = Settings.from_mapping(
        {"core": {"logging_conf_file": "missing.cfg"}}
    )

    with pytest.raises(OSError, match=r"\[core\] logging_conf_file"):
        DaemonLogging.setup(LoggingOptions())
