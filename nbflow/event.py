"""Luigi's ``luigi.event`` module: the names of task events."""

from __future__ import annotations

from nbflow.core.task import Event

__all__ = ["Event"]
