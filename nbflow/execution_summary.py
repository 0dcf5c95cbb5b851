"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.execution_summary``.

Holds the result of a build, under Luigi's names too. The code lives in
nbflow.core.summary; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.summary import RunResult, RunStatus, summarize

# Luigi's names for RunResult and RunStatus.
from nbflow.core.summary import RunResult as LuigiRunResult
from nbflow.core.summary import RunStatus as LuigiStatusCode

__all__ = ["LuigiRunResult", "LuigiStatusCode", "RunResult", "RunStatus", "summarize"]
