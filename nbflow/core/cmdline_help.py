"""The help text of a Luigi-form command line (``luigi.run(["Task", "--help"])``).

``--help`` lists the main run options, and with a task named, the task's own
``--param`` options and their ``--Family-param`` spelling. ``--help-all`` lists every
option the command line understands: every registered task's ``--Family-param``,
sectionless Config options and the ``--section-key`` options of nbflow's own config
sections. The ``nbflow run`` command has its own help (nbflow.cli.run).

Imports: stdlib, nbflow.core.{cmdline, config_keys, registry, task}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core import cmdline
from nbflow.core.config_keys import KNOWN_KEYS
from nbflow.core.errors import NbflowError
from nbflow.core.registry import REGISTRY

if TYPE_CHECKING:
    from nbflow.core.task import Task

__all__ = ["luigi_help"]

#: Run options listed by plain ``--help`` (``--help-all`` lists them all).
_MAIN_OPTIONS = {
    "module": "import MODULE (a dotted name or a .py file) first",
    "workers": "how many tasks run at once",
    "local_scheduler": "use the embedded scheduler (nbflow always does)",
    "no_lock": "run even if the same command is running",
    "log_level": "DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "help": "show this help and exit",
    "help_all": "show every option, of every task, and exit",
}


def luigi_help(invocation: cmdline.Invocation, prog: str | None = None) -> str:
    """Return the help for ``invocation`` (its task, and ``--help-all``)."""
    parser = argparse.ArgumentParser(
        prog=prog or Path(sys.argv[0] or "luigi").name,
        add_help=False,
        conflict_handler="resolve",
        usage="%(prog)s [--module MODULE] TASK [--PARAM VALUE ...] [options]",
    )
    parser.add_argument(
        "root_task", nargs="?", metavar="TASK", help="the task family to run"
    )
    help_all = bool(invocation.options.get("help_all"))
    _add_run_options(parser, help_all=help_all)
    if invocation.task_cls is not None:
        _add_task(parser, invocation.task_cls)
    if help_all:
        _add_every_task(parser)
        _add_config_keys(parser)
    return parser.format_help().rstrip("\n")


def _add_run_options(parser: argparse.ArgumentParser, *, help_all: bool) -> None:
    group = parser.add_argument_group("run options")
    names = (
        [*cmdline.VALUE_OPTIONS, *cmdline.FLAG_OPTIONS, *cmdline.LIST_OPTIONS]
        if help_all
        else list(_MAIN_OPTIONS)
    )
    for name in names:
        takes_value = name not in cmdline.FLAG_OPTIONS
        _add(group, _flag(name), _MAIN_OPTIONS.get(name, ""), takes_value=takes_value)


def _add_task(parser: argparse.ArgumentParser, task_cls: type[Task]) -> None:
    family = task_cls.get_task_family()
    group = parser.add_argument_group(f"parameters of {family}")
    for name, param in task_cls.get_params():
        text = _describe(param)
        _add(group, _flag(name), text, takes_value=not param.is_flag)
        _add(group, _flag(f"{family}_{name}"), text, takes_value=not param.is_flag)


def _add_every_task(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("parameters of every task (--Family-param)")
    for family in REGISTRY.families():
        try:
            task_cls = REGISTRY.lookup(family)
        except NbflowError:
            continue  # an ambiguous family
        without_section = not getattr(task_cls, "use_cmdline_section", True)
        for name, param in task_cls.get_params():
            flag = _flag(name if without_section else f"{family}_{name}")
            _add(group, flag, _describe(param), takes_value=not param.is_flag)


def _add_config_keys(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("nbflow's config sections (--section-key)")
    for section, keys in KNOWN_KEYS.items():
        for key in sorted(keys):
            _add(
                group, _flag(f"{section}_{key}"), f"[{section}] {key}", takes_value=True
            )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _describe(param: Any) -> str:
    description = str(getattr(param, "description", None) or "")
    if not param.has_default:
        return f"{description} (required)".strip()
    return description


def _add(group: Any, flag: str, text: str, *, takes_value: bool) -> None:
    escaped = text.replace("%", "%%")
    if takes_value:
        group.add_argument(
            flag, metavar=flag[2:].upper().replace("-", "_"), help=escaped
        )
    else:
        group.add_argument(flag, action="store_true", help=escaped)
