"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.cmdline``.

Holds ``luigi_run`` (the ``luigi`` command as a function). The code lives in
nbflow.core.retcodes; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.retcodes import luigi_run

__all__ = ["luigi_run"]
