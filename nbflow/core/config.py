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
:func:`current_settings`, which loads once, lazily, unless :func:`use_settings` set one
(or Luigi's mutable parser, :mod:`nbflow.core.configuration`, was installed as the
ambient source). Reading one file is :mod:`nbflow.core.config_files`.

Imports: the standard library and nbflow.core.{config_files, errors}.
"""

from __future__ import annotations

import configparser
import contextlib
import contextvars
import dataclasses
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar, overload

from nbflow.core.config_files import read_sections, stringify_options
from nbflow.core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "AmbientSource",
    "Overrides",
    "RetCodes",
    "Settings",
    "current_overrides",
    "current_settings",
    "install_ambient_source",
    "load_file",
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
_UNKNOWN_SOURCE = "<settings>"


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
    #: (section, option) -> the error reading that option raises (a value set in
    #: code whose ``${NAME}`` names an unset variable fails when it is read, as in
    #: Luigi, not when it is set).
    errors: Mapping[tuple[str, str], Exception] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )
    #: (section, option) of options written only with ``-`` (``scheduler-port``);
    #: options given in :attr:`sections` with a ``-`` are added.
    dashed: frozenset[tuple[str, str]] = dataclasses.field(
        default=frozenset(), compare=False, repr=False
    )

    def __post_init__(self) -> None:
        dashed = set(self.dashed)
        for name, options in self.sections.items():
            for key in options:
                if "-" in key and _option_key(key) not in options:
                    dashed.add((name, _option_key(key)))
        object.__setattr__(self, "dashed", frozenset(dashed))
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
        errors = {
            (section, _option_key(option)): error
            for (section, option), error in self.errors.items()
        }
        object.__setattr__(self, "sections", MappingProxyType(frozen))
        object.__setattr__(self, "origins", MappingProxyType(origins))
        object.__setattr__(self, "errors", MappingProxyType(errors))

    def __reduce__(self) -> tuple[type[Settings], tuple[object, ...]]:
        # Mapping proxies do not pickle; settings travel to worker processes.
        sections = {name: dict(options) for name, options in self.sections.items()}
        state = (sections, self.sources, dict(self.origins), dict(self.errors))
        return (type(self), state)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Mapping[str, object]]) -> Settings:
        """Build settings from nested mappings, converting values as TOML ones are.

        Strings are kept, booleans become ``"true"``/``"false"``, numbers ``str()``,
        dates ISO 8601 and lists or dicts JSON. No interpolation is done.
        """
        return cls(
            {name: stringify_options(options) for name, options in mapping.items()}
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
        errors = {
            key: error
            for key, error in self.errors.items()
            if key[1] not in other.section(key[0])
        }
        dashed = {key for key in self.dashed if key[1] not in other.section(key[0])}
        return Settings(
            sections,
            self.sources + other.sources,
            {**self.origins, **other.origins},
            {**errors, **other.errors},
            frozenset(dashed | other.dashed),
        )

    def spelled_with_dashes(self, section: str, option: str) -> bool:
        """Return whether ``option`` of ``section`` was written only with ``-``."""
        return (section, _option_key(option)) in self.dashed

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
        """Return the value of ``option`` in ``section``, or ``default``.

        Raises
        ------
        Exception
            The error recorded in :attr:`errors` for this option, if any.
        """
        key = _option_key(option)
        if self.errors:
            error = self.errors.get((section, key))
            if error is not None:
                raise error.with_traceback(None)
        return self.section(section).get(key, default)

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


def load_file(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> Settings:
    """Read one config file (``.toml`` as TOML, else INI), as :meth:`Settings.load`.

    Raises
    ------
    ConfigError
        The file is missing, unreadable or malformed.
    """
    found = _existing(Path(path), "it was asked for")
    return _read_file(found, os.environ if env is None else env)


def _read_file(path: Path, environ: Mapping[str, str]) -> Settings:
    sections = read_sections(path, environ)
    if sections is None:
        return Settings()
    origins = {
        (name, key): str(path) for name, opts in sections.items() for key in opts
    }
    return Settings(sections, (str(path),), origins)


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


class AmbientSource(Protocol):
    """Where :func:`current_settings` looks outside :func:`use_settings` blocks.

    By default the files, read once. :mod:`nbflow.core.configuration` installs
    Luigi's mutable config parser here on first use, so that what is set through
    it is seen by every task constructed after.
    """

    def current(self) -> Settings:
        """Return the settings as they are now (cheap: called per parameter)."""
        ...

    def forget(self) -> None:
        """Drop what was read, so the next :meth:`current` reads the files again."""
        ...


class _Ambient:
    """The files read once, on first use, unless a source was installed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Settings | None = None
        self.source: AmbientSource | None = None

    def get(self) -> Settings:
        source = self.source
        if source is not None:
            return source.current()
        with self._lock:
            if self._value is None:
                self._value = Settings.load()
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None
        if self.source is not None:
            self.source.forget()


_AMBIENT = _Ambient()
_SETTINGS: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "nbflow_settings", default=None
)
_OVERRIDES: contextvars.ContextVar[Overrides] = contextvars.ContextVar(
    "nbflow_overrides", default=MappingProxyType({})
)
#: (settings, overrides, the two merged): the last overlay, reused while both hold.
_overlay_cache: tuple[Settings, Overrides, Settings] | None = None


def install_ambient_source(source: AmbientSource | None) -> None:
    """Make ``source`` what :func:`current_settings` reads (None: the files)."""
    _AMBIENT.source = source


def current_settings() -> Settings:
    """Return the settings in effect, with the command line's overrides on top.

    Those of :func:`use_settings`, else the ambient ones: the files, read by
    ``Settings.load()`` on the first call and then cached (call
    :func:`reset_settings_cache` to read them again), or Luigi's config parser once
    it is used. Command-line ``--Family-param`` values (:func:`use_overrides`) are
    read as ``[Family] param`` options, as Luigi reads them.
    """
    global _overlay_cache  # noqa: PLW0603  (a one-entry cache, replaced whole)
    settings = _SETTINGS.get()
    if settings is None:
        settings = _AMBIENT.get()
    overrides = _OVERRIDES.get()
    if not overrides:
        return settings
    cached = _overlay_cache
    if cached is not None and cached[0] is settings and cached[1] is overrides:
        return cached[2]
    overlay = settings.merged(Settings(overrides))
    _overlay_cache = (settings, overrides, overlay)
    return overlay


@contextlib.contextmanager
def use_settings(settings: Settings) -> Iterator[Settings]:
    """Make ``settings`` the current settings inside the ``with`` block."""
    token = _SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _SETTINGS.reset(token)


def reset_settings_cache() -> None:
    """Forget the settings read from files, so the next use reads the files again."""
    _AMBIENT.clear()


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
