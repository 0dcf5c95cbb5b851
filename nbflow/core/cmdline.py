"""Parsing Luigi-style task command lines: ``Task --param v --Family-param v``.

Shared by the ``nbflow`` CLI, ``nbflow.run(cmdline_args)`` and the kernel magics, so a
task is spelled the same way everywhere. Values stay strings here: each is parsed by its
parameter when the task is built (with the overrides active), so errors name the task
and parameter.

Imports: stdlib, nbflow.core.{errors, registry, task}.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.errors import DefinitionError, UnknownParameterError
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
    #: family -> {parameter: text}; the root task's own parameters are under its family.
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def wants_help(self) -> bool:
        """Whether ``--help`` was given."""
        return bool(self.options.get("help") or self.options.get("help_all"))


def parse(argv: list[str], *, main_task_cls: type[Task] | None = None) -> Invocation:
    """Parse ``argv`` into an :class:`Invocation`, importing ``--module`` on the way.

    Raises
    ------
    UsageError
        An option is malformed, or no task was named.
    UnknownTaskError, UnknownParameterError
        The task, or one of its parameters, does not exist.
    """
    invocation, rest = _split_options(argv)
    module = invocation.options.get("module")
    if module:
        import_module(module)
    if main_task_cls is not None:
        invocation.task_name = main_task_cls.get_task_family()
        invocation.task_cls = main_task_cls
        task_cls = main_task_cls
    else:
        if not rest or rest[0].startswith("-"):
            if invocation.wants_help:
                return invocation
            raise UsageError(
                "no task named",
                " ".join(argv),
                "name the task to run, e.g. `nbflow run --module m Task`",
            )
        name = rest.pop(0)
        if ":" in name:
            module, name = name.split(":", 1)
            import_module(module)
        task_cls = _lookup(name, module)
        invocation.task_name = name
        invocation.task_cls = task_cls
    _parse_params(task_cls, rest, invocation)
    return invocation


def _lookup(name: str, module: str | None) -> type[Task]:
    """Find ``name``, preferring the class the named module defines."""
    if module:
        qualified = f"{Path(module).stem if module.endswith('.py') else module}.{name}"
        for cls in REGISTRY.classes():
            if f"{cls.__module__}.{cls.__qualname__}" == qualified:
                return cls
    return REGISTRY.lookup(name)


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


def _split_options(argv: list[str]) -> tuple[Invocation, list[str]]:
    """Take run options up to the task name; everything after it is the task's."""
    invocation = Invocation()
    rest: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if not arg.startswith("--"):
            rest.append(arg)
            rest.extend(args)
            break
        if not _take_option(arg, args, invocation):
            rest.append(arg)
    return invocation, rest


def _take_option(arg: str, args: list[str], invocation: Invocation) -> bool:
    """Record ``arg`` if it is a run option (consuming its value); else return False."""
    name, value = _option(arg)
    if name in VALUE_OPTIONS or name in LIST_OPTIONS:
        if value is None:
            if not args:
                flag = f"--{name.replace('_', '-')}"
                raise UsageError(f"{flag} needs a value", arg, f"write {flag} VALUE")
            value = args.pop(0)
        if name in LIST_OPTIONS:
            invocation.options.setdefault(name, []).append(value)
        else:
            invocation.options[name] = value
        return True
    if name in FLAG_OPTIONS:
        invocation.options[name] = value is None or value.lower() in (
            "1",
            "true",
            "yes",
        )
        return True
    return False


def _option(arg: str) -> tuple[str | None, str | None]:
    if not arg.startswith("--"):
        return None, None
    body = arg[2:]
    name, sep, value = body.partition("=")
    return name.replace("-", "_"), (value if sep else None)


def _parse_params(
    task_cls: type[Task], args: list[str], invocation: Invocation
) -> None:
    family = task_cls.get_task_family()
    own = dict(task_cls.get_params())
    while args:
        arg = args.pop(0)
        if not arg.startswith("--"):
            raise UsageError(
                "unexpected argument",
                arg,
                "give parameters as --name VALUE; run with --help to list them",
            )
        body, sep, value = arg[2:].partition("=")
        try:
            owner, name = _owner(body, family, own)
        except UnknownParameterError:
            if _take_option(arg, args, invocation):
                continue  # a run option given after the task name
            raise
        param = (
            dict(REGISTRY.lookup(owner).get_params())[name]
            if owner != family
            else own[name]
        )
        if not sep:
            if args and not (args[0].startswith("--") and param.is_flag):
                value = args.pop(0)
            elif param.is_flag:
                value = "true"
            else:
                raise UsageError(
                    f"--{body} needs a value", arg, f"write --{body} VALUE"
                )
        invocation.overrides.setdefault(owner, {})[name] = value


def _owner(body: str, family: str, own: dict[str, Any]) -> tuple[str, str]:
    """Return (family, parameter) for ``--param`` or ``--Family-param``."""
    name = body.replace("-", "_")
    if name in own:
        return family, name
    for other in sorted(REGISTRY.families(), key=len, reverse=True):
        if body.startswith((other + "-", other + "_")):
            param_name = body[len(other) + 1 :].replace("-", "_")
            params = dict(REGISTRY.lookup(other).get_params())
            if param_name in params:
                return other, param_name
            raise UnknownParameterError(other, param_name, tuple(params))
    raise UnknownParameterError(family, name, tuple(own))


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
