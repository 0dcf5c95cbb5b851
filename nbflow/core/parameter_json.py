"""Parameter types for JSON structures: lists, tuples and dicts.

Values are frozen on the way into a task (``normalize``: lists become tuples, mappings
become :class:`FrozenOrderedDict`), so tasks holding them stay hashable. They
serialize with ``json.dumps`` and its default separators, exactly as Luigi does, so
task ids agree; ``None`` is written ``null`` and read back. As in Luigi, ``parse``
returns the JSON value as loaded (objects as :class:`FrozenOrderedDict`, lists as
lists, so :class:`ListParameter` gives a list) and ``normalize`` freezes it all.

A ``schema`` (a JSON schema, or a ``jsonschema`` validator object) is checked in
``normalize``; a value that breaks it raises ``jsonschema.ValidationError``, with a
note naming the parameter. Without ``jsonschema`` installed a schema warns and is
ignored, as in Luigi.

Imports: the standard library, nbflow.core.errors and nbflow.core.parameter_descriptor
(plus ``jsonschema``, lazily, only for parameters declared with a ``schema``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from nbflow.core.errors import ParameterOptionWarning
from nbflow.core.parameter_descriptor import (
    NO_VALUE,
    OptionalParameterMixin,
    Parameter,
)

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from nbflow.core.parameter_descriptor import ParameterOptions


class FrozenOrderedDict(dict[Any, Any]):
    """An immutable, hashable dict that keeps insertion order.

    It is a real :class:`dict`, so ``json.dumps`` and ``isinstance(x, dict)`` work;
    every mutating method raises :class:`TypeError`. Equality and hash ignore order.

    Examples
    --------
    >>> settings = FrozenOrderedDict([("b", 1), ("a", 2)])
    >>> list(settings), settings == {"a": 2, "b": 1}, hash(settings) is not None
    (['b', 'a'], True, True)
    """

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]  # dict itself is unhashable
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[Self], tuple[list[tuple[Any, Any]]]]:
        # The default reduction re-adds items with __setitem__, which is disabled.
        return (type(self), (list(self.items()),))

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        del args, kwargs
        message = f"{type(self).__name__} is immutable; build a new one instead"
        raise TypeError(message)

    def __setitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse(*args, **kwargs)

    def __delitem__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse(*args, **kwargs)

    def __ior__(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse(*args, **kwargs)

    def clear(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the mapping is immutable."""
        self._refuse(*args, **kwargs)

    def pop(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the mapping is immutable."""
        self._refuse(*args, **kwargs)

    def popitem(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the mapping is immutable."""
        self._refuse(*args, **kwargs)

    def setdefault(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the mapping is immutable."""
        self._refuse(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Refuse: the mapping is immutable."""
        self._refuse(*args, **kwargs)

    def get_wrapped(self) -> dict[Any, Any]:
        """Return a mutable copy, as a plain dict (Luigi's name)."""
        return dict(self)


def freeze(value: Any) -> Any:
    """Return ``value`` with lists made tuples and mappings made frozen, recursively.

    Examples
    --------
    >>> freeze([1, [2, {"a": [3]}]])
    (1, (2, {'a': (3,)}))
    """
    if isinstance(value, Mapping):
        return FrozenOrderedDict((key, freeze(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item) for item in value)
    return value


_JSON_VALUES = "values JSON can hold (numbers, strings, booleans, None, lists, dicts)"


class _JsonParameter(Parameter[Any]):
    """A frozen JSON structure, optionally checked against a JSON schema."""

    _none_text = "null"
    _EXPECTED: ClassVar[str]
    #: What the text must hold at the top level.
    _TOP: ClassVar[type | tuple[type, ...]]

    def __init__(
        self,
        default: Any = NO_VALUE,
        *,
        schema: Any = None,
        **options: Unpack[ParameterOptions],
    ) -> None:
        super().__init__(default, **options)
        #: JSON schema (or validator object) every value must match, or None.
        self.schema = _usable_schema(type(self).__name__, schema)

    def parse(self, text: str) -> Any:
        """Return the JSON value written as ``text`` (``null`` is None).

        Objects are read as :class:`FrozenOrderedDict` (as in Luigi), lists as lists.
        """
        try:
            loaded = json.loads(text, object_pairs_hook=FrozenOrderedDict)
        except ValueError:
            raise self._error(text, self._EXPECTED) from None
        if loaded is not None and not isinstance(loaded, self._TOP):
            raise self._error(text, self._EXPECTED)
        return loaded

    def _format(self, value: Any) -> str:
        try:
            return json.dumps(value)
        except TypeError:
            raise self._error(value, _JSON_VALUES) from None

    def _check_schema(self, value: Any) -> None:
        """Raise ``jsonschema.ValidationError`` when ``value`` breaks the schema."""
        if self.schema is None:
            return
        plain = json.loads(self._format(value))  # tuples to lists, as the schema sees
        validate = getattr(self.schema, "validate", None)
        try:
            if callable(validate):  # a validator object, e.g. Draft4Validator(...)
                validate(plain)
            else:
                jsonschema = importlib.import_module("jsonschema")  # optional
                jsonschema.validate(instance=plain, schema=self.schema)
        except Exception as exc:
            where = f"{self._owner}.{self.name}" if self.name else type(self).__name__
            exc.add_note(
                f"{where}: the value does not match the parameter's JSON schema. "
                "Fix: pass a value the schema allows, or change the schema."
            )
            raise


def _usable_schema(kind: str, schema: Any) -> Any:
    """Return ``schema``, or None (with a warning) when nothing could check it."""
    if schema is None or callable(getattr(schema, "validate", None)):
        return schema
    if importlib.util.find_spec("jsonschema") is not None:
        return schema
    problem = (
        "The 'jsonschema' package is not installed so the parameter can not be "
        "validated even though a schema is given"
    )
    warning = ParameterOptionWarning(kind, "schema", problem, "pip install jsonschema")
    warnings.warn(warning, stacklevel=4)
    return None


class ListParameter(_JsonParameter):
    """A list, written as JSON (``[1, "a"]``) and held as a tuple.

    Examples
    --------
    >>> ListParameter().parse('[1, [2, 3]]')
    [1, [2, 3]]
    >>> ListParameter().normalize([1, [2, 3]])
    (1, (2, 3))
    >>> ListParameter().serialize((1, (2, 3)))
    '[1, [2, 3]]'
    """

    _EXPECTED = "a JSON list such as '[1, \"a\"]'"
    _TOP: ClassVar[type | tuple[type, ...]] = list

    def _coerce(self, value: Any) -> Any:
        if isinstance(value, str):
            value = self.parse(value)
            if value is None:
                return None
        if isinstance(value, (Mapping, bytes)) or not isinstance(value, Iterable):
            raise self._error(value, self._EXPECTED)
        frozen = freeze(tuple(value))
        self._check_schema(frozen)
        return frozen


class TupleParameter(ListParameter):
    """A tuple, written as JSON (``[[1, 2], [3]]``) or a Python literal (``(1, 2)``).

    Examples
    --------
    >>> TupleParameter().parse("((1, 2), (3,))")
    ((1, 2), (3,))
    """

    _EXPECTED = "a JSON list or Python tuple such as '[1, 2]' or '(1, 2)'"
    _TOP = (list, tuple)

    def parse(self, text: str) -> Any:
        """Return the tuple written as JSON or as a Python literal in ``text``."""
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = self._literal(text)
        if loaded is None:
            return None
        if not isinstance(loaded, self._TOP):
            raise self._error(text, self._EXPECTED)
        return self._coerce(loaded)

    def _literal(self, text: str) -> Any:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise self._error(text, self._EXPECTED) from None


class DictParameter(_JsonParameter):
    """A dict, written as a JSON object and held as a :class:`FrozenOrderedDict`.

    Examples
    --------
    >>> DictParameter().serialize(DictParameter().parse('{"b": [1, 2], "a": {}}'))
    '{"b": [1, 2], "a": {}}'
    >>> hash(DictParameter().parse('{"a": 1}')) == hash(FrozenOrderedDict(a=1))
    True
    """

    _EXPECTED = "a JSON object such as '{\"key\": 1}'"
    _TOP = dict

    def _coerce(self, value: Any) -> Any:
        if isinstance(value, str):
            value = self.parse(value)
            if value is None:
                return None
        if not isinstance(value, Mapping):
            raise self._error(value, self._EXPECTED)
        frozen = freeze(value)
        self._check_schema(frozen)
        return frozen


class OptionalListParameter(OptionalParameterMixin, ListParameter):
    """A JSON list or None (written ``""``)."""

    expected_type = tuple


class OptionalTupleParameter(OptionalParameterMixin, TupleParameter):
    """A tuple or None (written ``""``)."""

    expected_type = tuple


class OptionalDictParameter(OptionalParameterMixin, DictParameter):
    """A JSON object or None (written ``""``)."""

    expected_type = FrozenOrderedDict
