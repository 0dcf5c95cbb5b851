"""The :class:`Parameter` descriptor that every parameter type derives from.

A parameter converts one task argument between three forms: the text typed on the
command line or in a config file (:meth:`Parameter.parse`), the Python value a task
holds (:meth:`Parameter.normalize`), and the text that goes into the task id
(:meth:`Parameter.serialize`). The task layer stores each instance's value in the
instance ``__dict__`` under the parameter's name; as :class:`Parameter` is a
non-data descriptor, that value shadows it.

``None`` passes through :meth:`Parameter.normalize` untouched for every type, as in
Luigi, because ``SomeParameter(default=None)`` is common in Luigi pipelines. It
serializes as ``"None"`` (``"null"`` for the JSON types, ``""`` for the optional
types).

A task calls :meth:`Parameter._warn_on_wrong_param_type` (Luigi's hook, kept under
its name because custom parameter types override it) on each value it holds, so a
value of a surprising type warns once, where the task is made.

Imports: the standard library and nbflow.core.errors.
"""

from __future__ import annotations

import enum
import itertools
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, cast, overload

from nbflow.core.errors import (
    NoBatchMethodError,
    OptionalParameterTypeWarning,
    ParameterDeprecationWarning,
    ParameterOptionError,
    ParameterOptionWarning,
    ParameterTypeWarning,
    ParameterValueError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self, TypedDict, Unpack

    class ParameterOptions(TypedDict, total=False):
        """The keyword options every parameter type accepts."""

        significant: bool
        description: str | None
        doc: str | None
        positional: bool
        always_in_help: bool
        batch_method: Callable[[list[Any]], Any] | None
        visibility: ParameterVisibility
        config_path: dict[str, str] | None
        is_global: bool


T = TypeVar("T")

#: Creation order of parameters; tasks list their parameters in this order.
_COUNTER = itertools.count()


class _NoValueType(enum.Enum):
    """Type of :data:`NO_VALUE`; an enum so that it pickles as a singleton."""

    NO_VALUE = "NO_VALUE"

    def __repr__(self) -> str:
        return "<no_value>"


#: Marks a parameter without a default (``None`` is a legitimate default).
NO_VALUE: Final = _NoValueType.NO_VALUE


class ParameterVisibility(enum.IntEnum):
    """Who may see a parameter's value: everyone, the scheduler only, or nobody.

    Examples
    --------
    >>> ParameterVisibility.has_value(2), ParameterVisibility.has_value(5)
    (True, False)
    """

    PUBLIC = 0
    HIDDEN = 1
    PRIVATE = 2

    @classmethod
    def has_value(cls, value: int) -> bool:
        """Return whether ``value`` is the value of a member."""
        return any(value == member.value for member in cls)

    def serialize(self) -> int:
        """Return the wire form, the member's value (as Luigi sends it)."""
        return int(self.value)


class Parameter(Generic[T]):
    """A task argument, declared as a class attribute of a task.

    The plain :class:`Parameter` holds strings: :meth:`parse` returns the text as
    given and :meth:`serialize` calls ``str``. Subclasses hold other types.

    Parameters
    ----------
    default
        Value used when none is given; :data:`NO_VALUE` means the value is required.
    significant
        Whether the value is part of the task id.
    description, doc
        Help text; ``doc`` is an alias of ``description``.
    positional
        Whether the task constructor accepts the value positionally.
    always_in_help
        Whether ``--help`` lists the parameter even for other tasks.
    batch_method
        Combines a list of parsed values into one, for batched runs (e.g. ``max``).
    visibility
        Who may see the value.
    config_path
        Extra config location, ``{"section": ..., "name": ...}``.
    is_global
        Deprecated, as in Luigi: warns and makes the parameter keyword-only.

    Examples
    --------
    >>> name = Parameter(default="world")
    >>> name.parse("sales"), name.serialize("sales"), name.has_default
    ('sales', 'sales', True)

    .. versionadded:: 0.1.0
    """

    #: How ``None`` appears in task ids.
    _none_text: ClassVar[str] = "None"

    @overload
    def __init__(
        self: Parameter[str],
        default: _NoValueType = NO_VALUE,
        **options: Unpack[ParameterOptions],
    ) -> None: ...

    @overload
    def __init__(
        self,
        default: T | _NoValueType = NO_VALUE,
        **options: Unpack[ParameterOptions],
    ) -> None: ...

    def __init__(  # noqa: PLR0913 - Luigi's keyword options, kept for compatibility
        self,
        default: Any = NO_VALUE,
        *,
        significant: bool = True,
        description: str | None = None,
        doc: str | None = None,
        positional: bool = True,
        always_in_help: bool = False,
        batch_method: Callable[[list[Any]], Any] | None = None,
        visibility: ParameterVisibility = ParameterVisibility.PUBLIC,
        config_path: dict[str, str] | None = None,
        is_global: bool = False,
    ) -> None:
        if is_global:
            _warn_is_global(type(self).__name__)
            positional = False
        #: Value used when none is given, or :data:`NO_VALUE`.
        self.default: T | _NoValueType = default
        #: Whether the value is part of the task id.
        self.significant = significant
        #: Help text.
        self.description = description if description is not None else doc
        #: Whether the task constructor accepts the value positionally.
        self.positional = positional
        #: Whether ``--help`` lists the parameter even for other tasks.
        self.always_in_help = always_in_help
        #: Combines a list of parsed values into one, or None.
        self.batch_method = batch_method
        #: Who may see the value.
        self.visibility = _checked_visibility(type(self).__name__, visibility)
        #: Extra config location, ``{"section": ..., "name": ...}``, or None.
        self.config_path = _checked_config_path(type(self).__name__, config_path)
        #: Deprecated; when true the parameter is keyword-only.
        self.is_global = is_global
        #: Attribute name on the owning task, set by ``__set_name__``.
        self.name = ""
        self._owner = ""
        self._counter = next(_COUNTER)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self._owner = owner.__qualname__

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object, owner: type[Any] | None = None) -> Self | T:
        # The task layer stores values in the instance __dict__, which shadows this
        # non-data descriptor; only an instance whose value is unset reaches here.
        # Like Luigi (where parameters are plain class attributes), return self.
        return self

    def __repr__(self) -> str:
        where = f"{self._owner}.{self.name}" if self.name else "unbound"
        return f"<{type(self).__name__} {where} default={self.default!r}>"

    @property
    def has_default(self) -> bool:
        """Whether the parameter has a default value."""
        return self.default is not NO_VALUE

    @property
    def is_flag(self) -> bool:
        """Whether ``--name`` alone on the command line means true."""
        return False

    @property
    def is_batchable(self) -> bool:
        """Whether several values can be combined with :attr:`batch_method`."""
        return self.batch_method is not None

    def parse(self, text: str) -> T:
        """Return the value written as ``text`` on the command line or in config."""
        # The plain Parameter holds strings; typed subclasses override parse.
        return cast("T", text)

    def serialize(self, value: T) -> str:
        """Return ``value`` as text that :meth:`parse` reads back."""
        if value is None:
            return self._none_text
        return self._format(value)

    def normalize(self, value: Any) -> T:
        """Return ``value`` in the canonical form the task holds (None stays None)."""
        if value is None:
            return cast("T", value)
        return self._coerce(value)

    def next_in_enumeration(self, value: T) -> T | None:
        """Return the value after ``value`` in a range of tasks, or None."""
        del value  # the plain Parameter has no order
        return None

    def _format(self, value: T) -> str:
        """Return the text of a value that is not None; subclasses override."""
        return str(value)

    def _coerce(self, value: Any) -> T:
        """Return a value that is not None in canonical form; subclasses override."""
        return cast("T", value)

    def _parse_list(self, texts: Iterable[str]) -> T:
        """Parse each of ``texts`` and combine the values with the batch method."""
        texts = list(texts)
        if self.batch_method is None:
            owner = self._owner or type(self).__name__
            raise NoBatchMethodError(owner, self.name or "value", texts)
        values = [self.parse(text) for text in texts]
        if not values:
            raise self._error(values, "at least one value to combine")
        return cast("T", self.batch_method(values))

    def _error(self, got: object, expected: str) -> ParameterValueError:
        """Return the error for a bad value ``got``; the task layer re-labels it."""
        owner = self._owner or type(self).__name__
        return ParameterValueError(owner, self.name or "value", got, expected)

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        """Warn when a task holds a value this parameter would not have made.

        Luigi's hook, called by the task for each of its values. The plain
        :class:`Parameter` holds text, so any other value but None warns (None is
        every type's "no value" in nbflow); other types check in ``normalize``.
        """
        if type(self) is Parameter and not isinstance(param_value, (str, type(None))):
            warning = ParameterTypeWarning(
                "Parameter", param_name, str(param_value), "string"
            )
            warnings.warn(warning, stacklevel=4)


def _warn_is_global(kind: str) -> None:
    what = "is_global support is removed. Assuming positional=False"
    fix = "drop is_global=True (pass positional=False to keep it keyword-only)"
    warnings.warn(ParameterDeprecationWarning(kind, what, fix), stacklevel=3)


def _checked_visibility(kind: str, visibility: Any) -> ParameterVisibility:
    """Return ``visibility`` as a member; an unknown value warns and means PUBLIC."""
    if ParameterVisibility.has_value(visibility):
        return ParameterVisibility(visibility)
    problem = f"not a visibility (got {visibility!r}); PUBLIC is used, as in Luigi"
    fix = "pass ParameterVisibility.PUBLIC, HIDDEN or PRIVATE"
    warning = ParameterOptionWarning(kind, "visibility", problem, fix)
    warnings.warn(warning, stacklevel=3)
    return ParameterVisibility.PUBLIC


def _checked_config_path(
    kind: str, config_path: dict[str, str] | None
) -> dict[str, str] | None:
    """Return ``config_path`` when it names a section and a key, else raise."""
    if config_path is None or {"section", "name"} <= set(config_path):
        return config_path
    raise ParameterOptionError(
        kind,
        "config_path",
        f"must hold the keys 'section' and 'name' (got {config_path!r})",
        f"{kind}(config_path={{'section': 'core', 'name': 'my_value'}})",
    )


class StrParameter(Parameter[str]):
    """A string; any value given is held as its ``str``, as Luigi's does.

    Examples
    --------
    >>> StrParameter().parse("sales"), StrParameter().normalize(3)
    ('sales', '3')
    """

    def _coerce(self, value: Any) -> str:
        return str(value)


class OptionalParameterMixin(Parameter[Any]):
    """Make a parameter type optional: None is a value, written ``""``.

    Put it first among the bases, as Luigi's optional types do::

        class OptionalIntParameter(OptionalParameterMixin, IntParameter): ...

    Without a default the value is None. :attr:`expected_type` names the type (or
    tuple of types) a held value should have; another type warns with
    :class:`~nbflow.core.errors.OptionalParameterTypeWarning`.
    """

    #: The type (or tuple of types) a value other than None should have.
    expected_type: type | tuple[type, ...] = type(None)
    _none_text = ""

    def __init__(self, default: Any = None, **options: Any) -> None:
        super().__init__(default, **options)

    def parse(self, text: str) -> Any:
        """Return None for ``""``, else parse ``text`` as the parameter type does."""
        return None if text == "" else super().parse(text)

    def next_in_enumeration(self, value: Any) -> Any:
        """Return None: optional values have no order (as in Luigi)."""
        del value
        return None

    def _warn_on_wrong_param_type(self, param_name: str, param_value: Any) -> None:
        expected = self.expected_type
        if param_value is None or isinstance(param_value, expected):
            return
        if isinstance(expected, tuple):
            names = ", ".join(f'"{kind.__name__}"' for kind in expected)
            described = f"any type in [{names}]"
        else:
            described = f'type "{expected.__name__}"'
        kind = type(self).__name__
        warning = OptionalParameterTypeWarning(
            kind, param_name, str(param_value), described
        )
        warnings.warn(warning, stacklevel=4)


class OptionalParameter(OptionalParameterMixin, Parameter[str | None]):
    """A string that may be None, written ``""`` on the command line.

    Examples
    --------
    >>> OptionalParameter().parse(""), OptionalParameter().serialize(None)
    (None, '')
    """

    expected_type: type | tuple[type, ...] = str


class OptionalStrParameter(OptionalParameter):
    """Another name for :class:`OptionalParameter`, as in Luigi."""
