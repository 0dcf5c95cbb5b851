"""Luigi's ``luigi.format`` module: file formats for targets."""

from __future__ import annotations

from nbflow.core.format import *  # noqa: F403
from nbflow.core.format import __all__  # noqa: F401
