"""Schedules: what the server's trigger runs, when, and with which interval filled in.

A schedule is declared in config (``[schedule.NAME]``; in TOML ``[schedule.NAME]`` is a
table of the ``schedule`` section, read the same way) or added through the API. It
names a cron expression (croniter's syntax), a task family and the module defining
it, parameters, and the parameter (``date_param``, default ``date``) that receives the
interval each fire is for.

Which interval: Luigi's convention. A fire at cron time T is for the interval that
just *ended*, from the previous cron time P up to T: ``0 2 * * *`` fires on
2024-01-02 at 02:00 for ``date=2024-01-01``. The value is P written in the schedule's
timezone: its date when the interval lasts about a day or more (23 h: a DST day), else
``%Y-%m-%dT%H`` (Luigi's DateHourParameter) for intervals of an hour or more that
start on the hour, ``%Y-%m-%dT%H%M`` (DateMinuteParameter) for a minute or more
starting on the minute, else ``%Y-%m-%dT%H%M%S`` (``date_format`` sets a strftime
format instead).

This module is pure (croniter and zoneinfo, no I/O): parsing and checking definitions,
and the cron arithmetic. The store is :mod:`nbflow.server.schedule_store`, the clock
and processes :mod:`nbflow.server.trigger`.

Imports: stdlib, croniter, nbflow.core.{config, config_keys, errors}.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from nbflow.core import cmdline
from nbflow.core.config_keys import SCHEDULE_KEYS
from nbflow.core.errors import DefinitionError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.core.config import Settings

#: What a schedule does with the intervals that came due while it could not fire.
CATCH_UP = ("all", "latest", "none")
#: The config section prefix: ``[schedule.NAME]``.
SECTION = "schedule"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
#: An interval at least this long is named by its first day.
_DAY_LIKE = timedelta(hours=23)


class ScheduleError(DefinitionError, ValueError):
    """A schedule's definition cannot be used; the message names the schedule and fix."""

    def __init__(
        self, where: str, key: str, got: object, expected: str, fix: str
    ) -> None:
        super().__init__(where, key, got, expected, fix)
        self.where, self.key, self.got = where, key, got
        self.expected, self.fix = expected, fix

    def __str__(self) -> str:
        key = f" {self.key}" if self.key else ""
        return (
            f"{self.where}{key}: invalid value (got {self.got!r}). Expected "
            f"{self.expected}. Fix: {self.fix}"
            + ("" if self.fix.endswith("?") else ".")
        )


@dataclass(frozen=True)
class Schedule:
    """One schedule: when to fire, and the ``nbflow run`` each fire launches."""

    name: str
    cron: str
    #: The task family to run.
    task: str
    #: The module defining it (imported by the run: ``--module``); "" for none.
    module: str = ""
    #: Parameters besides the interval's, as (name, value) pairs in order.
    params: tuple[tuple[str, str], ...] = ()
    #: The parameter receiving the interval; "" to pass none.
    date_param: str = "date"
    #: "auto" (see the module docstring) or a strftime format.
    date_format: str = "auto"
    catch_up: str = "all"
    paused: bool = False
    timezone: str = "UTC"
    #: ``nbflow run --workers``.
    workers: int = 1
    #: ``nbflow run --executor``; "" for the run's default.
    executor: str = ""
    #: Fires of this schedule running at once; a due fire waits for a free place.
    max_running: int = 1
    #: Where the run starts ("" for the server's working directory). Config only.
    cwd: str = ""
    #: Where the definition came from: "config" or "api".
    source: str = field(default="config", compare=False)

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's timezone."""
        return ZoneInfo(self.timezone)

    def to_json(self) -> dict[str, Any]:
        """Return the definition as a JSON object (``params`` as an object)."""
        value = {f.name: getattr(self, f.name) for f in fields(self)}
        value["params"] = dict(self.params)
        return value

    # --- the cron arithmetic (fire times are seconds since the epoch) ----------------

    def next_fire(self, after: float) -> float:
        """Return the first cron time strictly after ``after``."""
        start = datetime.fromtimestamp(after, self.zone)
        return float(croniter(self.cron, start).get_next(float))

    def latest_fire(self, until: float) -> float:
        """Return the last cron time at or before ``until``."""
        # cron times are whole seconds: the last before floor(until) + 1 is <= until
        start = datetime.fromtimestamp(math.floor(until) + 1, self.zone)
        return float(croniter(self.cron, start).get_prev(float))

    def interval_value(self, fire_time: float) -> str:
        """Return the value of ``date_param`` for the fire at ``fire_time``."""
        end = datetime.fromtimestamp(fire_time, self.zone)
        begin = croniter(self.cron, end).get_prev(datetime)
        if self.date_format != "auto":
            return str(begin.strftime(self.date_format))
        return auto_format(begin, end)


def auto_format(begin: datetime, end: datetime) -> str:
    """Name the interval from ``begin`` to ``end`` by its start, as precisely as needed.

    Examples
    --------
    >>> from datetime import datetime as d
    >>> auto_format(d(2024, 1, 1, 2), d(2024, 1, 2, 2))
    '2024-01-01'
    >>> auto_format(d(2024, 1, 1, 13), d(2024, 1, 1, 14))
    '2024-01-01T13'
    >>> auto_format(d(2024, 1, 1, 13, 15), d(2024, 1, 1, 13, 30))
    '2024-01-01T1315'
    >>> auto_format(d(2024, 1, 1, 13), d(2024, 1, 1, 13, 15))
    '2024-01-01T1300'
    """
    length = end - begin
    if length >= _DAY_LIKE:
        return begin.date().isoformat()
    if length >= timedelta(hours=1) and begin.minute == begin.second == 0:
        return begin.strftime("%Y-%m-%dT%H")
    if length >= timedelta(minutes=1) and begin.second == 0:
        return begin.strftime("%Y-%m-%dT%H%M")
    return begin.strftime("%Y-%m-%dT%H%M%S")


# --- parsing -------------------------------------------------------------------------


def from_settings(settings: Settings) -> list[Schedule]:
    """Return the schedules the config declares, sorted by name.

    INI files name sections ``[schedule.NAME]``; TOML files give a ``schedule`` table
    whose sub-tables are schedules (each value arrives as JSON text).

    Raises
    ------
    ScheduleError
        A definition is invalid; the message names the schedule, the key and the fix.
    """
    found: dict[str, Schedule] = {}
    for section, options in settings.sections.items():
        if section.startswith(f"{SECTION}."):
            name = section[len(SECTION) + 1 :]
            where = _where(
                name, settings.origins.get((section, next(iter(options), "")))
            )
            found[name] = parse(name, options, where)
    for key, text in settings.section(SECTION).items():
        # option names arrive with "-" folded to "_": a name written with "-" gets it back
        dashed = settings.spelled_with_dashes(SECTION, key)
        name = key.replace("_", "-") if dashed else key
        where = _where(name, settings.origins.get((SECTION, key)))
        found[name] = parse(name, _table(text, where), where)
    return [found[name] for name in sorted(found)]


def _where(name: str, origin: str | None) -> str:
    return f"[schedule.{name}]" + (f" in {origin}" if origin else "")


def _table(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ScheduleError(
            where,
            "",
            text,
            "a table of the schedule's keys (cron, task, ...)",
            "write the schedule as its own table: [schedule.NAME] then cron = ...",
        )
    return value


def parse(
    name: str, options: Mapping[str, Any], where: str, *, source: str = "config"
) -> Schedule:
    """Check one definition (config options or an API body) and return its schedule.

    ``options`` values may be strings (config files) or JSON values (the API, TOML
    tables). Parameters come as ``params`` (a JSON object) and ``param.NAME`` keys.

    Raises
    ------
    ScheduleError
        Anything invalid, named with ``where`` and the key.
    """
    _check_name(name, where)
    values = {key.replace("-", "_"): value for key, value in options.items()}
    nested = values.get("param")
    if isinstance(nested, dict):  # TOML's param.NAME = value is a table
        del values["param"]
        values.update({f"param.{key}": value for key, value in nested.items()})
    _check_keys(values, where)
    for required in ("cron", "task"):
        if not _text(values.get(required, "")):
            raise ScheduleError(
                where,
                required,
                values.get(required),
                f"the schedule's {required}",
                f"add {required} = ... to the schedule"
                + (' (e.g. cron = "0 2 * * *")' if required == "cron" else ""),
            )
    schedule = Schedule(
        name=name,
        cron=_cron(_text(values["cron"]), where),
        task=_matching(values, "task", _DOTTED, where, "a task family such as Report"),
        module=_matching(values, "module", _DOTTED, where, "a module such as pkg.jobs"),
        params=_params(values, where),
        date_param=_date_param(values, where),
        date_format=_date_format(values, where),
        catch_up=_choice(values, "catch_up", CATCH_UP, where),
        paused=_boolean(values, "paused", where),
        timezone=_timezone(values, where),
        workers=_count(values, "workers", where),
        executor=_matching(values, "executor", _IDENTIFIER, where, "an executor name"),
        max_running=_count(values, "max_running", where),
        cwd=_text(values.get("cwd", "")),
        source=source,
    )
    if schedule.cwd and source != "config":
        raise ScheduleError(
            where,
            "cwd",
            schedule.cwd,
            "no cwd in a schedule added through the API",
            "declare the schedule in the server's config to choose its directory",
        )
    return schedule


def _text(value: object) -> str:
    return (
        value.strip() if isinstance(value, str) else "" if value is None else str(value)
    )


def _check_name(name: object, where: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ScheduleError(
            where,
            "name",
            name,
            "1 to 100 letters, digits, '_', '-' or '.', starting "
            "with a letter or digit",
            "rename the schedule",
        )


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    for key in values:
        if key in SCHEDULE_KEYS or (key.startswith("param.") and len(key) > 6):  # noqa: PLR2004
            continue
        hint = did_you_mean(key, sorted(SCHEDULE_KEYS))
        raise ScheduleError(
            where,
            key,
            values[key],
            "one of " + ", ".join(sorted(SCHEDULE_KEYS)) + " or param.NAME",
            "remove or rename the key." + hint,
        )


def _cron(text: str, where: str) -> str:
    try:
        croniter(text)
    except (CroniterError, ValueError, KeyError) as error:
        raise ScheduleError(
            where,
            "cron",
            text,
            f"a cron expression ({error}): five fields 'minute hour day month weekday' "
            "such as '0 2 * * *' (02:00 every day), or @hourly, @daily, @weekly, "
            "@monthly",
            "correct the expression (check it at crontab.guru)",
        ) from None
    return text


def _matching(
    values: Mapping[str, Any], key: str, pattern: re.Pattern[str], where: str, what: str
) -> str:
    text = _text(values.get(key, ""))
    if text and not pattern.fullmatch(text):
        raise ScheduleError(where, key, text, what, f"correct {key}")
    return text


def _params(values: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    given = values.get("params", {})
    if isinstance(given, str):
        with contextlib.suppress(ValueError):  # refused below, with the expected form
            given = json.loads(given) if given.strip() else {}
    if not isinstance(given, dict):
        raise ScheduleError(
            where,
            "params",
            given,
            'a JSON object of names and values: {"region": "eu"}',
            "write params as an object, or one param.NAME = value per parameter",
        )
    merged = {**given}
    for key, value in values.items():
        if key.startswith("param."):
            merged[key[len("param.") :]] = value
    pairs = []
    for name, value in merged.items():
        if not _IDENTIFIER.fullmatch(str(name)):
            raise ScheduleError(where, "params", name, "parameter names", "rename it")
        _refuse_run_option(str(name), f"param.{name}", where)
        text = value if isinstance(value, str) else json.dumps(value)
        if "\x00" in text:
            raise ScheduleError(
                where, f"param.{name}", text, "text without NUL", "remove the NUL"
            )
        pairs.append((str(name).replace("-", "_"), text))
    return tuple(pairs)


def _date_param(values: Mapping[str, Any], where: str) -> str:
    if "date_param" not in values:
        return "date"
    name = _matching(
        values, "date_param", _IDENTIFIER, where, "a parameter name, or empty for none"
    )
    if name:
        _refuse_run_option(name, "date_param", where)
    return name


#: ``nbflow run``'s own options that no cmdline table lists (taken before parsing).
_CLI_ONLY_OPTIONS = ("scheduler_token", "no_progress", "dask_scheduler")


def _refuse_run_option(name: str, key: str, where: str) -> None:
    """Refuse a parameter that ``nbflow run`` would read as one of its own options.

    A fire passes its parameters as ``--NAME=value`` after the task. One the task
    lacks is then an option of the run, or of its config (``--section-key``), even by
    a prefix: ``scheduler_url`` would send the run, and the token, elsewhere.
    """
    flag = "--" + name.replace("_", "-")
    options = (
        *cmdline.VALUE_OPTIONS,
        *cmdline.FLAG_OPTIONS,
        *cmdline.LIST_OPTIONS,
        *_CLI_ONLY_OPTIONS,
    )
    spelled = ["--" + option.replace("_", "-") for option in options]
    if cmdline.takes_value(flag) or any(o.startswith(flag) for o in spelled):
        raise ScheduleError(
            where,
            key,
            name,
            "a parameter of the task, not one of nbflow run's own options "
            f"({flag} is, or begins, one)",
            "give the task's parameter another name; set run options with the "
            "schedule's own keys (workers, executor)",
        )


def _date_format(values: Mapping[str, Any], where: str) -> str:
    text = _text(values.get("date_format", "")) or "auto"
    if text != "auto" and "%" not in text:
        raise ScheduleError(
            where,
            "date_format",
            text,
            "auto, or a strftime format such as %Y-%m-%d",
            "write a format with % fields, or leave date_format out",
        )
    return text


def _choice(
    values: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str
) -> str:
    text = _text(values.get(key, choices[0])).lower()
    if text not in choices:
        raise ScheduleError(
            where,
            key,
            text,
            "one of " + ", ".join(choices),
            f"set {key} to one of them",
        )
    return text


def _boolean(values: Mapping[str, Any], key: str, where: str) -> bool:
    value = values.get(key, False)
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ScheduleError(
        where, key, value, "true or false", f"set {key} = true or false"
    )


def _count(values: Mapping[str, Any], key: str, where: str) -> int:
    value = values.get(key, 1)
    text = _text(value)
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ScheduleError(
            where, key, value, "a whole number of at least 1", f"set {key} = 1 or more"
        )
    return int(text)


def _timezone(values: Mapping[str, Any], where: str) -> str:
    text = _text(values.get("timezone", "")) or "UTC"
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            where,
            "timezone",
            text,
            "an IANA timezone such as UTC or Europe/Paris",
            "correct the timezone's name",
        ) from None
    return text


__all__ = [
    "CATCH_UP",
    "SECTION",
    "Schedule",
    "ScheduleError",
    "auto_format",
    "from_settings",
    "parse",
]
