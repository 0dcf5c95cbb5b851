"""The scheduler's vocabulary as JSON: events, notifications, actions and task snapshots.

Every value the scheduler takes or gives (:mod:`nbflow.core.events`,
:class:`~nbflow.core.scheduler_node.TaskInfo`) is a frozen dataclass or a NamedTuple of
plain values, so one generic encoding serves them all: an object becomes a JSON object
tagged with its class name (``{"type": "TaskSucceeded", "task_id": "A", "at": 1.5}``),
tuples become lists, :class:`~nbflow.core.events.Status` its name. Fields equal to
their default are left out, which keeps the server's event log small (most of a
``TaskSpec``'s fields are defaults). Decoding uses the classes' type hints, so a
round trip gives back an equal object.

This is the one format the server's event log, its HTTP API, its event stream and
nbflow's own client share; a change here is a change of the wire protocol.

Imports: stdlib, nbflow.core.events, nbflow.core.scheduler_node, nbflow.core.errors.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from typing import Any, Union

from nbflow.core import events as _events
from nbflow.core.errors import NbflowError
from nbflow.core.events import Status
from nbflow.core.scheduler_node import TaskInfo

#: Characters of a refused value an error message shows.
_SHOWN = 200


class WireFormatError(NbflowError, ValueError):
    """A JSON value is not an encoded scheduler event, notification or action."""

    def __init__(self, problem: str, got: object) -> None:
        super().__init__(problem, got)
        self.problem, self.got = problem, got

    def __str__(self) -> str:
        shown = repr(self.got)
        if len(shown) > _SHOWN:
            shown = shown[: _SHOWN - 3] + "..."
        return (
            f"nbflow wire format: {self.problem} (got {shown}). Expected a JSON object "
            'with "type" naming one of nbflow\'s scheduler events, notifications or '
            "actions, and its fields. Fix: send values made by nbflow.core.wire.to_json."
        )


def _is_record(cls: type) -> bool:
    return dataclasses.is_dataclass(cls) or (
        issubclass(cls, tuple) and hasattr(cls, "_fields")
    )


def _record_types() -> dict[str, type]:
    found = {
        name: value
        for name, value in vars(_events).items()
        if isinstance(value, type)
        and value.__module__ == _events.__name__
        and _is_record(value)
    }
    found[TaskInfo.__name__] = TaskInfo
    return found


#: Every class the wire carries, by name.
TYPES: dict[str, type] = _record_types()

_MISSING = object()


class _Field(typing.NamedTuple):
    name: str
    default: Any
    #: How to decode the field's JSON value.
    decode: typing.Callable[[Any], Any]


def _fields(cls: type) -> tuple[_Field, ...]:
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    module = sys.modules[cls.__module__]
    hints = typing.get_type_hints(cls, vars(module))
    if dataclasses.is_dataclass(cls):
        pairs = [
            (f.name, _MISSING if f.default is dataclasses.MISSING else f.default)
            for f in dataclasses.fields(cls)
        ]
    else:
        defaults = cls._field_defaults  # type: ignore[attr-defined]
        pairs = [(name, defaults.get(name, _MISSING)) for name in cls._fields]  # type: ignore[attr-defined]
    result = tuple(
        _Field(name, default, _decoder(hints[name])) for name, default in pairs
    )
    _FIELDS[cls] = result
    return result


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _decoder(hint: Any) -> typing.Callable[[Any], Any]:  # noqa: PLR0911
    """Return a function turning a JSON value back into a value of type ``hint``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Status:
        return Status
    if hint is float:
        return _to_float
    if hint in (str, int, bool):
        return _checker(hint)
    if isinstance(hint, type) and hint in TYPES.values():
        return lambda value: _decode_record(hint, value)
    if origin in (Union, types.UnionType):
        options = [_decoder(arg) for arg in args if arg is not type(None)]
        if len(options) == 1:
            (only,) = options
            return lambda value: None if value is None else only(value)
        return _decode_any
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            item = _decoder(args[0])
            return lambda value: tuple(item(v) for v in _as_list(value))
        items = [_decoder(arg) for arg in args]
        return lambda value: tuple(
            f(v) for f, v in zip(items, _as_list(value, len(items)))
        )
    return _decode_any


def _as_list(value: Any, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        expected = "a list" if length is None else f"a list of {length}"
        msg = f"expected {expected}, got {value!r}"
        raise TypeError(msg)
    return value


def _to_float(value: Any) -> float:
    if isinstance(value, str) and value in {"inf", "-inf", "nan"}:  # non-finite floats
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"expected a number, got {type(value).__name__}"
        raise TypeError(msg)
    return float(value)


def _checker(kind: type) -> typing.Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            msg = f"expected {kind.__name__}, got {type(value).__name__}"
            raise TypeError(msg)
        return value

    return check


def _decode_any(value: Any) -> Any:
    if isinstance(value, dict) and "type" in value:
        return from_json(value)
    if isinstance(value, list):
        return tuple(_decode_any(v) for v in value)
    return value


def _decode_record(cls: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise WireFormatError(f"a {cls.__name__} must be a JSON object", value)
    kwargs: dict[str, Any] = {}
    for spec in _fields(cls):
        if spec.name in value:
            raw = value[spec.name]
            try:
                kwargs[spec.name] = spec.decode(raw)
            except (TypeError, ValueError) as error:
                raise WireFormatError(
                    f"{cls.__name__}.{spec.name} has a bad value ({error})", raw
                ) from None
        elif spec.default is _MISSING:
            raise WireFormatError(
                f"{cls.__name__} needs the field {spec.name!r}", value
            )
    unknown = set(value) - {"type"} - {spec.name for spec in _fields(cls)}
    if unknown:
        raise WireFormatError(
            f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}", value
        )
    return cls(**kwargs)


def _encode_value(value: Any) -> Any:  # noqa: PLR0911  (one return per kind)
    if isinstance(value, Status):
        return value.value
    if isinstance(value, tuple):
        if type(value) in _FIELDS or type(value).__name__ in TYPES:
            return to_json(value)
        return [_encode_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, dict):
        return {key: _encode_value(v) for key, v in value.items()}
    return value


def to_json(value: Any) -> dict[str, Any]:
    """Encode a scheduler event, notification, action or task snapshot as a JSON object.

    Examples
    --------
    >>> from nbflow.core.events import TaskFailed
    >>> to_json(TaskFailed("A", error="boom", at=2.0))
    {'type': 'TaskFailed', 'task_id': 'A', 'error': 'boom', 'at': 2.0}
    """
    cls = type(value)
    if TYPES.get(cls.__name__) is not cls:
        raise WireFormatError("this value has no wire form", value)
    encoded: dict[str, Any] = {"type": cls.__name__}
    for spec in _fields(cls):
        field_value = getattr(value, spec.name)
        if spec.default is not _MISSING and field_value == spec.default:
            continue
        encoded[spec.name] = _encode_value(field_value)
    return encoded


def from_json(value: Any) -> Any:
    """Decode what :func:`to_json` made; raise :class:`WireFormatError` on anything else.

    Examples
    --------
    >>> from_json({"type": "TaskSucceeded", "task_id": "A", "at": 1.0})
    TaskSucceeded(task_id='A', at=1.0)
    """
    if not isinstance(value, dict):
        raise WireFormatError("not a JSON object", value)
    name = value.get("type")
    cls = TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise WireFormatError(f"unknown type {name!r}", value)
    return _decode_record(cls, value)
