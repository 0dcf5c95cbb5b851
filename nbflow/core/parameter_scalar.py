"""Parameter types for single values: numbers, booleans, choices, enums, paths, tasks.

Each type converts text to a value and back exactly as Luigi's namesake does, so task
ids agree with Luigi's. Values given to a task constructor go through ``normalize``,
which also accepts the text form. Declaring a type without an option it needs
(``choices``, ``enum``, ``var_type``, ...) raises
:class:`~nbflow.core.errors.ParameterOptionError`, Luigi's ``ParameterException``.

Imports: the standard library, nbflow.core.errors and nbflow.core.parameter_descriptor
(plus nbflow.core.registry, lazily, for :class:`TaskParameter`).
"""

from __future__ import annotations

import enum
import importlib
import operator
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from nbflow.core.errors import ChoiceTypeError, ParameterOptionError, PathNotFoundError
from nbflow.core.parameter_descriptor import (
    NO_VALUE,
    OptionalParameterMixin,
    Parameter,
    _NoValueType,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from typing_extensions import Unpack

    from nbflow.core.parameter_descriptor import ParameterOptions

_N = TypeVar("_N")
_E = TypeVar("_E", bound=enum.Enum)

#: Text forms of the two bool values, as Luigi reads them (case-insensitively).
_BOOL_WORDS = {"true": True, "false": False}


def _describe_range(
    low: object,
    high: object,
    left_op: Callable[[Any, Any], bool],
    right_op: Callable[[Any, Any], bool],
) -> str:
    """Return interval notation for a numeric range.

    Examples
    --------
    >>> _describe_range(0, 10, operator.le, operator.lt)
    '[0, 10)'
    >>> _describe_range(0, 1, operator.lt, operator.le)
    '(0, 1]'
    """
    left = {operator.le: "[", operator.lt: "("}.get(left_op)
    right = {operator.le: "]", operator.lt: ")"}.get(right_op)
    if left is None or right is None:
        return f"the range {low}..{high} (checked by {left_op} and {right_op})"
    return f"{left}{low}, {high}{right}"


def _type_or_object(var_type: Callable[..., Any]) -> type:
    """Return ``var_type`` when it is a class, else ``object`` (any value fits)."""
    return var_type if isinstance(var_type, type) else object


def _check_choice_types(
    kind: str, choices: tuple[Any, ...], var_type: Callable[[str], Any]
) -> None:
    """Raise when a choice is not of ``var_type`` (it could never be chosen)."""
    if not isinstance(var_type, type):
        return  # a conversion function: its results' type is unknown
    wrong = [choice for choice in choices if not isinstance(choice, var_type)]
    if wrong:
        name = var_type.__name__
        problem = f"holds values that are not of var_type {name} (got {wrong!r})"
        example = f"{kind}(choices=[...], var_type=<the type of every choice>)"
        raise ChoiceTypeError(kind, "choices", problem, example)


def _required_enum(kind: str, enum_class: type[_E] | None) -> type[_E]:
    """Return ``enum_class``, or raise when the declaration did not give one."""
    if enum_class is None:
        example = f"{kind}(enum=Color) for class Color(enum.Enum)"
        raise ParameterOptionError(kind, "enum", "must be specified", example)
    return enum_class


class IntParameter(Parameter[int]):
    """A whole number.

    Examples
    --------
    >>> IntParameter().parse("42"), IntParameter().next_in_enumeration(41)
    (42, 42)
    """

    def parse(self, text: str) -> int:
        """Return the integer written as ``text``."""
        try:
            return int(text)
        except ValueError:
            raise self._error(text, "an integer such as '42'") from None

    def next_in_enumeration(self, value: int) -> int | None:
        """Return ``value + 1``."""
        return value + 1

    def _coerce(self, value: Any) -> int:
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return operator.index(value)
        except TypeError:
            raise self._error(value, "an integer such as 42") from None


class OptionalIntParameter(OptionalParameterMixin, IntParameter):
    """A whole number or None (written ``""``)."""

    expected_type = int


class FloatParameter(Parameter[float]):
    """A floating-point number.

    Numbers given in code keep their type, as in Luigi, so ``Foo(x=3)`` has the same
    task id under both (``"3"``); text is parsed to a float.

    Examples
    --------
    >>> FloatParameter().normalize(3), FloatParameter().serialize(0.5)
    (3, '0.5')
    """

    def parse(self, text: str) -> float:
        """Return the number written as ``text``."""
        try:
            return float(text)
        except ValueError:
            raise self._error(text, "a number such as '0.5'") from None

    def _coerce(self, value: Any) -> float:
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self._error(value, "a number such as 0.5") from None


class OptionalFloatParameter(OptionalParameterMixin, FloatParameter):
    """A floating-point number or None (written ``""``)."""

    expected_type = float


class NumericalParameter(Parameter[_N]):
    """A number of type ``var_type`` inside a range.

    By default the range includes ``min_value`` and excludes ``max_value``; pass
    ``left_op``/``right_op`` (``operator.le`` or ``operator.lt``) to change that.

    Examples
    --------
    >>> percent = NumericalParameter(var_type=int, min_value=0, max_value=101)
    >>> percent.parse("100")
    100
    """

    def __init__(
        self,
        default: _N | _NoValueType | None = NO_VALUE,
        *,
        var_type: Callable[[Any], _N] | None = None,
        min_value: _N | None = None,
        max_value: _N | None = None,
        left_op: Callable[[Any, Any], bool] = operator.le,
        right_op: Callable[[Any, Any], bool] = operator.lt,
        **options: Unpack[ParameterOptions],
    ) -> None:
        kind = type(self).__name__
        example = f"{kind}(var_type=int, min_value=0, max_value=10)"
        for option, given in (
            ("var_type", var_type),
            ("min_value", min_value),
            ("max_value", max_value),
        ):
            if given is None:
                raise ParameterOptionError(kind, option, "must be specified", example)
        super().__init__(default, **options)  # type: ignore[arg-type]
        #: Type of the values, e.g. ``int`` or ``float``.
        self.var_type: Callable[[Any], _N] = var_type  # type: ignore[assignment]
        #: Bounds of the range.
        self.min_value: _N = min_value  # type: ignore[assignment]
        self.max_value: _N = max_value  # type: ignore[assignment]
        self._left_op, self._right_op = left_op, right_op

    @property
    def _expected(self) -> str:
        span = _describe_range(
            self.min_value, self.max_value, self._left_op, self._right_op
        )
        kind = getattr(self.var_type, "__name__", "number")
        return f"a {kind} in {span}, such as {self.min_value!r}"

    def parse(self, text: str) -> _N:
        """Return the number written as ``text``, checked against the range."""
        try:
            value = self.var_type(text)
        except ValueError:
            raise self._error(text, self._expected) from None
        if not self._in_range(value):
            raise self._error(text, self._expected)
        return value

    def _in_range(self, value: Any) -> bool:
        return bool(
            self._left_op(self.min_value, value)
            and self._right_op(value, self.max_value)
        )

    def _coerce(self, value: Any) -> _N:
        if isinstance(value, str):
            return self.parse(value)
        if not self._in_range(value):
            raise self._error(value, self._expected)
        return self.var_type(value)


class OptionalNumericalParameter(OptionalParameterMixin, NumericalParameter[_N]):
    """A number inside a range, or None (written ``""``)."""

    def __init__(self, default: _N | None = None, **options: Any) -> None:
        super().__init__(default, **options)
        #: Values other than None should be of ``var_type`` (when it is a type).
        self.expected_type = _type_or_object(self.var_type)


class BoolParameter(Parameter[bool]):
    """A boolean, written ``true`` or ``false`` (any case); ``--name`` alone is true.

    Without a default the value is False, as in Luigi. With
    ``parsing=BoolParameter.EXPLICIT_PARSING`` the command line needs the word;
    setting the class attribute ``BoolParameter.parsing`` changes the mode of the
    bool parameters declared after it.

    Examples
    --------
    >>> BoolParameter().parse("TRUE"), BoolParameter().serialize(False)
    (True, 'False')
    >>> BoolParameter().default
    False
    """

    #: ``--name`` alone means true.
    IMPLICIT_PARSING: ClassVar[str] = "implicit"
    #: ``--name`` needs ``true`` or ``false`` after it.
    EXPLICIT_PARSING: ClassVar[str] = "explicit"
    #: The parsing mode of parameters declared without ``parsing=`` (Luigi's switch).
    parsing: str = IMPLICIT_PARSING

    def __init__(
        self,
        default: bool | _NoValueType | None = NO_VALUE,
        *,
        parsing: str | None = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        if default is NO_VALUE:
            default = False
        super().__init__(default, **options)  # type: ignore[arg-type]
        mode = type(self).parsing if parsing is None else parsing
        if mode not in (self.IMPLICIT_PARSING, self.EXPLICIT_PARSING):
            kind = type(self).__name__
            problem = f"must be 'implicit' or 'explicit' (got {mode!r})"
            example = f"{kind}(parsing={kind}.EXPLICIT_PARSING)"
            raise ParameterOptionError(kind, "parsing", problem, example)
        #: :attr:`IMPLICIT_PARSING` or :attr:`EXPLICIT_PARSING`.
        self.parsing = mode

    @property
    def is_flag(self) -> bool:
        """Whether ``--name`` alone on the command line means true."""
        return self.parsing == self.IMPLICIT_PARSING

    def parse(self, text: str) -> bool:
        """Return the boolean written as ``text``."""
        value = _BOOL_WORDS.get(text.lower())
        if value is None:
            raise self._error(text, "'true' or 'false'")
        return value

    def _coerce(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, int) and value in {0, 1}:
            return bool(value)
        raise self._error(value, "True or False")


class OptionalBoolParameter(OptionalParameterMixin, BoolParameter):
    """A boolean or None (written ``""``)."""

    expected_type = bool


class ChoiceParameter(Parameter[Any]):
    """One of a fixed set of values; text is converted with ``var_type`` first.

    Examples
    --------
    >>> ChoiceParameter(choices=[1, 2], var_type=int).parse("2")
    2
    """

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        choices: Sequence[Any] | None = None,
        var_type: Callable[[str], Any] = str,
        **options: Unpack[ParameterOptions],
    ) -> None:
        kind = type(self).__name__
        if choices is None:
            example = f"{kind}(choices=['a', 'b'])"
            raise ParameterOptionError(kind, "choices", "must be specified", example)
        _check_choice_types(kind, tuple(choices), var_type)
        super().__init__(default, **options)
        #: The allowed values, in the order given.
        self.choices = tuple(choices)
        #: Converts text to a candidate value.
        self.var_type = var_type

    @property
    def _expected(self) -> str:
        return "one of " + ", ".join(repr(choice) for choice in self.choices)

    def parse(self, text: str) -> Any:
        """Return the choice written as ``text``."""
        try:
            value = self.var_type(text)
        except ValueError:
            raise self._error(text, self._expected) from None
        return self._coerce(value)

    def _coerce(self, value: Any) -> Any:
        if value not in self.choices:
            raise self._error(value, self._expected)
        return value


class ChoiceListParameter(Parameter[tuple[Any, ...]]):
    """A tuple of choices, written comma-separated (``a,c``); order and repeats kept.

    Examples
    --------
    >>> letters = ChoiceListParameter(choices=["a", "b", "c"])
    >>> letters.parse("c,a"), letters.serialize(("c", "a")), letters.parse("")
    (('c', 'a'), 'c,a', ())
    """

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        choices: Sequence[Any] | None = None,
        var_type: Callable[[str], Any] = str,
        **options: Unpack[ParameterOptions],
    ) -> None:
        kind = type(self).__name__
        if choices is None:
            example = f"{kind}(choices=['a', 'b'])"
            raise ParameterOptionError(kind, "choices", "must be specified", example)
        super().__init__(default, **options)
        self._choice = ChoiceParameter(choices=choices, var_type=var_type)
        #: The allowed values, in the order given.
        self.choices = self._choice.choices
        #: Converts each comma-separated text to a candidate value.
        self.var_type = var_type

    def __set_name__(self, owner: type[Any], name: str) -> None:
        super().__set_name__(owner, name)
        self._choice.__set_name__(owner, name)

    def parse(self, text: str) -> tuple[Any, ...]:
        """Return the choices written comma-separated in ``text``."""
        if not text:
            return ()
        return tuple(self._choice.parse(part.strip()) for part in text.split(","))

    def _format(self, value: tuple[Any, ...]) -> str:
        return ",".join(str(choice) for choice in value)

    def _coerce(self, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str):
            return self.parse(value)
        return tuple(self._choice.normalize(choice) for choice in value)


class OptionalChoiceParameter(OptionalParameterMixin, ChoiceParameter):
    """One of a fixed set of values, or None (written ``""``)."""

    def __init__(self, default: Any = None, **options: Any) -> None:
        super().__init__(default, **options)
        #: Values other than None should be of ``var_type`` (when it is a type).
        self.expected_type = _type_or_object(self.var_type)


class EnumParameter(Parameter[_E]):
    """A member of an :class:`enum.Enum`, written by its name.

    Examples
    --------
    >>> import enum
    >>> Color = enum.Enum("Color", "red green")
    >>> EnumParameter(enum=Color).parse("green")
    <Color.green: 2>
    """

    def __init__(
        self,
        default: _E | _NoValueType | None = NO_VALUE,
        *,
        enum: type[_E] | None = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        #: The enum class whose members are the values.
        self.enum: type[_E] = _required_enum(type(self).__name__, enum)
        super().__init__(default, **options)  # type: ignore[arg-type]

    @property
    def _expected(self) -> str:
        return "one of the names " + ", ".join(self.enum.__members__)

    def parse(self, text: str) -> _E:
        """Return the member named ``text``."""
        try:
            return self.enum[text]
        except KeyError:
            raise self._error(text, self._expected) from None

    def _format(self, value: _E) -> str:
        return value.name

    def _coerce(self, value: Any) -> _E:
        if isinstance(value, self.enum):
            return value
        if isinstance(value, str):
            return self.parse(value)
        raise self._error(value, self._expected)


class EnumListParameter(Parameter[tuple[_E, ...]]):
    """A tuple of enum members, written as comma-separated names (``red,green``).

    Examples
    --------
    >>> import enum
    >>> Color = enum.Enum("Color", "red green")
    >>> colors = EnumListParameter(enum=Color)
    >>> colors.serialize(colors.parse("green,red"))
    'green,red'
    """

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        enum: type[_E] | None = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        #: The enum class whose members are the values.
        self.enum: type[_E] = _required_enum(type(self).__name__, enum)
        super().__init__(default, **options)
        self._member = EnumParameter(enum=self.enum)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        super().__set_name__(owner, name)
        self._member.__set_name__(owner, name)

    def parse(self, text: str) -> tuple[_E, ...]:
        """Return the members named in the comma-separated ``text``."""
        if not text:
            return ()
        return tuple(self._member.parse(name.strip()) for name in text.split(","))

    def _format(self, value: tuple[_E, ...]) -> str:
        return ",".join(member.name for member in value)

    def _coerce(self, value: Any) -> tuple[_E, ...]:
        if isinstance(value, str):
            return self.parse(value)
        return tuple(self._member.normalize(member) for member in value)


class PathParameter(Parameter[Path]):
    """A filesystem path, held as :class:`pathlib.Path`.

    ``absolute=True`` makes relative paths absolute (against the working directory);
    ``exists=True`` rejects paths that do not exist.

    Examples
    --------
    >>> PathParameter().normalize("data/raw.csv")
    PosixPath('data/raw.csv')
    """

    def __init__(
        self,
        default: Path | str | _NoValueType = NO_VALUE,
        *,
        absolute: bool = False,
        exists: bool = False,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(default, **options)  # type: ignore[arg-type]  # str is coerced
        #: Whether relative paths are made absolute.
        self.absolute = absolute
        #: Whether the path must exist.
        self.exists = exists

    def parse(self, text: str) -> Path:
        """Return the path written as ``text``."""
        return self._coerce(text)

    def _coerce(self, value: Any) -> Path:
        if not isinstance(value, (str, os.PathLike)):
            raise self._error(value, "a path such as 'data/raw.csv'")
        path = Path(value)
        if self.absolute:
            path = path.absolute()
        if self.exists and not path.exists():
            owner = self._owner or type(self).__name__
            got, expected = str(path), "an existing path"
            raise PathNotFoundError(owner, self.name or "value", got, expected)
        return path


class OptionalPathParameter(OptionalParameterMixin, PathParameter):
    """A filesystem path or None (written ``""``)."""

    expected_type = (str, Path)


class TaskParameter(Parameter["type[Any]"]):
    """A task class, written as its task family (e.g. ``CleanSales``)."""

    def parse(self, text: str) -> type[Any]:
        """Return the task class registered as ``text``."""
        # Imported lazily: the registry imports the task layer, which imports us.
        registry = importlib.import_module("nbflow.core.registry")
        task_class: type[Any] = registry.REGISTRY.lookup(text)
        return task_class

    def _format(self, value: type[Any]) -> str:
        family: str = value.get_task_family()
        return family

    def _coerce(self, value: Any) -> type[Any]:
        if isinstance(value, str):
            return self.parse(value)
        if not isinstance(value, type):
            raise self._error(value, "a Task class such as CleanSales")
        return value
