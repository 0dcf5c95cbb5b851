"""Luigi's ``luigi.parameter`` module: parameter types and their errors."""

from __future__ import annotations

from nbflow.core.errors import (
    MissingParameterError,
    ParameterValueError,
    UnknownParameterError,
)
from nbflow.core.parameter import *  # noqa: F403
from nbflow.core.parameter import __all__ as _names

#: Luigi's names for nbflow's parameter errors.
MissingParameterException = MissingParameterError
UnknownParameterException = UnknownParameterError
ParameterException = ParameterValueError

__all__ = [  # noqa: PLE0604
    *_names,
    "MissingParameterException",
    "ParameterException",
    "UnknownParameterException",
]
