"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.util``.

Holds the task decorators (``inherits``, ``requires``, ``copies``, ``delegates``,
``common_params``) and ``previous`` / ``get_previous_completed``. The code lives in
nbflow.core.decorators and nbflow.core.previous; nbflow's own modules import it from
there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.decorators import (
    common_params,
    copies,
    delegates,
    inherits,
    requires,
)
from nbflow.core.previous import get_previous_completed, previous

__all__ = [
    "common_params",
    "copies",
    "delegates",
    "get_previous_completed",
    "inherits",
    "previous",
    "requires",
]
