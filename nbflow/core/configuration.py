"""Luigi's mutable configuration objects, on top of nbflow's frozen :class:`Settings`.

Luigi code reads and changes its configuration through a process-wide parser:
``get_config().get("core", "workers")``, ``get_config().set(...)``,
``add_config_path(path)``. :class:`LuigiConfigParser` is that parser: a
``configparser.ConfigParser`` loaded with the same files nbflow reads
(:meth:`Settings.load`) and any added with :func:`add_config_path`. Values set
through it keep Luigi's interpolation, done when a value is read: ``%(other)s``
(configparser's) and ``${NAME}`` / ``${NAME:-default}`` from the environment.

Once the parser is used it is nbflow's ambient configuration: it is installed as
the source of :func:`nbflow.core.config.current_settings`, so every task (and
``[core]``/``[worker]`` setting) read after ``get_config().set(...)`` sees the new
value. :func:`overridden` replaces the parser for a ``with`` block and restores it
after, as Luigi's test helper ``with_config`` does. A run takes a snapshot of the
settings when it starts; changes made while it runs reach the next run.

:class:`LuigiTomlParser` is Luigi's TOML view: a dictionary of native values read
from ``luigi.toml`` files (nbflow's own settings read those files too).

Imports: stdlib, nbflow.core.{config, config_files, errors}.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from nbflow.core import config as _config
from nbflow.core.config_files import expand_env, stringify_options
from nbflow.core.errors import NbflowError, NbflowWarning

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = [
    "ConfigParserWarning",
    "InterpolationMissingEnvvarError",
    "LuigiConfigParser",
    "LuigiTomlParser",
    "ParserUnavailableError",
    "add_config_path",
    "get_config",
    "overridden",
]

#: The environment variable that picks the parser :func:`get_config` returns.
PARSER_VARIABLE = "LUIGI_CONFIG_PARSER"
_NO_DEFAULT: Any = object()


class InterpolationMissingEnvvarError(configparser.InterpolationError, NbflowError):
    """A config value names an environment variable that is not set."""

    def __init__(self, option: str, section: str, value: str, envvar: str) -> None:
        super().__init__(option, section, "")
        self.args = (option, section, value, envvar)
        self.value, self.envvar = value, envvar

    def __str__(self) -> str:
        return (
            f"[{self.section}] {self.option}: environment variable {self.envvar} is "
            f"not set (got {self.value!r}). Expected it in the environment. Fix: set "
            f"{self.envvar}, or give a default as ${{{self.envvar}:-default}}."
        )


class ParserUnavailableError(NbflowError, ImportError):
    """A config parser was asked for while it is disabled (its ``enabled`` is False)."""

    def __init__(self, parser: str) -> None:
        super().__init__(parser)
        self.parser = parser

    def __str__(self) -> str:
        return (
            f"config parser {self.parser!r} is disabled (got enabled = False). "
            "Expected an enabled parser. Fix: set its class's `enabled` back to "
            f"True, or set {PARSER_VARIABLE} to another parser (cfg or toml)."
        )


class ConfigParserWarning(NbflowWarning):
    """``LUIGI_CONFIG_PARSER`` names no parser, or a config file to add is missing."""


class _Interpolation(configparser.BasicInterpolation):
    """configparser's ``%(other)s``, then ``${NAME}`` from the environment."""

    def before_get(
        self,
        parser: Any,
        section: str,
        option: str,
        value: str,
        defaults: Any,
    ) -> str:
        value = super().before_get(parser, section, option, value, defaults)

        def missing(name: str | None, body: str) -> Exception:
            if name is None:
                return configparser.InterpolationSyntaxError(
                    option, section, f"malformed reference ${{{body}}}; use ${{NAME}}"
                )
            return InterpolationMissingEnvvarError(option, section, value, name)

        return expand_env(value, os.environ, missing)


def _escape(value: str) -> str:
    """Return a final value written so that interpolation gives it back unchanged."""
    return value.replace("%", "%%").replace("${", "$${")


def _key(option: str) -> str:
    return option.replace("-", "_")


class LuigiConfigParser(configparser.ConfigParser):
    """Luigi's process-wide INI-style configuration, read by nbflow's tasks too.

    Option names are case-sensitive; ``-`` and ``_`` name the same option (the
    ``_`` spelling wins when a section has both). ``get`` and the typed getters
    take a ``default``, returned when the option is absent.

    .. versionadded:: 0.1
    """

    NO_DEFAULT: ClassVar[Any] = _NO_DEFAULT
    enabled: ClassVar[bool] = True
    _instance: ClassVar[LuigiConfigParser | None] = None
    #: Files added with :func:`add_config_path`, read after nbflow's own files.
    _config_paths: ClassVar[list[str]] = []
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self) -> None:
        self._version = 0
        self._loaded = _config.Settings()
        self._from_files: dict[tuple[str, str], str] = {}
        super().__init__(interpolation=_Interpolation())

    def optionxform(self, optionstr: str) -> str:
        """Keep option names as written (Luigi's parameters are case-sensitive)."""
        return optionstr

    @classmethod
    def instance(cls) -> LuigiConfigParser:
        """Return the process-wide parser, reading the files on first use."""
        with cls._lock:
            if cls._instance is None:
                parser = cls()
                parser.load_files()
                cls._instance = parser
            _config.install_ambient_source(_SOURCE)
            return cls._instance

    @classmethod
    def add_config_path(cls, path: str) -> None:
        """Read ``path`` after the other files, now and on every reload."""
        cls._config_paths.append(path)
        cls.reload()

    @classmethod
    def reload(cls) -> list[str]:
        """Read the files again into the parser (their values replace set ones)."""
        return cls.instance().load_files()

    def load_files(self) -> list[str]:
        """Read nbflow's config files and the added ones; return what was read."""
        settings = _config.Settings.load()
        for path in self._config_paths:
            if Path(path).is_file():
                settings = settings.merged(_config.load_file(path))
        self._loaded = settings
        for section, options in settings.sections.items():
            for option, value in options.items():
                self._from_files[section, option] = _escape(value)
                self.set(section, option, _escape(value))
        return list(settings.sources)

    def read(  # type: ignore[override]
        self, filenames: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
    ) -> list[str]:
        """Read config files (``.toml`` as TOML, else INI) with nbflow's reader."""
        paths = [filenames] if isinstance(filenames, (str, os.PathLike)) else filenames
        read = []
        for path in paths:
            if Path(path).is_file():
                for section, options in _config.load_file(path).sections.items():
                    for option, value in options.items():
                        self.set(section, option, _escape(value))
                read.append(os.fspath(path))
        return read

    # -- Luigi's getters: a default, and - or _ in option names ---------------------

    def _get_with_default(
        self, method: Any, section: str, option: str, default: Any, **kwargs: Any
    ) -> Any:
        for name in dict.fromkeys((_key(option), option.replace("_", "-"))):
            try:
                return method(self, section, name, **kwargs)
            except (configparser.NoOptionError, configparser.NoSectionError):
                continue
        if default is _NO_DEFAULT:
            return method(self, section, _key(option), **kwargs)  # raises
        return default

    def get(  # type: ignore[override]
        self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any
    ) -> Any:
        """Return the interpolated value of ``option``, or ``default`` if absent."""
        return self._get_with_default(
            configparser.ConfigParser.get, section, option, default, **kwargs
        )

    def getboolean(
        self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any
    ) -> Any:
        """Return ``option`` as a bool, or ``default`` if absent."""
        return self._get_with_default(
            configparser.ConfigParser.getboolean, section, option, default, **kwargs
        )

    def getint(
        self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any
    ) -> Any:
        """Return ``option`` as an int, or ``default`` if absent."""
        return self._get_with_default(
            configparser.ConfigParser.getint, section, option, default, **kwargs
        )

    def getfloat(
        self, section: str, option: str, default: Any = _NO_DEFAULT, **kwargs: Any
    ) -> Any:
        """Return ``option`` as a float, or ``default`` if absent."""
        return self._get_with_default(
            configparser.ConfigParser.getfloat, section, option, default, **kwargs
        )

    def getintdict(self, section: str) -> dict[str, int]:
        """Return a section's options as ints (``[resources]``), {} if absent."""
        if not self.has_section(section):
            return {}
        defaults = set(self.defaults())
        return {
            name: int(value)
            for name, value in self.items(section)
            if name not in defaults
        }

    def has_option(self, section: str, option: str) -> bool:
        """Return whether ``option`` (either spelling) is set in ``section``."""
        return any(
            super(LuigiConfigParser, self).has_option(section, name)
            for name in (_key(option), option.replace("_", "-"))
        )

    # -- changes: each one is seen by the next task constructed ---------------------

    def set(self, section: str, option: str, value: str | None = None) -> None:
        """Set ``option`` in ``section`` (created if needed); interpolated on read."""
        with self._lock:
            if section != self.default_section and not self.has_section(section):
                super().add_section(section)
            super().set(section, option, value)
            self._version += 1

    def remove_option(self, section: str, option: str) -> bool:
        """Remove ``option`` from ``section``; return whether it was there."""
        with self._lock:
            self._version += 1
            return super().remove_option(section, option)

    def remove_section(self, section: str) -> bool:
        """Remove ``section``; return whether it was there."""
        with self._lock:
            self._version += 1
            return super().remove_section(section)

    def read_file(self, f: Iterable[str], source: str | None = None) -> None:
        """Read INI text (configparser's reader); its values are interpolated."""
        with self._lock:
            super().read_file(f, source)
            self._version += 1

    def copy(self) -> LuigiConfigParser:
        """Return a parser holding the same raw values, loaded from the same files."""
        other = type(self)()
        other._loaded = self._loaded  # noqa: SLF001  (same class)
        other._from_files = dict(self._from_files)  # noqa: SLF001
        for option, value in self.defaults().items():
            other.set(self.default_section, option, value)
        for section in self.sections():
            other.add_section(section)
            for option, value in self._sections[section].items():  # type: ignore[attr-defined]
                other.set(section, option, value)
        return other

    def to_settings(self) -> _config.Settings:
        """Return what the parser holds as frozen settings, every value read.

        A value that cannot be read (``${NAME}`` unset) raises its error when that
        option is read from the settings, not before.
        """
        sections: dict[str, dict[str, str]] = {}
        errors: dict[tuple[str, str], Exception] = {}
        origins: dict[tuple[str, str], str] = {}
        dashed: set[tuple[str, str]] = set()
        for section in self.sections():
            options = sections.setdefault(section, {})
            # the "_" spelling is read last, so it wins over the "-" one
            for option in sorted(self.options(section), key=lambda o: "-" not in o):
                key = _key(option)
                if "-" in option:
                    dashed.add((section, key))
                else:
                    dashed.discard((section, key))
                raw = configparser.ConfigParser.get(self, section, option, raw=True)
                if self._from_files.get((section, key)) == raw:
                    origins[section, key] = self._loaded.origins[section, key]
                    if self._loaded.spelled_with_dashes(section, key):
                        dashed.add((section, key))
                try:
                    options[key] = configparser.ConfigParser.get(self, section, option)
                    errors.pop((section, key), None)
                except (configparser.Error, ValueError) as error:
                    options[key] = raw
                    errors[section, key] = error
        return _config.Settings(
            sections, self._loaded.sources, origins, errors, frozenset(dashed)
        )


class _ParserSource:
    """The ambient settings: a snapshot of the current parser, kept per version."""

    def __init__(self) -> None:
        self._cache: tuple[LuigiConfigParser, int, _config.Settings] | None = None

    def current(self) -> _config.Settings:
        parser = LuigiConfigParser.instance()
        cached = self._cache
        if cached is not None and cached[0] is parser and cached[1] == parser._version:  # noqa: SLF001
            return cached[2]
        with LuigiConfigParser._lock:  # noqa: SLF001
            version = parser._version  # noqa: SLF001
            settings = parser.to_settings()
        self._cache = (parser, version, settings)
        return settings

    def forget(self) -> None:
        with LuigiConfigParser._lock:  # noqa: SLF001
            LuigiConfigParser._instance = None  # noqa: SLF001
            self._cache = None


_SOURCE = _ParserSource()


class LuigiTomlParser:
    """Luigi's TOML configuration: ``data`` holds each section's native values.

    .. versionadded:: 0.1
    """

    NO_DEFAULT: ClassVar[Any] = _NO_DEFAULT
    enabled: ClassVar[bool] = True
    _instance: ClassVar[LuigiTomlParser | None] = None
    _config_paths: ClassVar[list[str]] = ["/etc/luigi/luigi.toml", "luigi.toml"]

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    @classmethod
    def instance(cls) -> LuigiTomlParser:
        """Return the process-wide parser, reading the files on first use."""
        if cls._instance is None:
            cls._instance = cls()
            cls._instance.read(cls._config_paths)
        return cls._instance

    @classmethod
    def add_config_path(cls, path: str) -> None:
        """Read ``path`` after the other files, now and on every reload."""
        cls._config_paths.append(path)
        cls.reload()

    @classmethod
    def reload(cls) -> dict[str, dict[str, Any]]:
        """Read the files again, replacing what the parser holds."""
        return cls.instance().read(cls._config_paths)

    def read(self, config_paths: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Read the TOML files that exist, later ones overriding option by option."""
        self.data = {}
        for path in config_paths:
            if Path(path).is_file():
                with Path(path).open("rb") as stream:
                    loaded = tomllib.load(stream)
                for section, options in loaded.items():
                    self.data.setdefault(section, {}).update(options)
        return self.data

    def get(self, section: str, option: str, default: Any = _NO_DEFAULT) -> Any:
        """Return the value, or ``default``; KeyError if absent without one."""
        try:
            return self.data[section][option]
        except KeyError:
            if default is _NO_DEFAULT:
                raise
            return default

    getboolean = getint = getfloat = get

    def getintdict(self, section: str) -> dict[str, Any]:
        """Return a section's options ({} if absent)."""
        return self.data.get(section, {})

    def set(self, section: str, option: str, value: Any = None) -> None:
        """Set ``option`` in ``section`` (created if needed)."""
        self.data.setdefault(section, {})[option] = value

    def has_option(self, section: str, option: str) -> bool:
        """Return whether ``section`` has ``option``."""
        return option in self.data.get(section, {})

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.data[name]


PARSERS: dict[str, type[LuigiConfigParser | LuigiTomlParser]] = {
    "cfg": LuigiConfigParser,
    "conf": LuigiConfigParser,
    "ini": LuigiConfigParser,
    "toml": LuigiTomlParser,
}


def _default_parser() -> str:
    name = os.environ.get(PARSER_VARIABLE, "cfg")
    if name not in PARSERS:
        message = (
            f"{PARSER_VARIABLE}={name!r} names no config parser; using cfg. "
            f"Fix: set it to one of {', '.join(PARSERS)}."
        )
        warnings.warn(message, ConfigParserWarning, stacklevel=3)
        return "cfg"
    return name


def _enabled(name: str) -> type[LuigiConfigParser | LuigiTomlParser]:
    parser_class = PARSERS[name]
    if not parser_class.enabled:
        raise ParserUnavailableError(name)
    return parser_class


def get_config(parser: str | None = None) -> Any:
    """Return the process-wide config parser (``LUIGI_CONFIG_PARSER``, else cfg).

    Raises
    ------
    ParserUnavailableError
        The parser's class is disabled (an ImportError, as in Luigi).
    """
    return _enabled(parser or _default_parser()).instance()


def add_config_path(path: str) -> bool:
    """Read the config file at ``path`` too, after the others; False if missing.

    The file counts for nbflow's settings whatever its format (``.toml`` or INI);
    a ``.toml`` file is also added to :class:`LuigiTomlParser`.

    Raises
    ------
    ParserUnavailableError
        The parser for the file's format is disabled.
    """
    if not Path(path).is_file():
        message = f"config file {path!r} does not exist; not added"
        warnings.warn(message, ConfigParserWarning, stacklevel=2)
        return False
    suffix = Path(path).suffix[1:]
    name = suffix if suffix in PARSERS else _default_parser()
    _enabled(name).add_config_path(path)
    if PARSERS[name] is not LuigiConfigParser:
        LuigiConfigParser.add_config_path(path)
    return True


def _text(value: object) -> str:
    return value if isinstance(value, str) else stringify_options({"v": value})["v"]


@contextlib.contextmanager
def overridden(
    config: Mapping[str, Mapping[str, object]], *, replace_sections: bool = False
) -> Iterator[LuigiConfigParser]:
    """Make these config sections current inside the ``with`` block.

    Each section's options are merged over the current ones (or, with
    ``replace_sections``, replace the whole section). Tasks constructed inside, and
    :func:`get_config`, see them; the previous configuration is back after. A
    ``None`` value removes the option.

    Examples
    --------
    >>> with overridden({"core": {"workers": "3"}}):
    ...     _config.current_settings().get_int("core", "workers")
    3
    """
    original = LuigiConfigParser.instance()
    with LuigiConfigParser._lock:  # noqa: SLF001
        parser = original.copy()
        for section, options in config.items():
            if replace_sections:
                parser.remove_section(section)
            for option, value in options.items():
                if value is None:
                    if parser.has_section(section):
                        parser.remove_option(section, option)
                    continue
                parser.set(section, option, _text(value))
        LuigiConfigParser._instance = parser  # noqa: SLF001
    try:
        yield parser
    finally:
        LuigiConfigParser._instance = original  # noqa: SLF001
