"""Parameter types: how task arguments are parsed, normalized and serialized.

This is the public face of the parameter modules; import parameter types from here.
The names and text forms match Luigi's, so ``import nbflow as luigi`` pipelines and
their task ids carry over. :class:`Parameter` itself lives in
:mod:`nbflow.core.parameter_descriptor`; the stock types are grouped by kind in
:mod:`~nbflow.core.parameter_scalar`, :mod:`~nbflow.core.parameter_time` and
:mod:`~nbflow.core.parameter_json`.

Imports: nbflow.core.parameter_* (which use the standard library, nbflow.core.errors
and nbflow.core.date_interval).
"""

from __future__ import annotations

from nbflow.core.parameter_descriptor import (
    NO_VALUE,
    OptionalParameter,
    OptionalParameterMixin,
    OptionalStrParameter,
    Parameter,
    ParameterVisibility,
    StrParameter,
)
from nbflow.core.parameter_json import (
    DictParameter,
    FrozenOrderedDict,
    ListParameter,
    OptionalDictParameter,
    OptionalListParameter,
    OptionalTupleParameter,
    TupleParameter,
    freeze,
)
from nbflow.core.parameter_scalar import (
    BoolParameter,
    ChoiceListParameter,
    ChoiceParameter,
    EnumListParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    NumericalParameter,
    OptionalBoolParameter,
    OptionalChoiceParameter,
    OptionalFloatParameter,
    OptionalIntParameter,
    OptionalNumericalParameter,
    OptionalPathParameter,
    PathParameter,
    TaskParameter,
)
from nbflow.core.parameter_time import (
    DateHourParameter,
    DateIntervalParameter,
    DateMinuteParameter,
    DateParameter,
    DateSecondParameter,
    MonthParameter,
    TimeDeltaParameter,
    YearParameter,
)

__all__ = [
    "NO_VALUE",
    "BoolParameter",
    "ChoiceListParameter",
    "ChoiceParameter",
    "DateHourParameter",
    "DateIntervalParameter",
    "DateMinuteParameter",
    "DateParameter",
    "DateSecondParameter",
    "DictParameter",
    "EnumListParameter",
    "EnumParameter",
    "FloatParameter",
    "FrozenOrderedDict",
    "IntParameter",
    "ListParameter",
    "MonthParameter",
    "NumericalParameter",
    "OptionalBoolParameter",
    "OptionalChoiceParameter",
    "OptionalDictParameter",
    "OptionalFloatParameter",
    "OptionalIntParameter",
    "OptionalListParameter",
    "OptionalNumericalParameter",
    "OptionalParameter",
    "OptionalParameterMixin",
    "OptionalPathParameter",
    "OptionalStrParameter",
    "OptionalTupleParameter",
    "Parameter",
    "ParameterVisibility",
    "PathParameter",
    "StrParameter",
    "TaskParameter",
    "TimeDeltaParameter",
    "TupleParameter",
    "YearParameter",
    "freeze",
]
