"""The one run-state model: what every view of a run knows, fed only by notifications.

Imports: stdlib, nbflow.core.events.
"""

from __future__ import annotations


def task_label(family: str, params: tuple[tuple[str, str], ...]) -> str:
    """Return ``Family(name=value, ...)``, the way the summary names tasks.

    Examples
    --------
    >>> task_label("Clean", (("day", "2024-01-31"), ("n", "3")))
    'Clean(day=2024-01-31, n=3)'
    """
    return f"{family}({', '.join(f'{name}={value}' for name, value in params)})"


def first_line(text: str) -> str:
    r"""Return the first non-empty line of ``text`` (``""`` if there is none).

    Examples
    --------
    >>> first_line("\nValueError: boom\nmore")
    'ValueError: boom'
    """
    return next((line for line in text.splitlines() if line.strip()), "")
