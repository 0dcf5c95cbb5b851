"""Checks of luigid calls' arguments: JSON values into the types the layer uses.

Each check names the method and the argument, so a bad call answers 400 with a message
saying what was wrong and what was expected (never a 500 from deep inside).

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import math
from typing import Any

from nbflow.core.errors import NbflowError

#: Characters of a bad argument quoted in an error.
_SHOWN = 80


class RpcArgumentError(NbflowError, ValueError):
    """A luigid call came with an argument of the wrong kind (the RPC answers 400)."""

    def __init__(self, method: str, argument: str, got: object, expected: str) -> None:
        super().__init__(method, argument, got, expected)
        self.method, self.argument, self.got, self.expected = (
            method,
            argument,
            got,
            expected,
        )

    def __str__(self) -> str:
        got = repr(self.got)
        got = got if len(got) <= _SHOWN else got[: _SHOWN - 3] + "..."
        return (
            f"luigid call {self.method}: bad argument {self.argument!r} (got {got}). "
            f"Expected {self.expected}. Fix: send it as Luigi's RemoteScheduler does."
        )


def text(method: str, name: str, value: object, *, optional: bool = False) -> str:
    """Return ``value`` as a string (numbers are accepted and written out)."""
    if value is None and optional:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise RpcArgumentError(method, name, value, "a string")


def texts(method: str, name: str, value: object) -> tuple[str, ...]:
    """Return a list of strings (None: empty)."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise RpcArgumentError(method, name, value, "a list of strings")
    return tuple(text(method, name, item) for item in value)


def number(method: str, name: str, value: object, default: float = 0.0) -> float:
    """Return a finite number (None: ``default``)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RpcArgumentError(method, name, value, "a number")
    if not math.isfinite(value):
        raise RpcArgumentError(method, name, value, "a finite number")
    return float(value)


def mapping(method: str, name: str, value: object) -> dict[str, Any]:
    """Return a JSON object (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RpcArgumentError(method, name, value, "an object")
    return value


def amounts(method: str, name: str, value: object) -> dict[str, int]:
    """Return resource amounts: an object of whole numbers."""
    found = {}
    for key, amount in mapping(method, name, value).items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise RpcArgumentError(method, name, value, "an object of whole numbers")
        if not math.isfinite(amount) or amount != int(amount):
            raise RpcArgumentError(method, name, value, "an object of whole numbers")
        found[key] = int(amount)
    return found


def strings(method: str, name: str, value: object) -> dict[str, str]:
    """Return an object of strings (None: empty)."""
    return {
        key: text(method, name, item)
        for key, item in mapping(method, name, value).items()
    }


__all__ = [
    "RpcArgumentError",
    "amounts",
    "mapping",
    "number",
    "strings",
    "text",
    "texts",
]
