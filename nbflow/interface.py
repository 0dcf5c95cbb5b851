"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.interface``.

Holds ``build`` and ``run``. The code lives in nbflow.core.interface; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.interface import build, run

__all__ = ["build", "run"]
