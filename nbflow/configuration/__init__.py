"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.configuration``.

Holds ``get_config``, ``add_config_path``, the cfg and toml parsers (also at
``.cfg_parser`` and ``.toml_parser``) and ``overridden`` (nbflow's: these sections
current inside a ``with`` block). The code
lives in nbflow.core.configuration; nbflow's own modules import it from there, never
from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.configuration import (
    InterpolationMissingEnvvarError,
    LuigiConfigParser,
    LuigiTomlParser,
    add_config_path,
    get_config,
    overridden,
)

__all__ = [
    "InterpolationMissingEnvvarError",
    "LuigiConfigParser",
    "LuigiTomlParser",
    "add_config_path",
    "get_config",
    "overridden",
]
