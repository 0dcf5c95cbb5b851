"""Logging set-up for command-line runs (Luigi's ``luigi.setup_logging``).

Importing nbflow never touches logging. A command-line run sets it up, once per
process: ``nbflow run``/``nbflow why``, ``luigi.run(argv)`` and the ``luigi`` command
(``luigi_run``) through :class:`InterfaceLogging`; a scheduler daemon through
:class:`DaemonLogging`. :meth:`LoggingSetup.setup` does nothing when logging was set
up already, or when ``[core] no_configure_logging`` is true; otherwise the first of
these that applies wins:

1. the daemon's own options (``--background``, ``--logdir``);
2. a logging config file in :func:`logging.config.fileConfig` form:
   ``--logging-conf-file``, else ``[core] logging_conf_file``;
3. a ``[logging]`` section of a TOML config (``luigi.toml``), as
   :func:`logging.config.dictConfig` reads it;
4. the default. For a run: one handler on the root logger writing records at
   ``--log-level`` (else ``[core] log_level``) and above to the current stderr. For a
   daemon: :func:`logging.basicConfig` at INFO.

The config read is looked up at each set-up (Luigi's classes keep the parser current
at import; assigning ``InterfaceLogging.config`` still replaces it): the current
settings (the files, or Luigi's INI parser once it is used, with the command line's
overrides), or Luigi's TOML parser when ``LUIGI_CONFIG_PARSER=toml``; only a TOML
config holds a ``[logging]`` dictionary.

Imports: stdlib, nbflow.core.{config, configuration, errors, summary}.
"""

from __future__ import annotations

import configparser
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from nbflow.core.config import Settings, current_settings
from nbflow.core.configuration import PARSER_VARIABLE, LuigiConfigParser, get_config
from nbflow.core.errors import DefinitionError
from nbflow.core.summary import SUMMARY_LOGGER

__all__ = [
    "LOG_LEVELS",
    "DaemonLogging",
    "InterfaceLogging",
    "LogLevelError",
    "LoggingConfigFileError",
    "LoggingOptions",
    "LoggingSetup",
]

logger = logging.getLogger("nbflow.logging")

#: The level names ``--log-level`` and ``[core] log_level`` take.
LOG_LEVELS = ("NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: The record format of a run's default handler.
RUN_FORMAT = "%(levelname)s %(name)s: %(message)s"
#: The record format of a daemon's default set-up (Luigi's).
DAEMON_FORMAT = "%(asctime)s %(name)s[%(process)s] %(levelname)s: %(message)s"


class LogLevelError(DefinitionError, ValueError):
    """A log level is not one of :data:`LOG_LEVELS`."""

    def __init__(self, got: object) -> None:
        super().__init__(got)
        self.got = got

    def __str__(self) -> str:
        return (
            f"--log-level must be a logging level (got {self.got!r}). "
            f"Expected one of {', '.join(LOG_LEVELS)}. "
            "Fix: pass e.g. --log-level WARNING, or set [core] log_level."
        )


class LoggingConfigFileError(DefinitionError, OSError):
    """The logging config file named by an option or setting does not exist."""

    def __init__(self, path: str, source: str) -> None:
        super().__init__(path, source)
        self.path, self.source = path, source

    def __str__(self) -> str:
        return (
            f"{self.source}: Unable to locate specified logging configuration file "
            f"(got {self.path!r}). Expected the path of a logging.config.fileConfig "
            f"file. Fix: correct the path in {self.source}, or remove it to log to "
            "stderr."
        )


def level_name(level: object) -> str:
    """Return ``level`` as an upper-case level name, checked.

    >>> level_name(" info ")
    'INFO'

    Raises
    ------
    LogLevelError
        ``level`` is not a level name.
    """
    name = str(level).strip().upper()
    if name not in LOG_LEVELS:
        raise LogLevelError(level)
    return name


@dataclass(frozen=True)
class LoggingOptions:
    """What a command line says about logging (the ``opts`` of :meth:`setup`)."""

    #: Records at this level and above are shown by the default set-up.
    log_level: str = "WARNING"
    #: A :func:`logging.config.fileConfig` file to use instead of the default.
    logging_conf_file: str | None = None
    #: A daemon in the background logs at INFO to whatever logging has.
    background: bool = False
    #: A daemon writes its log to ``luigi-server.log`` in this folder.
    logdir: str | None = None
    #: Leave the run summary's records out of the default handler, because the
    #: command prints the summary itself.
    hide_summary: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_level", level_name(self.log_level))

    @classmethod
    def from_config(
        cls,
        config: Any = None,
        *,
        log_level: str | None = None,
        logging_conf_file: str | None = None,
        default_level: str = "WARNING",
        hide_summary: bool = False,
    ) -> LoggingOptions:
        """Return the options given, falling back on ``[core]`` of ``config``.

        ``config`` is a config parser or :class:`Settings` (default: the current
        settings).

        Raises
        ------
        LogLevelError
            The level given, or ``[core] log_level``, is not a level name.
        """
        config = current_settings() if config is None else config
        return cls(
            log_level=log_level or _core(config, "log_level") or default_level,
            logging_conf_file=logging_conf_file or _core(config, "logging_conf_file"),
            hide_summary=hide_summary,
        )


def _core(config: Any, option: str) -> Any:
    """Return ``[core] option`` of ``config``, or None if absent or empty."""
    return config.get("core", option, None) or None


class _CurrentConfig:
    """A class attribute that reads the current configuration at each access."""

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if os.environ.get(PARSER_VARIABLE) == "toml":
            return get_config()  # native TOML values: a [logging] dictionary
        # not get_config(): using the INI parser would make it the ambient config
        return current_settings()


class LoggingSetup:
    """Set up logging once per class, from options, a config file, a config section.

    Subclasses say what their options (``_cli``), config file (``_conf``) and
    default (``_default``) mean; each returns whether it set logging up.
    ``opts`` is any object with :class:`LoggingOptions`' attribute names (missing
    ones read as not given).
    """

    #: The config parser read: the current one unless a parser is assigned.
    config: Any = _CurrentConfig()
    _configured: ClassVar[bool] = False

    @classmethod
    def setup(cls, opts: Any = None) -> bool:
        """Set up logging from the first source that applies; return whether it did.

        Raises
        ------
        LoggingConfigFileError
            The logging config file named does not exist.
        LogLevelError
            The level is not a level name.
        """
        opts = LoggingOptions() if opts is None else opts
        if cls._configured:
            logger.debug("logging already configured")
            return False
        cls._configured = True
        if _is_true(_get(cls.config, "no_configure_logging")):
            logger.debug("logging disabled in settings")
            return False
        for step, source in (
            (cls._cli, "special settings"),
            (cls._conf, "a logging config file"),
            (cls._section, "the [logging] config section"),
            (cls._default, "default settings"),
        ):
            if step(opts):
                logger.debug("logging configured via %s", source)
                return True
        return False

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        del opts
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        del opts
        return False

    @classmethod
    def _section(cls, opts: Any) -> bool:
        """Configure from the ``[logging]`` section of a TOML config, if there is one."""
        del opts
        if isinstance(cls.config, (LuigiConfigParser, Settings)):
            return False  # INI values are strings: no dictConfig can be made of them
        try:
            section = cls.config["logging"]
        except (TypeError, KeyError, configparser.NoSectionError):
            return False
        import logging.config  # noqa: PLC0415  (on use: it loads sockets)

        logging.config.dictConfig(_thawed(section))
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        del opts
        return False


class InterfaceLogging(LoggingSetup):
    """Logging for a run from the command line (Luigi's worker logging)."""

    _configured: ClassVar[bool] = False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        """Configure from ``opts.logging_conf_file`` (keeping loggers that exist)."""
        path = getattr(opts, "logging_conf_file", None)
        if not path:
            return False
        _check_exists(path, "--logging-conf-file")
        import logging.config  # noqa: PLC0415  (on use: it loads sockets)

        logging.config.fileConfig(path, disable_existing_loggers=False)
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        """Send records at ``opts.log_level`` and above to the current stderr."""
        level = level_name(getattr(opts, "log_level", "WARNING"))
        handler = logging.StreamHandler(_CurrentStderr())
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(RUN_FORMAT))
        if getattr(opts, "hide_summary", False):
            handler.addFilter(_without_summary)
        root = logging.getLogger()
        root.setLevel(level)
        root.addHandler(handler)
        return True


class DaemonLogging(LoggingSetup):
    """Logging for a scheduler daemon (Luigi's ``luigid``)."""

    _configured: ClassVar[bool] = False

    @classmethod
    def _cli(cls, opts: Any) -> bool:
        """``--background``: INFO to what logging has; ``--logdir``: INFO to a file."""
        if getattr(opts, "background", False):
            logging.getLogger().setLevel(logging.INFO)
            return True
        logdir = getattr(opts, "logdir", None)
        if logdir:
            logging.basicConfig(
                level=logging.INFO,
                format=DAEMON_FORMAT,
                filename=str(Path(logdir) / "luigi-server.log"),
            )
            return True
        return False

    @classmethod
    def _conf(cls, opts: Any) -> bool:
        """Configure from ``[core] logging_conf_file``."""
        del opts
        path = _get(cls.config, "logging_conf_file")
        if path is None:
            return False
        _check_exists(str(path), "[core] logging_conf_file")
        import logging.config  # noqa: PLC0415  (on use: it loads sockets)

        logging.config.fileConfig(str(path))
        return True

    @classmethod
    def _default(cls, opts: Any) -> bool:
        del opts
        logging.basicConfig(level=logging.INFO, format=DAEMON_FORMAT)
        return True


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (a live display swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _without_summary(record: logging.LogRecord) -> bool:
    return record.name != SUMMARY_LOGGER


def _get(config: Any, option: str) -> Any:
    """Return ``[core] option`` of a config parser, or None if absent."""
    try:
        return config.get("core", option, None)
    except (AttributeError, TypeError):  # a plain mapping assigned as the config
        return config.get("core", {}).get(option)


def _is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _check_exists(path: str, source: str) -> None:
    if not Path(path).exists():
        raise LoggingConfigFileError(path, source)


def _thawed(value: Any) -> Any:
    """Return ``value`` with mappings as dicts and tuples as lists (for dictConfig)."""
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(item) for item in value]
    return value
