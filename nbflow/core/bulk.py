"""Luigi's ``MixinNaiveBulkComplete``: ``bulk_complete`` as a loop over ``complete()``.

Range tools ask a task class which of many parameter sets are complete in one call,
``bulk_complete(parameter_tuples)``. Mixing this class into a task whose
``complete()`` is cheap answers that call by building each task and asking it.

Imports: nothing from nbflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MixinNaiveBulkComplete"]


class MixinNaiveBulkComplete:
    """Answer ``bulk_complete`` by checking each task's ``complete()`` in turn.

    Examples
    --------
    >>> from nbflow.core.parameter import Parameter
    >>> from nbflow.core.task import Task
    >>> class Loaded(MixinNaiveBulkComplete, Task):
    ...     table = Parameter()
    ...     def complete(self):
    ...         return self.table in ("sales", "stock")
    >>> Loaded.bulk_complete(["sales", "refunds", "stock"])
    ['sales', 'stock']
    """

    @classmethod
    def bulk_complete(cls, parameter_tuples: Iterable[Any]) -> list[Any]:
        """Return the items of ``parameter_tuples`` whose task is complete.

        Each item is one task's parameters: a tuple or list (positional values), a
        dict (values by name) or a single value (the first parameter).
        """
        make: Any = cls  # a Task subclass, once mixed in
        complete = []
        for values in parameter_tuples:
            if isinstance(values, (list, tuple)):
                task = make(*values)
            elif isinstance(values, Mapping):
                task = make(**values)
            else:
                task = make(values)
            if task.complete():
                complete.append(values)
        return complete
