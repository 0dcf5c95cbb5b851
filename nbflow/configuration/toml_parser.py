"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.configuration.toml_parser``.

The code lives in nbflow.core.configuration.
"""

from __future__ import annotations

from nbflow.core.configuration import LuigiTomlParser

__all__ = ["LuigiTomlParser"]
