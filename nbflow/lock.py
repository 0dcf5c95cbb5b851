"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.lock``.

Holds Luigi's pid-file lock functions ``getpcmd``, ``get_info`` and ``acquire_for``.
The code lives in nbflow.core.pidfile (nbflow's own command lock is
nbflow.core.lock); nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).

Importing this module gives nbflow.core.pidfile itself (the last line puts it in
``sys.modules`` under this name): Luigi users' tests patch ``luigi.lock.getpcmd``,
and the patch must reach ``acquire_for``, which calls it.
"""

from __future__ import annotations

import sys

from nbflow.core import pidfile as _implementation
from nbflow.core.pidfile import acquire_for, get_info, getpcmd

__all__ = ["acquire_for", "get_info", "getpcmd"]

sys.modules[__name__] = _implementation
