"""Views of runs and graphs for Jupyter, with plain-text fallbacks.

- :class:`RunView` (``RunView(run)``): a live graph, progress bars and failures of a
  :class:`~nbflow.core.run.Run`; an ipywidget fed by the run's event stream.
- :class:`GraphView` (``GraphView(nodes, title)``): a static graph, same rendering.
- :class:`TextView` (``TextView(stream)``): concise text lines where no widget shows.

Nothing heavy is imported until a view is built: ``import nbflow.widgets`` loads neither
ipywidgets nor anywidget.

Imports: nbflow.widgets.{dag, text} lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbflow.widgets.dag import GraphView, RunView
    from nbflow.widgets.text import TextView

__all__ = ["GraphView", "RunView", "TextView"]

_HOMES = {
    "GraphView": "nbflow.widgets.dag",
    "RunView": "nbflow.widgets.dag",
    "TextView": "nbflow.widgets.text",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        message = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
