"""Parsing Luigi-style task command lines: ``Task --param v --Family-param v``.

Shared by the ``nbflow`` CLI, ``nbflow.run(cmdline_args)`` and the kernel magics, so a
task is spelled the same way everywhere. Values stay strings here: each is parsed by its
parameter when the task is built (with the overrides active), so errors name the task
and parameter.

As in Luigi, the root task's own ``--param`` reaches the root task only
(:attr:`Invocation.params`; Luigi #1304), while ``--Family-param`` reaches every task
of that family (:attr:`Invocation.overrides`, read as ``[Family] param`` config
values). A Config class with ``use_cmdline_section = False`` takes bare ``--param``
options, and nbflow's own sections take ``--section-key`` (``--retcode-task-failed``,
``--worker-task-limit``).

Imports: stdlib, nbflow.core.{config_keys, errors, registry, task}.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nbflow.core.config_keys import KNOWN_KEYS
from nbflow.core.errors import (
    DefinitionError,
    NbflowError,
    UnknownParameterError,
    UnknownTaskError,
)
from nbflow.core.registry import REGISTRY

if TYPE_CHECKING:
    from nbflow.core.task import Task

#: Options that take a value, with their defaults (strings, parsed by the caller).
VALUE_OPTIONS = {
    "module": None,
    "workers": None,
    "executor": None,
    "log_level": None,
    "scheduler_host": None,
    "scheduler_port": None,
    "scheduler_url": None,
    "lock_pid_dir": None,
    "lock_size": None,
    "logging_conf_file": None,
    "parallel_scheduling_processes": None,
    "completeness": None,
}
#: Options that are switches.
FLAG_OPTIONS = (
    "local_scheduler",
    "help",
    "keep_alive",
    "parallel_scheduling",
    "no_lock",
    "take_lock",
    "help_all",
    "detailed_summary",
    "assistant",
    "dry_run",
)
#: Options that may be given several times; their values are collected in a list.
LIST_OPTIONS = ("force", "accept")


class UsageError(DefinitionError):
    """The command line could not be understood."""

    def __init__(self, problem: str, got: str, hint: str) -> None:
        super().__init__(problem, got, hint)
        self.problem, self.got, self.hint = problem, got, hint

    def __str__(self) -> str:
        return f"command line: {self.problem} (got {self.got!r}). Fix: {self.hint}."


@dataclass
class Invocation:
    """A parsed command line: which task, its parameters, and the run options."""

    task_name: str | None = None
    #: the class found for task_name (the --module's own class when names clash)
    task_cls: type[Task] | None = None
    #: the root task's own ``--param`` values: they reach the root task only.
    params: dict[str, str] = field(default_factory=dict)
    #: family (or config section) -> {parameter: text}, from ``--Family-param``,
    #: a sectionless Config's bare ``--param`` and ``--section-key`` (``[retcode]``,
    #: ``[worker]``, ...): they reach every task and setting of that name.
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def wants_help(self) -> bool:
        """Whether ``--help`` (or ``--help-all``) was given."""
        return bool(self.options.get("help") or self.options.get("help_all"))


def parse(argv: list[str], *, main_task_cls: type[Task] | None = None) -> Invocation:
    """Parse ``argv`` into an :class:`Invocation`, importing ``--module`` on the way.

    Options may come before or after the task name, as in Luigi: run options,
    ``--Family-param`` for any task family, a sectionless Config's bare ``--param``
    and ``--section-key`` for nbflow's own config sections. The root task's own
    ``--param`` comes after its name. Any option may be shortened to a prefix that
    names one option only (as argparse allows).

    Raises
    ------
    UsageError
        An option is malformed or ambiguous, or no task was named.
    UnknownTaskError, UnknownParameterError
        The task, or one of its parameters, does not exist.
    """
    module = _module_option(argv)
    if module:
        import_module(module)
    invocation = Invocation()
    if main_task_cls is not None:
        invocation.task_name = main_task_cls.get_task_family()
        invocation.task_cls = main_task_cls
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg.startswith("--") and len(arg) > 2:  # noqa: PLR2004  (a bare "--")
            _take(arg, args, invocation)
        elif invocation.task_cls is None:
            _name_task(arg, module, invocation)
        else:
            raise UsageError(
                "unexpected argument",
                arg,
                "give parameters as --name VALUE; run with --help to list them",
            )
    if invocation.task_cls is None and not invocation.wants_help:
        raise UsageError(
            "No task specified: no task named among the arguments",  # Luigi's words
            " ".join(argv),
            "name the task to run, e.g. `nbflow run --module m Task`",
        )
    return invocation


def _module_option(argv: list[str]) -> str | None:
    """Return the ``--module`` value, found before anything else is understood."""
    for index, arg in enumerate(argv):
        if arg == "--module" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--module="):
            return arg.partition("=")[2]
    return None


def _name_task(word: str, module: str | None, invocation: Invocation) -> None:
    name = word
    if ":" in name:
        module, name = name.split(":", 1)
        import_module(module)
    invocation.task_cls = _lookup(name, module)
    invocation.task_name = name


def _lookup(name: str, module: str | None) -> type[Task]:
    """Find ``name``, preferring the class the named module defines."""
    if module:
        qualified = f"{Path(module).stem if module.endswith('.py') else module}.{name}"
        for cls in REGISTRY.classes():
            if f"{cls.__module__}.{cls.__qualname__}" == qualified:
                return cls
    if name in _BUILT_IN_TASKS and name not in REGISTRY.families():
        tools = importlib.import_module(_BUILT_IN_TASKS[name])
        REGISTRY.register(getattr(tools, name))  # again, if the registry was cleared
    cls = REGISTRY.lookup(name)
    if not _visible(cls):
        raise UnknownTaskError(name, tuple(_visible_families()))
    return cls


#: Task families nbflow defines, by module: imported when a command line names them
#: (as ``import luigi`` imports luigi.tools.range), so ``import nbflow`` stays light.
_BUILT_IN_TASKS = dict.fromkeys(
    (
        "RangeByMinutes",
        "RangeByMinutesBase",
        "RangeDaily",
        "RangeDailyBase",
        "RangeHourly",
        "RangeHourlyBase",
        "RangeMonthly",
    ),
    "nbflow.core.range_cadence",
)


def _visible(cls: type[Task]) -> bool:
    """Return whether the command line may name ``cls`` (Luigi's ``_visible_in_registry``)."""
    return bool(getattr(cls, "_visible_in_registry", True))


def _visible_families() -> list[str]:
    return [family for family, _ in _task_classes()]


def import_module(name: str) -> None:
    """Import ``name`` (a module, or a ``.py`` file path), adding the cwd to sys.path."""
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    if name.endswith(".py"):
        _import_file(Path(name))
        return
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise UsageError(
                f"cannot import module {name!r}",
                name,
                "check the module name and that its folder is on "
                "PYTHONPATH (or run from the folder that contains it)",
            ) from exc
        raise


def _import_file(path: Path) -> None:
    if not path.is_file():
        raise UsageError(
            "no such Python file",
            str(path),
            "give the path of an existing .py file, or a module name",
        )
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:  # pragma: no cover - .py files always load
        raise UsageError("cannot load Python file", str(path), "check the file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)


#: Words a switch parameter (BoolParameter) takes as its value: ``--flag false``.
_SWITCH_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


@dataclass(frozen=True)
class _Flag:
    """What one command-line option names."""

    kind: Literal["run", "local", "global"]
    #: the run option's or the parameter's (or config key's) name, with underscores
    name: str
    #: the family (or config section) a global option sets
    family: str = ""
    #: whether the option is a switch (given alone means true)
    is_switch: bool = False


def _canonical(text: str) -> str:
    return text.replace("_", "-")


def _take(arg: str, args: list[str], invocation: Invocation) -> None:
    """Record option ``arg`` in ``invocation``, consuming its value from ``args``."""
    body, sep, value = arg[2:].partition("=")
    flag = _resolve(body, invocation.task_cls)
    given = value if sep else None
    if flag.kind == "run":
        _take_run_option(flag.name, given, arg, args, invocation)
        return
    if given is None:
        given = _value_after(flag, arg, args)
    if flag.kind == "local":
        invocation.params[flag.name] = given
    else:
        invocation.overrides.setdefault(flag.family, {})[flag.name] = given


def _value_after(flag: _Flag, arg: str, args: list[str]) -> str:
    if flag.is_switch:
        if args and args[0].lower() in _SWITCH_WORDS:
            return args.pop(0)
        return "true"
    if not args:
        raise UsageError(f"{arg} needs a value", arg, f"write {arg} VALUE")
    return args.pop(0)


def _take_run_option(
    name: str, value: str | None, arg: str, args: list[str], invocation: Invocation
) -> None:
    if name in FLAG_OPTIONS:
        invocation.options[name] = value is None or value.lower() in (
            "1",
            "true",
            "yes",
        )
        return
    if value is None:
        if not args:
            flag = f"--{_canonical(name)}"
            raise UsageError(f"{flag} needs a value", arg, f"write {flag} VALUE")
        value = args.pop(0)
    if name in LIST_OPTIONS:
        invocation.options.setdefault(name, []).append(value)
    else:
        invocation.options[name] = value


def takes_value(arg: str) -> bool:
    """Return whether option ``arg`` takes the next word as its value (before parsing).

    For scans that look for the task's name before the task's class is known: run
    options with a value, and ``--section-key`` config keys, take one; a switch, a
    ``--name=value`` word and the task's own parameters (unknown yet) do not.

    Examples
    --------
    >>> [takes_value(a) for a in ("--workers", "--dask-scheduler-address", "--no-lock")]
    [True, True, False]
    """
    body, sep, _value = arg[2:].partition("=")
    if sep or not arg.startswith("--"):
        return False
    key = _canonical(body)
    return (
        key.replace("-", "_") in (*VALUE_OPTIONS, *LIST_OPTIONS)
        or _exact_config_key(key) is not None
    )


def _resolve(body: str, root: type[Task] | None) -> _Flag:
    """Return what ``--body`` names: exactly, else as the only option it begins."""
    key = _canonical(body)
    flag = _exact(key, root)
    if flag is not None:
        return flag
    matches = sorted(name for name in _all_flags(root) if name.startswith(key))
    if len(matches) == 1:
        found = _exact(matches[0], root)
        assert found is not None  # noqa: S101  (every listed flag resolves)
        return found
    if matches:
        shown = ", ".join(f"--{name}" for name in matches[:6])
        raise UsageError(
            "ambiguous option", f"--{body}", f"write one of {shown} in full"
        )
    raise _unknown(body, key, root)


def _exact(key: str, root: type[Task] | None) -> _Flag | None:
    if root is not None:
        for name, param in root.get_params():
            if _canonical(name) == key:
                return _Flag("local", name, is_switch=param.is_flag)
    run_name = key.replace("-", "_")
    if run_name in (*VALUE_OPTIONS, *FLAG_OPTIONS, *LIST_OPTIONS):
        return _Flag("run", run_name)
    return _exact_global(key) or _exact_config_key(key)


def _exact_global(key: str) -> _Flag | None:
    """``--Family-param``, or a sectionless Config's ``--param``."""
    for family, cls in _task_classes():
        without_section = not getattr(cls, "use_cmdline_section", True)
        prefix = "" if without_section else _canonical(family) + "-"
        if not key.startswith(prefix):
            continue
        for name, param in cls.get_params():
            if _canonical(name) == key[len(prefix) :]:
                return _Flag("global", name, family, is_switch=param.is_flag)
    return None


def _exact_config_key(key: str) -> _Flag | None:
    """``--section-key`` for nbflow's own sections: ``--retcode-task-failed 3``."""
    for section, keys in KNOWN_KEYS.items():
        if key.startswith(section + "-"):
            option = key[len(section) + 1 :].replace("-", "_")
            if option in keys:
                return _Flag("global", option, section)
    return None


def _task_classes() -> list[tuple[str, type[Task]]]:
    """Return (family, class) for every family that names one class, longest first."""
    found = []
    for family in sorted(REGISTRY.families(), key=len, reverse=True):
        try:
            cls = REGISTRY.lookup(family)
        except NbflowError:
            continue  # an ambiguous family has no options of its own
        if _visible(cls):
            found.append((family, cls))
    return found


def _all_flags(root: type[Task] | None) -> list[str]:
    """Return every option name (without ``--``) the command line understands."""
    names = [
        _canonical(name) for name in (*VALUE_OPTIONS, *FLAG_OPTIONS, *LIST_OPTIONS)
    ]
    if root is not None:
        names += [_canonical(name) for name, _ in root.get_params()]
    for family, cls in _task_classes():
        without_section = not getattr(cls, "use_cmdline_section", True)
        prefix = "" if without_section else _canonical(family) + "-"
        names += [prefix + _canonical(name) for name, _ in cls.get_params()]
    for section, keys in KNOWN_KEYS.items():
        names += [f"{section}-{_canonical(key)}" for key in keys]
    return names


def _unknown(body: str, key: str, root: type[Task] | None) -> NbflowError:
    for family, cls in _task_classes():
        if key.startswith(_canonical(family) + "-"):
            name = key[len(family) + 1 :].replace("-", "_")
            return UnknownParameterError(family, name, tuple(dict(cls.get_params())))
    if root is not None:
        own = tuple(dict(root.get_params()))
        return UnknownParameterError(
            root.get_task_family(), body.replace("-", "_"), own
        )
    return UsageError(
        "unknown option before the task name",
        f"--{body}",
        "put the task's own parameters after its name, or write --Family-param",
    )


def describe_params(task_cls: type[Task], prog: str = "nbflow run") -> str:
    """Return help text listing a task's parameters with their descriptions."""
    family = task_cls.get_task_family()
    lines = [f"usage: {prog} {family} [--PARAM VALUE ...]", ""]
    doc = (task_cls.__doc__ or "").strip().splitlines()
    if doc:
        lines += [doc[0], ""]
    lines.append(f"parameters of {family}:")
    for name, param in task_cls.get_params():
        flag = "--" + name.replace("_", "-")
        default = (
            f" (default: {param.serialize(param.default)})"
            if param.has_default
            else " (required)"
        )
        kind = type(param).__name__
        description = param.description or ""
        lines.append(f"  {flag:<28} {kind}{default}")
        if description:
            lines.append(f"  {'':<28} {description}")
    if not task_cls.get_params():
        lines.append("  (none)")
    return "\n".join(lines)
