"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.format``.

Holds file formats for targets. The code lives in nbflow.core.format; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.format import *  # noqa: F403
from nbflow.core.format import __all__  # noqa: F401
