"""Small argument parsing shared by ``nbflow export`` and ``nbflow graph``.

Imports: nbflow.core.cmdline.
"""

from __future__ import annotations

from nbflow.core import cmdline


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
