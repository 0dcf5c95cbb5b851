"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.mock``.

Holds ``MockTarget`` and ``MockFileSystem``, in-memory targets for tests. The code
lives in nbflow.core.mock; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.mock import MockFileSystem, MockTarget

__all__ = ["MockFileSystem", "MockTarget"]
