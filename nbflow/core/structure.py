"""Nested requirement structures: flatten them, map them, and dynamic requirements.

``requires()`` may return a task, or lists, tuples and dicts of tasks nested to any
depth; ``input()`` mirrors that shape with the outputs. These helpers walk such shapes
without recursion on the *graph* (only on the nesting of one return value).

Imports: stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def flatten(struct: Any) -> list[Any]:
    """Return the leaves of a nested structure of lists, tuples, sets and dicts.

    ``None`` flattens to ``[]``; a string is a leaf, not a sequence of characters; a
    dict contributes its values.

    Examples
    --------
    >>> flatten([1, (2, [3]), {"a": 4}, None])
    [1, 2, 3, 4]
    >>> flatten("abc")
    ['abc']
    >>> flatten(None)
    []
    """
    if struct is None:
        return []
    if not isinstance(struct, _NESTED) and not _is_generator(struct):
        return [struct]
    if isinstance(struct, list) and not any(
        isinstance(x, _NESTED) or x is None for x in struct
    ):
        return list(struct)
    leaves: list[Any] = []
    stack = [struct]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        if isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (str, bytes)):
            leaves.append(item)
        elif isinstance(item, (list, tuple, set, frozenset)) or _is_generator(item):
            stack.extend(reversed(list(item)))
        else:
            leaves.append(item)
    return leaves


#: types flatten() looks inside (a str or bytes is then kept whole by the slow path)
_NESTED = (Mapping, str, bytes, list, tuple, set, frozenset)


def _is_generator(item: object) -> bool:
    return hasattr(item, "__next__") and hasattr(item, "__iter__")


def map_structure(function: Callable[[Any], Any], struct: Any) -> Any:
    """Apply ``function`` to every leaf, keeping the nesting (dicts stay dicts).

    Examples
    --------
    >>> map_structure(lambda x: x * 10, {"a": [1, 2], "b": (3,)})
    {'a': [10, 20], 'b': (30,)}
    """
    if isinstance(struct, Mapping):
        return {key: map_structure(function, value) for key, value in struct.items()}
    if isinstance(struct, (list, tuple)):
        mapped = [map_structure(function, value) for value in struct]
        return mapped if isinstance(struct, list) else tuple(mapped)
    return function(struct)


def getpaths(struct: Any) -> Any:
    """Map each task in a nested structure to its ``output()``, keeping the shape."""
    return map_structure(lambda task: task.output(), struct)


class DynamicRequirements:
    """Requirements yielded from ``run()``, with an optional custom completeness check.

    ``custom_complete`` receives the default completeness function (``task -> bool``)
    and returns whether all requirements are complete; use it to check many outputs in
    one call (a single directory listing instead of one ``exists()`` per task).
    """

    def __init__(
        self,
        requirements: Any,
        custom_complete: Callable[[Callable[[Any], bool]], bool] | None = None,
    ) -> None:
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
