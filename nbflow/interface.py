"""Luigi's ``luigi.interface`` module: ``build`` and ``run``."""

from __future__ import annotations

from nbflow.core.interface import build, run

__all__ = ["build", "run"]
