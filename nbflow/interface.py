"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.interface``.

Holds ``build`` and ``run``, ``core`` (Luigi's ``[core]`` options as a Config class)
and ``_WorkerSchedulerFactory``. The code lives in nbflow.core.interface; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.interface import _WorkerSchedulerFactory, build, core, run

__all__ = ["_WorkerSchedulerFactory", "build", "core", "run"]
