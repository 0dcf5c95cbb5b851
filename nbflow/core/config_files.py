"""Read one configuration file (INI, TOML or pyproject.toml) into string sections.

Every value becomes a string, so a value reads the same whichever format it came
from: booleans ``true``/``false``, numbers ``str()``, dates ISO 8601, lists and
tables JSON. ``${NAME}`` and ``${NAME:-default}`` are replaced by environment
variables (``$${`` writes a literal ``${``); INI files also get configparser's
``%(other)s`` interpolation, as in Luigi. :mod:`nbflow.core.config` builds
:class:`~nbflow.core.config.Settings` from these.

Imports: the standard library (``tomli`` before Python 3.11) and
nbflow.core.{config_keys, errors}.
"""

from __future__ import annotations

import configparser
import dataclasses
import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias

from nbflow.core.config_keys import warn_unknown_keys
from nbflow.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["Sections", "expand_env", "read_sections", "stringify_options"]

#: Section name -> option name -> value.
Sections: TypeAlias = dict[str, dict[str, str]]

_ENV_REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
_ENV_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_TOML_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")


def _option_key(option: str) -> str:
    return option.replace("-", "_")


def read_sections(path: Path, environ: Mapping[str, str]) -> Sections | None:
    """Read one file's sections, every value a string (None: no [tool.nbflow]).

    Raises
    ------
    ConfigError
        The file is unreadable or malformed, or names an unset variable.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read the file ({exc})") from exc
    source = _Source(str(path), text, environ)
    if path.name == "pyproject.toml":
        sections = source.read_pyproject()
        if sections is None:
            return None
    elif path.suffix == ".toml":
        sections = source.read_toml()
    else:
        sections = source.read_ini()
    warn_unknown_keys(sections, source.path, _ini_defaults(text))
    return sections


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

    def read_ini(self) -> Sections:
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

    def read_toml(self) -> Sections:
        return self._sections(self._parse_toml(), "the top level")

    def read_pyproject(self) -> Sections | None:
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

    def _sections(self, table: Mapping[str, object], where: str) -> Sections:
        sections: Sections = {}
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

        def missing(name: str | None, body: str) -> ConfigError:
            where = f"[{section}] {option}"
            if name is None:
                problem = f"{where}: malformed reference ${{{body}}}; use ${{NAME}}"
                return ConfigError(self.path, self.line_of("${" + body), problem)
            problem = (
                f"{where}: environment variable {name} is not set; set it, "
                f"or give a default as ${{{name}:-default}}"
            )
            return ConfigError(self.path, self.line_of("${" + name), problem)

        return expand_env(value, self.environ, missing)

    def line_of(self, needle: str) -> int | None:
        """Return the first line number containing ``needle``, if any."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if needle in line:
                return number
        return None


def expand_env(
    value: str,
    environ: Mapping[str, str],
    missing: Callable[[str | None, str], Exception],
) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` in ``value`` from ``environ``.

    ``$${`` writes a literal ``${``. A variable that is unset (or empty) takes the
    default; without one an unset variable raises ``missing(name, body)``, and a
    malformed reference ``missing(None, body)``.

    Examples
    --------
    >>> expand_env("${HOME:-/root}/x $${HOME}", {}, lambda name, body: KeyError(name))
    '/root/x ${HOME}'
    """

    def replace(match: re.Match[str]) -> str:
        escaped, body = match.groups()
        if escaped:
            return "${" + body + "}"
        parsed = _ENV_BODY.fullmatch(body)
        if parsed is None:
            raise missing(None, body)
        name, fallback = parsed.groups()
        found = environ.get(name)
        if found:
            return found
        if fallback is not None:
            return fallback
        if found is not None:
            return found
        raise missing(name, body)

    return _ENV_REFERENCE.sub(replace, value)


def stringify_options(options: Mapping[str, object]) -> dict[str, str]:
    """Return ``options`` with each value a string, as TOML values are converted."""
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
