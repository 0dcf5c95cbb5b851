"""Luigi's ``flatten_output``: the targets a task stands for, through wrapper tasks.

A task without outputs (a ``WrapperTask`` that only groups requirements) stands for
the outputs of what it requires; ``flatten_output`` walks down through such tasks,
breadth first, and lists the targets of the first tasks that have outputs.

Imports: nbflow.core.structure.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from nbflow.core.structure import flatten

__all__ = ["flatten_output"]


def flatten_output(task: Any) -> list[Any]:
    """Return the output targets of ``task``, or of its requirements if it has none.

    Each task with outputs contributes them once, in breadth-first order.

    Examples
    --------
    >>> from nbflow.core.target import MemoryTarget
    >>> from nbflow.core.task import Task, WrapperTask
    >>> class Part(Task):
    ...     def output(self):
    ...         return MemoryTarget("part")
    >>> class Whole(WrapperTask):
    ...     def requires(self):
    ...         return [Part(), Part()]
    >>> flatten_output(Whole())
    [MemoryTarget('part')]
    """
    with_outputs: dict[Any, None] = {}  # an ordered set
    seen = {task}
    pending = deque([task])
    while pending:
        current = pending.popleft()
        if flatten(current.output()):
            with_outputs.setdefault(current)
            continue
        for requirement in flatten(current.requires()):
            if requirement not in seen:
                seen.add(requirement)
                pending.append(requirement)
    return flatten([found.output() for found in with_outputs])
