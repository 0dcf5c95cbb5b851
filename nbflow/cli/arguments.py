"""Small argument parsing shared by subcommands (export, graph, run, worker).

Imports: nbflow.core.cmdline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.core import cmdline

if TYPE_CHECKING:
    import argparse


def add_scheduler_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, url_help: str
) -> None:
    """Add the options that name a scheduler server and its token."""
    add = parser.add_argument
    add("--scheduler-url", metavar="URL", help=url_help)
    add(
        "--scheduler-token",
        metavar="TOKEN",
        help="the server's token (else from the url, NBFLOW_TOKEN, [scheduler] token)",
    )
    add("--scheduler-host", metavar="HOST", help="Luigi's form: http://HOST:PORT")
    add("--scheduler-port", metavar="PORT", help="Luigi's form (8082)")


#: The Dask executor's flag for its scheduler (``[dask] scheduler_address``).
DASK_SCHEDULER_FLAG = "--dask-scheduler"


def spell_dask_scheduler(argv: list[str]) -> list[str]:
    """Return ``argv`` with ``--dask-scheduler A`` written as the config key's flag.

    The command line sets ``[dask] scheduler_address`` with ``--dask-scheduler-address``
    (any ``--section-key``); ``--dask-scheduler`` is its short form.

    Examples
    --------
    >>> spell_dask_scheduler(["T", "--dask-scheduler=tcp://h:8786"])
    ['T', '--dask-scheduler-address=tcp://h:8786']
    """
    long = DASK_SCHEDULER_FLAG + "-address"
    return [
        long + arg[len(DASK_SCHEDULER_FLAG) :]
        if arg == DASK_SCHEDULER_FLAG or arg.startswith(DASK_SCHEDULER_FLAG + "=")
        else arg
        for arg in argv
    ]


def take_options(
    argv: list[str], names: dict[str, str], *, keep: bool = False
) -> tuple[dict[str, str], list[str]]:
    """Take ``names`` (flag -> key) with their values out of ``argv``.

    Returns the options and the other words (all of them when ``keep``, else only the
    positional ones; an unknown option is then a usage error).
    """
    options: dict[str, str] = {}
    rest: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        flag, sep, value = arg.partition("=")
        if flag in names:
            if not sep:
                if not args:
                    raise cmdline.UsageError(
                        f"{flag} needs a value", arg, f"write {flag} VALUE"
                    )
                value = args.pop(0)
            options[names[flag]] = value
        elif arg.startswith("-") and not keep:
            raise cmdline.UsageError(
                "unknown option", arg, f"use one of {', '.join(sorted(names))}"
            )
        else:
            rest.append(arg)
    return options, rest
