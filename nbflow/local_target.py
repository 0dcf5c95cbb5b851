"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.local_target``.

Holds the local disk's file system and target. The code lives in nbflow.core.target;
nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.target import LocalFileSystem, LocalTarget

__all__ = ["LocalFileSystem", "LocalTarget"]
