"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.parameter``.

Holds parameter types, and Luigi's names for their errors and warnings. The code lives
in nbflow.core.parameter and nbflow.core.errors; nbflow's own modules import it from
there, never from here (tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

# Luigi's names for nbflow's parameter errors and warnings.
from nbflow.core.errors import DuplicateParameterError as DuplicateParameterException
from nbflow.core.errors import MissingParameterError as MissingParameterException
from nbflow.core.errors import OptionalParameterTypeWarning, UnconsumedParameterWarning
from nbflow.core.errors import ParameterError as ParameterException
from nbflow.core.errors import UnknownParameterError as UnknownParameterException
from nbflow.core.parameter import *  # noqa: F403
from nbflow.core.parameter import NO_VALUE as _no_value  # noqa: F401, N811  (Luigi)
from nbflow.core.parameter import __all__ as _names

__all__ = [  # noqa: PLE0604
    *_names,
    "DuplicateParameterException",
    "MissingParameterException",
    "OptionalParameterTypeWarning",
    "ParameterException",
    "UnconsumedParameterWarning",
    "UnknownParameterException",
]
