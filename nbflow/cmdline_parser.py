"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.cmdline_parser``.

Holds ``CmdlineParser`` (``global_instance``, ``get_task_obj``; nbflow's ``fresh``).
The code lives in nbflow.core.cmdline_parser; nbflow's own modules import it from
there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.cmdline_parser import CmdlineParser

__all__ = ["CmdlineParser"]
