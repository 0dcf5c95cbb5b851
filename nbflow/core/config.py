"""Read nbflow's (and Luigi's) configuration files into a frozen :class:`Settings`.

Files are read in this order, later files overriding earlier ones option by option:

1. in the working directory: ``luigi.cfg`` (INI), ``luigi.toml``, ``pyproject.toml``
   (only its ``[tool.nbflow]`` table, whose sub-tables are sections) and
   ``nbflow.toml``; a file that is absent is skipped;
2. every path in ``LUIGI_CONFIG_PATH``, then every path in ``NBFLOW_CONFIG_PATH``
   (``os.pathsep``-separated; ``.toml`` files are TOML, anything else is INI); a listed
   path that does not exist is an error.

Every value is kept as a string, so a value reads the same whichever format it came
from. ``${NAME}`` and ``${NAME:-default}`` are replaced by environment variables
(``$${`` writes a literal ``${``); INI files also get configparser's ``%(other)s``
interpolation, as in Luigi. Option names treat ``-`` and ``_`` alike.

Nothing is read at import: shells call :meth:`Settings.load`, or the task layer calls
:func:`current_settings`, which loads once, lazily, unless :func:`use_settings` set one.

Imports: the standard library (``tomli`` before Python 3.11) and
nbflow.core.{config_keys, errors}.
"""

from __future__ import annotations

import configparser
import contextlib
import contextvars
import dataclasses
import datetime as dt
import functools
import json
import os
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeAlias, TypeVar, overload

from nbflow.core.config_keys import warn_unknown_keys
from nbflow.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "Overrides",
    "RetCodes",
    "Settings",
    "current_overrides",
    "current_settings",
    "reset_settings_cache",
    "resources",
    "use_overrides",
    "use_settings",
]

#: Command-line parameter overrides: task family -> {parameter name: text}.
Overrides: TypeAlias = Mapping[str, Mapping[str, str]]

_T = TypeVar("_T")
_DEFAULT_FILES = ("luigi.cfg", "luigi.toml", "pyproject.toml", "nbflow.toml")
_PATH_VARIABLES = ("LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH")
_ENV_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_TOML_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")
_UNKNOWN_SOURCE = "<settings>"
_Sections: TypeAlias = dict[str, dict[str, str]]


def _option_key(option: str) -> str:
    return option.replace("-", "_")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Configuration values by section and option, every value a string.

    Option names are stored with ``-`` folded to ``_``, so ``retry-delay`` and
    ``retry_delay`` name the same option. Section names are kept exactly (they are
    usually task families). Build one with :meth:`load` or :meth:`from_mapping`.

    .. versionadded:: 0.1

    Examples
    --------
    >>> settings = Settings.from_mapping({"worker": {"keep-alive": True}})
    >>> settings.get("worker", "keep_alive")
    'true'
    >>> settings.get_bool("worker", "keep-alive", default=False)
    True
    >>> settings.get_int("scheduler", "retry_delay", default=900)
    900
    """

    #: Section name -> option name -> value.
    sections: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    #: The files that were read, in the order they were read.
    sources: tuple[str, ...] = ()
    #: (section, option) -> the file that set it; used to point errors at a file.
    origins: Mapping[tuple[str, str], str] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        frozen = {
            name: MappingProxyType(
                {_option_key(key): value for key, value in options.items()}
            )
            for name, options in self.sections.items()
        }
        origins = {
            (section, _option_key(option)): path
            for (section, option), path in self.origins.items()
        }
        object.__setattr__(self, "sections", MappingProxyType(frozen))
        object.__setattr__(self, "origins", MappingProxyType(origins))

    def __reduce__(self) -> tuple[type[Settings], tuple[object, ...]]:
        # Mapping proxies do not pickle; settings travel to worker processes.
        sections = {name: dict(options) for name, options in self.sections.items()}
        return (type(self), (sections, self.sources, dict(self.origins)))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Mapping[str, object]]) -> Settings:
        """Build settings from nested mappings, converting values as TOML ones are.

        Strings are kept, booleans become ``"true"``/``"false"``, numbers ``str()``,
        dates ISO 8601 and lists or dicts JSON. No interpolation is done.
        """
        return cls(
            {name: _stringify_options(options) for name, options in mapping.items()}
        )

    @classmethod
    def load(
        cls,
        paths: Iterable[str | os.PathLike[str]] | None = None,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Read the configuration files, later ones overriding earlier ones.

        Parameters
        ----------
        paths
            Files to read instead of the default files in ``cwd``; each must exist.
        cwd
            Where the default files and relative paths are looked up (default: the
            working directory).
        env
            Environment for ``*_CONFIG_PATH`` and ``${NAME}`` (default ``os.environ``).

        Raises
        ------
        ConfigError
            A file is missing, unreadable or malformed, or names an unset variable.

        Warns
        -----
        UnknownConfigKeyWarning
            A key of [core], [worker], [scheduler] or [retcode] that nbflow does not
            read, once per key (see :mod:`nbflow.core.config_keys`).
        """
        environ = os.environ if env is None else env
        base = Path.cwd() if cwd is None else Path(cwd)
        settings = cls()
        for path in _config_files(paths, base, environ):
            settings = settings.merged(_read_file(path, environ))
        return settings

    def merged(self, other: Settings) -> Settings:
        """Return these settings overridden, option by option, by ``other``."""
        sections = {name: dict(options) for name, options in self.sections.items()}
        for name, options in other.sections.items():
            sections.setdefault(name, {}).update(options)
        return Settings(
            sections, self.sources + other.sources, {**self.origins, **other.origins}
        )

    def has_section(self, name: str) -> bool:
        """Return whether section ``name`` exists."""
        return name in self.sections

    def section(self, name: str) -> Mapping[str, str]:
        """Return the read-only options of section ``name`` (empty when absent)."""
        return self.sections.get(name, MappingProxyType({}))

    @overload
    def get(self, section: str, option: str, default: str) -> str: ...
    @overload
    def get(self, section: str, option: str, default: None = None) -> str | None: ...
    def get(self, section: str, option: str, default: str | None = None) -> str | None:
        """Return the value of ``option`` in ``section``, or ``default``."""
        return self.section(section).get(_option_key(option), default)

    @overload
    def get_int(self, section: str, option: str, default: int) -> int: ...
    @overload
    def get_int(
        self, section: str, option: str, default: None = None
    ) -> int | None: ...
    def get_int(
        self, section: str, option: str, default: int | None = None
    ) -> int | None:
        """Return ``option`` as an int, or ``default``; raise ConfigError if not."""
        return self._typed(section, option, default, int, "an integer such as 3")

    @overload
    def get_float(self, section: str, option: str, default: float) -> float: ...
    @overload
    def get_float(
        self, section: str, option: str, default: None = None
    ) -> float | None: ...
    def get_float(
        self, section: str, option: str, default: float | None = None
    ) -> float | None:
        """Return ``option`` as a float, or ``default``; raise ConfigError if not."""
        return self._typed(section, option, default, float, "a number such as 1.5")

    @overload
    def get_bool(self, section: str, option: str, default: bool) -> bool: ...
    @overload
    def get_bool(
        self, section: str, option: str, default: None = None
    ) -> bool | None: ...
    def get_bool(
        self, section: str, option: str, default: bool | None = None
    ) -> bool | None:
        """Return ``option`` as a bool (true/false, yes/no, on/off, 1/0)."""
        return self._typed(section, option, default, _parse_bool, "true or false")

    def _typed(
        self,
        section: str,
        option: str,
        default: _T | None,
        parse: Callable[[str], _T],
        expected: str,
    ) -> _T | None:
        text = self.get(section, option)
        if text is None:
            return default
        try:
            return parse(text.strip())
        except ValueError:
            key = _option_key(option)
            path = self.origins.get((section, key), _UNKNOWN_SOURCE)
            problem = (
                f"[{section}] {key}: invalid value (got {text!r}), expected {expected}"
            )
            raise ConfigError(path, None, problem) from None


def _parse_bool(text: str) -> bool:
    states = configparser.ConfigParser.BOOLEAN_STATES
    try:
        return states[text.lower()]
    except KeyError:
        raise ValueError(text) from None


# -- locating and reading files ------------------------------------------------------


def _config_files(
    paths: Iterable[str | os.PathLike[str]] | None,
    base: Path,
    environ: Mapping[str, str],
) -> Iterator[Path]:
    if paths is None:
        yield from (base / name for name in _DEFAULT_FILES if (base / name).is_file())
    else:
        yield from (
            _existing(base / path, "it was passed to Settings.load") for path in paths
        )
    for variable in _PATH_VARIABLES:
        for entry in environ.get(variable, "").split(os.pathsep):
            if entry.strip():
                yield _existing(base / entry.strip(), f"it is listed in {variable}")


def _existing(path: Path, reason: str) -> Path:
    if not path.is_file():
        raise ConfigError(str(path), None, f"file does not exist, but {reason}")
    return path


def _read_file(path: Path, environ: Mapping[str, str]) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read the file ({exc})") from exc
    source = _Source(str(path), text, environ)
    if path.name == "pyproject.toml":
        sections = source.read_pyproject()
        if sections is None:
            return Settings()
    elif path.suffix == ".toml":
        sections = source.read_toml()
    else:
        sections = source.read_ini()
    warn_unknown_keys(sections, source.path, _ini_defaults(text))
    origins = {
        (name, key): source.path for name, opts in sections.items() for key in opts
    }
    return Settings(sections, (source.path,), origins)


def _ini_defaults(text: str) -> frozenset[str]:
    """Return the keys of an INI file's [DEFAULT] section (in every section too)."""
    if "[DEFAULT]" not in text:
        return frozenset()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)  # already parsed once without error
    return frozenset(_option_key(key) for key in parser.defaults())


@dataclasses.dataclass(frozen=True)
class _Source:
    """One file's text, with the parsing and interpolation that need its path."""

    path: str
    text: str
    environ: Mapping[str, str]

    def read_ini(self) -> _Sections:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(self.text, source=self.path)
            raw = {name: dict(parser.items(name)) for name in parser.sections()}
        except configparser.Error as exc:
            raise self._ini_error(exc) from None
        return {
            name: {key: self.expand(value, name, key) for key, value in options.items()}
            for name, options in raw.items()
        }

    def read_toml(self) -> _Sections:
        return self._sections(self._parse_toml(), "the top level")

    def read_pyproject(self) -> _Sections | None:
        tool = self._parse_toml().get("tool", {})
        table = tool.get("nbflow") if isinstance(tool, dict) else None
        if table is None:
            return None
        if not isinstance(table, dict):
            problem = "[tool.nbflow] must be a table whose sub-tables are sections"
            raise ConfigError(self.path, None, problem)
        return self._sections(table, "[tool.nbflow]")

    def _parse_toml(self) -> dict[str, object]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            found = _TOML_LINE.search(message)
            # "at end of document" carries no line number: point at the last line
            end = max(self.text.count("\n"), 1)
            line = int(found.group(1)) if found is not None else end
            raise ConfigError(self.path, line, _TOML_LINE.sub("", message)) from None

    def _sections(self, table: Mapping[str, object], where: str) -> _Sections:
        sections: _Sections = {}
        for name, options in table.items():
            if not isinstance(options, dict):
                problem = (
                    f"{name!r} at {where} is not a section; "
                    f"put it under a [section] header such as [core]"
                )
                raise ConfigError(self.path, self.line_of(f"{name}"), problem)
            sections[name] = {
                key: _stringify(
                    value, functools.partial(self.expand, section=name, option=key)
                )
                for key, value in options.items()
            }
        return sections

    def _ini_error(self, exc: configparser.Error) -> ConfigError:
        if isinstance(exc, configparser.MissingSectionHeaderError):
            return ConfigError(self.path, exc.lineno, "option before any [section]")
        if isinstance(exc, configparser.ParsingError) and exc.errors:
            line, text = exc.errors[0]
            return ConfigError(self.path, line, f"cannot parse line {text}")
        lineno: int | None = getattr(exc, "lineno", None)
        problem = exc.message.rsplit(": ", 1)[-1] if lineno else exc.message
        return ConfigError(self.path, lineno, problem.strip().replace("\n", " "))

    def expand(self, value: str, section: str, option: str) -> str:
        """Replace ``${NAME}`` and ``${NAME:-default}`` with environment values."""

        def replace(match: re.Match[str]) -> str:
            escaped, body = match.groups()
            if escaped:
                return "${" + body + "}"
            parsed = _ENV_BODY.fullmatch(body)
            where = f"[{section}] {option}"
            if parsed is None:
                problem = f"{where}: malformed reference ${{{body}}}; use ${{NAME}}"
                raise ConfigError(self.path, self.line_of("${" + body), problem)
            name, fallback = parsed.groups()
            found = self.environ.get(name)
            if found:
                return found
            if fallback is not None:
                return fallback
            if found is not None:
                return found
            problem = (
                f"{where}: environment variable {name} is not set; set it, "
                f"or give a default as ${{{name}:-default}}"
            )
            raise ConfigError(self.path, self.line_of("${" + name), problem)

        return _ENV_REFERENCE.sub(replace, value)

    def line_of(self, needle: str) -> int | None:
        """Return the first line number containing ``needle``, if any."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if needle in line:
                return number
        return None


def _stringify_options(options: Mapping[str, object]) -> dict[str, str]:
    return {key: _stringify(value, str) for key, value in options.items()}


def _stringify(value: object, expand: Callable[[str], str]) -> str:
    if isinstance(value, str):
        return expand(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    return json.dumps(_expand_nested(value, expand))


def _expand_nested(value: object, expand: Callable[[str], str]) -> object:
    if isinstance(value, str):
        return expand(value)
    if isinstance(value, Mapping):
        return {str(k): _expand_nested(v, expand) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_expand_nested(item, expand) for item in value]
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


# -- typed views of the sections nbflow reads ---------------------------------------


def resources(settings: Settings) -> dict[str, int]:
    """Return the ``[resources]`` limits (resource name -> how many may be held).

    Examples
    --------
    >>> resources(Settings.from_mapping({"resources": {"db": 2}}))
    {'db': 2}
    """
    return {
        name: settings.get_int("resources", name, 0)
        for name in settings.section("resources")
    }


@dataclasses.dataclass(frozen=True)
class RetCodes:
    """Process exit codes for the outcomes of a run, read from ``[retcode]``.

    When several outcomes apply, the highest code wins (as in Luigi). The names are
    Luigi's; the defaults differ only where Luigi's would hide a failure:

    - ``already_running = 0``: another process runs the task (Luigi: 0).
    - ``missing_data = 0``: an external input is missing (Luigi: 0).
    - ``not_run = 0``: a task was not run, e.g. a dependency failed (Luigi: 0).
    - ``task_failed = 1``: a task's ``run()`` raised. Luigi defaults to 0, so a failed
      pipeline "succeeds" in cron and CI (Luigi issue #687); nbflow does not.
    - ``scheduling_error = 1``: a task's ``requires()``, ``complete()`` or parameters
      could not be evaluated. Luigi defaults to 0 for the same historical reason.
    - ``unhandled_exception = 4``: nbflow itself failed (Luigi: 4).

    Set any of them to 0 in ``[retcode]`` to get Luigi's behaviour back.

    .. versionadded:: 0.1
    """

    already_running: int = 0
    missing_data: int = 0
    not_run: int = 0
    task_failed: int = 1
    scheduling_error: int = 1
    unhandled_exception: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> RetCodes:
        """Return the codes in ``[retcode]``, each defaulting as documented."""
        defaults = cls()
        codes = {
            field.name: settings.get_int(
                "retcode", field.name, getattr(defaults, field.name)
            )
            for field in dataclasses.fields(cls)
        }
        return cls(**codes)


# -- the ambient settings and overrides used when tasks are constructed ------------


class _LazySettings:
    """``Settings.load()`` run once, on first use; a failed load is retried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Settings | None = None

    def get(self) -> Settings:
        with self._lock:
            if self._value is None:
                self._value = Settings.load()
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None


_LAZY = _LazySettings()
_SETTINGS: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "nbflow_settings", default=None
)
_OVERRIDES: contextvars.ContextVar[Overrides] = contextvars.ContextVar(
    "nbflow_overrides", default=MappingProxyType({})
)


def current_settings() -> Settings:
    """Return the settings in effect: those of :func:`use_settings`, else the files.

    The files are read by ``Settings.load()`` on the first call and then cached; call
    :func:`reset_settings_cache` to read them again.
    """
    settings = _SETTINGS.get()
    return _LAZY.get() if settings is None else settings


@contextlib.contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` the current settings inside the ``with`` block."""
    token = _SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _SETTINGS.reset(token)


def reset_settings_cache() -> None:
    """Forget the lazily loaded settings, so the next use reads the files again."""
    _LAZY.clear()


def current_overrides() -> Overrides:
    """Return the command-line parameter overrides in effect (empty by default)."""
    return _OVERRIDES.get()


@contextlib.contextmanager
def use_overrides(overrides: Overrides) -> Iterator[Overrides]:
    """Make ``overrides`` (replacing any outer ones) current inside the block."""
    frozen = MappingProxyType(
        {family: MappingProxyType(dict(params)) for family, params in overrides.items()}
    )
    token = _OVERRIDES.set(frozen)
    try:
        yield frozen
    finally:
        _OVERRIDES.reset(token)
