"""Lazy, cached lookup of entry-point plugins (``nbflow.executors``, ``nbflow.listeners``).

Nothing is scanned at import: the entry points of a group are read the first time a
plugin of that group is asked for.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from nbflow.core.errors import PluginLoadError, PluginNotFoundError


@functools.cache
def _entry_points(group: str) -> dict[str, metadata.EntryPoint]:
    return {entry.name: entry for entry in metadata.entry_points(group=group)}


def load_plugin(group: str, name: str, builtin: tuple[str, ...], extra: str) -> Any:
    """Return the object an installed plugin registers as ``name`` in ``group``.

    Raises
    ------
    PluginNotFoundError
        Nothing is registered under ``name``; lists what is, and the extra to install.
    PluginLoadError
        The plugin is registered but importing it failed.
    """
    entries = _entry_points(group)
    entry = entries.get(name)
    if entry is None:
        raise PluginNotFoundError(
            group, name, tuple(builtin) + tuple(sorted(entries)), extra
        )
    try:
        return entry.load()
    except ImportError as exc:
        raise PluginLoadError(group, name, f"{type(exc).__name__}: {exc}") from exc
