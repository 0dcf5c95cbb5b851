"""No-op task graphs, defined once and built under nbflow or Luigi.

Each factory takes the library module ``lib`` (``nbflow`` or ``luigi``) and a size,
defines its Task classes with ``lib.Task`` / ``lib.IntParameter`` inside the call (so
each library gets its own classes) and returns the root task(s) as a list.

Tasks declare no outputs and their ``run()`` only notes, in memory, that the task ran:
``complete()`` is False until then. The note is needed for a like-for-like comparison:
Luigi re-checks a task's requirements just before running it and fails the task with
"Unfulfilled dependencies at run time" when a requirement is still incomplete, so with a
plain ``complete() -> False`` every Luigi task above the leaves would fail and never run
(nbflow asks once per build and would run them all). In ``all_complete`` every output
already exists on disk and nothing runs.

Imports: stdlib only; the library under test is passed in.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: Width of each layer in the layered-diamonds graph.
DIAMOND_WIDTH = 50


def noop_base(lib: Any) -> Any:
    """Return a Task base with no outputs, complete only once its no-op run() happened."""
    ran: set[str] = set()

    class NoopTask(lib.Task):
        def complete(self):
            return self.task_id in ran

        def run(self):
            ran.add(self.task_id)

    return NoopTask


def fan_in(lib: Any, size: int) -> list[Any]:
    """Return one root requiring ``size`` independent leaves (``size + 1`` tasks)."""
    noop = noop_base(lib)

    class FanLeaf(noop):
        index = lib.IntParameter()

    class FanRoot(noop):
        size = lib.IntParameter()

        def requires(self):
            return [FanLeaf(index=i) for i in range(self.size)]

    return [FanRoot(size=size)]


def _chain_classes(lib: Any, *, failing: bool) -> Any:
    noop = noop_base(lib)

    class ChainLink(noop):
        index = lib.IntParameter()

        def requires(self):
            return [ChainLink(index=self.index - 1)] if self.index > 0 else []

        def run(self):
            if failing and self.index == 0:
                msg = "the deepest link fails on purpose"
                raise RuntimeError(msg)
            super().run()

    return ChainLink


def chain(lib: Any, size: int) -> list[Any]:
    """Return the head of a chain ``size`` deep: task i requires task i-1."""
    link = _chain_classes(lib, failing=False)
    return [link(index=size - 1)]


def chain_failing(lib: Any, size: int) -> list[Any]:
    """Return a chain ``size`` deep whose deepest requirement raises in ``run()``.

    The failure must block every other task, and a deep graph must not overflow
    the Python stack (no RecursionError).
    """
    link = _chain_classes(lib, failing=True)
    return [link(index=size - 1)]


def diamonds(lib: Any, size: int) -> list[Any]:
    """Return layers of ``DIAMOND_WIDTH`` tasks, each requiring 2 of the layer below.

    Task (layer, i) requires (layer - 1, i) and (layer - 1, (i + 1) % width), so the
    graph is a lattice of overlapping diamonds: every task is reached through several
    paths and must be deduplicated. The roots are the top layer.
    """
    width = DIAMOND_WIDTH
    noop = noop_base(lib)

    class DiamondNode(noop):
        layer = lib.IntParameter()
        position = lib.IntParameter()

        def requires(self):
            if self.layer == 0:
                return []
            below = self.layer - 1
            return [
                DiamondNode(layer=below, position=self.position),
                DiamondNode(layer=below, position=(self.position + 1) % width),
            ]

    top = _diamond_layers(size) - 1
    return [DiamondNode(layer=top, position=i) for i in range(width)]


def _diamond_layers(size: int) -> int:
    return max(1, size // DIAMOND_WIDTH)


def all_complete(lib: Any, size: int) -> list[Any]:
    """Return ``size`` roots whose LocalTarget outputs already exist.

    Measures the "everything is already done" check: nothing should run.
    The files live in a temporary directory removed at interpreter exit.
    """
    directory = Path(tempfile.mkdtemp(prefix="nbflow-bench-"))
    _register_cleanup(directory)
    for i in range(size):
        (directory / f"{i}.txt").touch()
    prefix = f"{directory}{os.sep}"  # plain strings: keep the graph's own cost out

    class DoneTask(lib.Task):
        index = lib.IntParameter()

        def output(self):
            return lib.LocalTarget(f"{prefix}{self.index}.txt")

        def run(self):
            msg = "an already-complete task was run"
            raise RuntimeError(msg)

    return [DoneTask(index=i) for i in range(size)]


def _register_cleanup(directory: Path) -> None:
    import atexit
    import shutil

    atexit.register(shutil.rmtree, directory, ignore_errors=True)


@dataclass(frozen=True)
class GraphShape:
    """A graph factory, its task count and whether building it should succeed."""

    #: ``factory(lib, size)`` returns the root task(s).
    factory: Callable[[Any, int], list[Any]]
    #: ``count(size)`` is the number of distinct tasks in the graph.
    count: Callable[[int], int]
    #: What ``build()`` should return: True unless the graph fails on purpose.
    expect_success: bool = True
    #: One-line description for the README and --help.
    summary: str = ""


GRAPHS: dict[str, GraphShape] = {
    "fan-in": GraphShape(
        fan_in, lambda n: n + 1, summary="one root requiring N leaves"
    ),
    "chain": GraphShape(chain, lambda n: n, summary="task i requires task i-1, N deep"),
    "chain-fail": GraphShape(
        chain_failing,
        lambda n: n,
        expect_success=False,
        summary="chain N deep whose deepest task raises in run()",
    ),
    "diamonds": GraphShape(
        diamonds,
        lambda n: _diamond_layers(n) * DIAMOND_WIDTH,
        summary=f"layers of width {DIAMOND_WIDTH}, each task requires 2 below",
    ),
    "all-complete": GraphShape(
        all_complete,
        lambda n: n,
        summary="N roots whose LocalTarget outputs already exist",
    ),
}
