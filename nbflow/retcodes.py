"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.retcodes``.

Holds ``run_with_retcodes``. The code lives in nbflow.core.retcodes (the codes
themselves are nbflow.core.config.RetCodes, ``[retcode]``); nbflow's own modules
import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.retcodes import run_with_retcodes

__all__ = ["run_with_retcodes"]
