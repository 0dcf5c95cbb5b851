"""Luigi's ``luigi.execution_summary`` names for the result of a build."""

from __future__ import annotations

from nbflow.core.summary import RunResult, RunStatus, summarize

#: Luigi's name for :class:`~nbflow.core.summary.RunStatus`.
LuigiStatusCode = RunStatus
#: Luigi's name for :class:`~nbflow.core.summary.RunResult`.
LuigiRunResult = RunResult

__all__ = ["LuigiRunResult", "LuigiStatusCode", "RunResult", "RunStatus", "summarize"]
