"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.lock``.

Holds Luigi's pid-file lock functions ``getpcmd``, ``get_info`` and ``acquire_for``.
The code lives in nbflow.core.pidfile (nbflow's own command lock is
nbflow.core.lock); nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.pidfile import acquire_for, get_info, getpcmd

__all__ = ["acquire_for", "get_info", "getpcmd"]
