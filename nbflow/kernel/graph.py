"""``%nbflow graph``: the dependency graph with completion state, without running it.

:func:`discover_graph` expands the tasks with the graph builder and the completeness check
a run uses (the notebook's mode: code-aware fingerprints unless configured otherwise),
and returns a :class:`TaskGraph`. The whole graph is drawn, complete tasks too, so the
pipeline keeps its shape after a run; incomplete tasks that only complete tasks need are
"not needed" (a run would not run them). ``stop_at_complete`` (``%nbflow graph
--stop-at-complete``) stops the walk at complete tasks, as a run does, for huge graphs.
The graph shows itself as a :class:`~nbflow.widgets.GraphView` where there is a widget
frontend, as an indented text tree everywhere else, and converts to DOT.

Imports: stdlib, nbflow.core.*, nbflow.kernel.display.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.core.completeness import FingerprintCheck
from nbflow.core.config import current_settings
from nbflow.core.dot import DotNode, to_dot
from nbflow.core.events import RetryPolicy
from nbflow.core.graph import GraphBuilder
from nbflow.core.progress import PLAN_WORDS, spec_state
from nbflow.kernel.display import widget_classes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.events import TaskSpec
    from nbflow.core.task import Task

#: Text trees stop after this many lines; ``to_dot()`` always has every task.
TEXT_LIMIT = 100
#: The word for incomplete tasks that only complete tasks need (a run skips them).
UNNEEDED_WORD = "not needed"
#: A notebook's completeness mode when [core] completeness is not set.
_NOTEBOOK_COMPLETENESS = "fingerprint"


def discover_graph(
    roots: Iterable[Task], *, display: str = "text", stop_at_complete: bool = False
) -> TaskGraph:
    """Expand ``roots`` into a :class:`TaskGraph`; nothing is run.

    Every task is drawn, complete ones too; with ``stop_at_complete`` the walk stops
    at complete tasks, as a run's does (cheaper for huge graphs).

    Examples
    --------
    >>> import nbflow
    >>> class Leaf(nbflow.Task):
    ...     pass
    >>> class Top(nbflow.Task):
    ...     def requires(self):
    ...         return Leaf()
    >>> print(discover_graph([Top()]))
    nbflow graph: 2 tasks, 0 complete, 2 to run
      to run      Top()
      to run        Leaf()
    """
    mode = current_settings().get("core", "completeness") or _NOTEBOOK_COMPLETENESS
    builder = GraphBuilder(
        FingerprintCheck(mode), RetryPolicy(), expand_complete=not stop_at_complete
    )
    roots = list(roots)
    discovery = builder.discover(roots)
    labels = {task_id: repr(task) for task_id, task in builder.tasks.items()}
    return TaskGraph(
        discovery.specs,
        labels,
        [task.task_id for task in roots],
        display=display,
        unneeded=discovery.unneeded,
    )


class TaskGraph:
    """A discovered graph: its specs, shown as a widget or as a text tree."""

    def __init__(
        self,
        specs: list[TaskSpec],
        labels: dict[str, str],
        roots: list[str],
        *,
        display: str = "text",
        unneeded: frozenset[str] = frozenset(),
    ) -> None:
        self.specs = {spec.task_id: spec for spec in specs}
        self.labels = labels
        self.roots = list(dict.fromkeys(roots))
        self.display = display
        #: incomplete tasks that only complete tasks need: a run would not run them
        self.unneeded = unneeded

    @property
    def nodes(self) -> list[DotNode]:
        """The graph as :class:`~nbflow.core.dot.DotNode` s, for GraphView and DOT."""
        return [
            DotNode(task_id, self.labels[task_id], spec_state(spec), spec.deps)
            for task_id, spec in self.specs.items()
        ]

    def to_dot(self) -> str:
        """Return the graph as Graphviz DOT text."""
        return to_dot(self.nodes)

    def problems(self) -> list[str]:
        """Return one line per task that cannot be scheduled (requires() raised...)."""
        return [
            f"{self.labels[task_id]}: {spec.broken}"
            for task_id, spec in self.specs.items()
            if spec.broken
        ]

    def to_text(self, limit: int = TEXT_LIMIT) -> str:
        """Return the graph as an indented tree, each task expanded once."""
        complete = sum(spec.complete for spec in self.specs.values())
        to_run = len(self.specs) - complete - len(self.unneeded)
        head = f"nbflow graph: {len(self.specs)} tasks, {complete} complete, {to_run} to run"
        if self.unneeded:
            head += f", {len(self.unneeded)} {UNNEEDED_WORD}"
        lines = [head]
        seen: set[str] = set()
        stack = [(task_id, 0) for task_id in reversed(self.roots)]
        while stack and len(lines) <= limit:
            task_id, depth = stack.pop()
            spec = self.specs[task_id]
            again = task_id in seen
            suffix = " (shown above)" if again and spec.deps else ""
            indent = "  " * depth
            word = (
                UNNEEDED_WORD
                if task_id in self.unneeded
                else PLAN_WORDS[spec_state(spec)]
            )
            lines.append(f"  {word:<11} {indent}{self.labels[task_id]}{suffix}")
            if again:
                continue
            seen.add(task_id)
            stack.extend((dep, depth + 1) for dep in reversed(spec.deps))
        if stack:
            lines.append(
                f"  ... more not shown (the graph has {len(self.specs)} tasks; "
                "%nbflow graph --dot prints all of it)"
            )
        lines.extend(f"  broken: {line}" for line in self.problems())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """Show a GraphView with a widget frontend, else the text tree."""
        classes = widget_classes() if self.display == "widgets" else None
        if classes is not None:
            view = classes[1](self.nodes)
            bundle: dict[str, Any] | None = view._repr_mimebundle_(**kwargs)
            return bundle
        return {"text/plain": self.to_text()}
