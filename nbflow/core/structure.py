"""Nested requirement structures: flatten them, map them, and dynamic requirements.

``requires()`` may return a task, or lists, tuples and dicts of tasks nested to any
depth; ``input()`` mirrors that shape with the outputs. These helpers walk such shapes
without recursion on the *graph* (only on the nesting of one return value).

Imports: stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any


def flatten(struct: Any) -> list[Any]:
    """Return the leaves of a nested structure: any iterables, and dicts' values.

    As in Luigi, every iterable is looked into (lists, tuples, sets, generators,
    ``range``, dict views, ...), except that a string or bytes is a leaf; ``None``
    flattens to ``[]``; a dict contributes its values.

    Examples
    --------
    >>> flatten([1, (2, [3]), {"a": 4}, None])
    [1, 2, 3, 4]
    >>> flatten(x for x in "ab")
    ['a', 'b']
    >>> flatten("abc")
    ['abc']
    >>> flatten(None)
    []
    """
    if struct is None:
        return []
    if not _is_nested(struct):
        return [struct]
    if isinstance(struct, list) and not any(x is None or _is_nested(x) for x in struct):
        return list(struct)
    leaves: list[Any] = []
    stack = [struct]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        if isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif _is_nested(item):
            stack.extend(reversed(list(item)))
        else:
            leaves.append(item)
    return leaves


def _is_nested(item: object) -> bool:
    """Whether flatten() looks inside ``item``: an iterable that is not text."""
    return isinstance(item, Iterable) and not isinstance(item, (str, bytes))


def map_structure(function: Callable[[Any], Any], struct: Any) -> Any:
    """Apply ``function`` to every leaf, keeping the nesting (Luigi's ``getpaths``).

    Dicts, lists and tuples keep their type (an ``OrderedDict`` stays one, a named
    tuple stays one); any other iterable that is not text (a generator, a set, a
    ``range``) becomes a list, in iteration order.

    Examples
    --------
    >>> map_structure(lambda x: x * 10, {"a": [1, 2], "b": (3,)})
    {'a': [10, 20], 'b': (30,)}
    >>> map_structure(lambda x: x + 1, (x for x in range(3)))
    [1, 2, 3]
    """
    if isinstance(struct, Mapping):
        pairs = [(key, map_structure(function, value)) for key, value in struct.items()]
        return _rebuild(type(struct), pairs, dict)
    if _is_nested(struct):
        mapped = [map_structure(function, value) for value in struct]
        if isinstance(struct, tuple) and hasattr(struct, "_fields"):
            return type(struct)(*mapped)
        if isinstance(struct, (list, tuple)):
            plain = list if isinstance(struct, list) else tuple
            return _rebuild(type(struct), mapped, plain)
        return mapped
    return function(struct)


def _rebuild(kind: type, items: list[Any], fallback: type) -> Any:
    """Return ``kind(items)``, or ``fallback(items)`` for a type built otherwise."""
    try:
        return kind(items)
    except TypeError:  # e.g. a defaultdict: its first argument is the factory
        return fallback(items)


def getpaths(struct: Any) -> Any:
    """Map each task in a nested structure to its ``output()``, keeping the shape."""
    return map_structure(lambda task: task.output(), struct)


class DynamicRequirements:
    """Requirements yielded from ``run()``, with an optional custom completeness check.

    ``custom_complete`` receives the default completeness function (``task -> bool``)
    and returns whether all requirements are complete; use it to check many outputs in
    one call (a single directory listing instead of one ``exists()`` per task).
    ``requirements`` given as a generator (or any one-pass iterator) are read once
    into a list, so :attr:`paths` and the completeness check both see them.

    Examples
    --------
    >>> class Leaf:
    ...     def output(self):
    ...         return "out"
    >>> DynamicRequirements(Leaf() for _ in range(2)).paths
    ['out', 'out']
    """

    def __init__(
        self,
        requirements: Any,
        custom_complete: Callable[[Callable[[Any], bool]], bool] | None = None,
    ) -> None:
        if isinstance(requirements, Iterator):
            requirements = list(requirements)
        self.requirements = requirements
        self.custom_complete = custom_complete
        self.flat_requirements = flatten(requirements)
        self._paths: Any = None

    @property
    def paths(self) -> Any:
        """The outputs of the requirements, in the requirements' shape."""
        if self._paths is None:
            self._paths = getpaths(self.requirements)
        return self._paths

    def complete(self, complete_fn: Callable[[Any], bool] | None = None) -> bool:
        """Return whether every requirement is complete."""
        check = complete_fn or (lambda task: bool(task.complete()))
        if self.custom_complete is not None:
            return self.custom_complete(check)
        return all(check(task) for task in self.flat_requirements)
