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

Imports: the standard library and nbflow.core.errors.
"""

from __future__ import annotations

import enum
import itertools
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, cast, overload

from nbflow.core.errors import ParameterValueError

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
        Accepted for compatibility with old Luigi code; has no effect.

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
        self.visibility = visibility
        #: Extra config location, ``{"section": ..., "name": ...}``, or None.
        self.config_path = config_path
        #: Accepted for compatibility with old Luigi code; has no effect.
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
        values = [self.parse(text) for text in texts]
        if self.batch_method is None:
            expected = "a single value, as this parameter has no batch_method"
            raise self._error(values, expected)
        if not values:
            raise self._error(values, "at least one value to combine")
        return cast("T", self.batch_method(values))

    def _error(self, got: object, expected: str) -> ParameterValueError:
        """Return the error for a bad value ``got``; the task layer re-labels it."""
        owner = self._owner or type(self).__name__
        return ParameterValueError(owner, self.name or "value", got, expected)


class _Optional(Parameter[T | None]):
    """Wrap another parameter type so that it also accepts None, written ``""``."""

    _none_text = ""

    def __init__(
        self,
        inner: Parameter[T],
        default: T | _NoValueType | None = NO_VALUE,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(default, **options)
        self._inner = inner

    def __set_name__(self, owner: type[Any], name: str) -> None:
        super().__set_name__(owner, name)
        self._inner.__set_name__(owner, name)

    @property
    def is_flag(self) -> bool:
        """Whether ``--name`` alone means true, as for the wrapped type."""
        return self._inner.is_flag

    def parse(self, text: str) -> T | None:
        """Return None for ``""``, else parse ``text`` as the wrapped type does."""
        return None if text == "" else self._inner.parse(text)

    def next_in_enumeration(self, value: T | None) -> T | None:
        """Return the next value as the wrapped type does (None has no next)."""
        return None if value is None else self._inner.next_in_enumeration(value)

    def _format(self, value: T | None) -> str:
        return self._inner.serialize(cast("T", value))

    def _coerce(self, value: Any) -> T | None:
        return self._inner.normalize(value)


class OptionalParameter(_Optional[str]):
    """A string that may be None, written ``""`` on the command line.

    Examples
    --------
    >>> OptionalParameter().parse(""), OptionalParameter().serialize(None)
    (None, '')
    """

    def __init__(
        self,
        default: str | _NoValueType | None = NO_VALUE,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(Parameter(), default, **options)


class OptionalStrParameter(OptionalParameter):
    """Another name for :class:`OptionalParameter`, as in Luigi."""
