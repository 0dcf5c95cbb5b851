"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.event``.

Holds the names of task handler events (``Event.SUCCESS``, ...). The code lives in
nbflow.core.task; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.task import Event

__all__ = ["Event"]
