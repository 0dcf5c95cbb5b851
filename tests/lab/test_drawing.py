"""The drawing of a kernel run (nbflow.lab.drawing), from a board's run document."""

from __future__ import annotations

from typing import Any

from nbflow.core.layout import GROUP_ABOVE, GROUP_PREFIX
from nbflow.lab.drawing import DrawingCache, draw_run


def run_of(sizes: dict[str, int], state: str = "DONE") -> dict[str, Any]:
    """A run with ``sizes[family]`` tasks per family, each needing the one before."""
    tasks: dict[str, Any] = {}
    previous: str | None = None
    for family, size in sizes.items():
        for number in range(size):
            task_id = f"{family}_{number}"
            tasks[task_id] = {
                "label": f"{family}(n={number})",
                "family": family,
                "state": state,
                "deps": [previous] if previous else [],
            }
        previous = f"{family}_0"
    return {"number": 1, "tasks": tasks}


def test_a_small_run_draws_every_task_and_reuses_its_layout() -> None:
    cache = DrawingCache()
    run = run_of({"A": 2, "B": 1})

    first = draw_run(run, frozenset(), cache)
    run["tasks"]["B_0"]["state"] = "FAILED"
    second = draw_run(run, frozenset(), cache)

    assert first["node_of"] == {"A_0": "A_0", "A_1": "A_1", "B_0": "B_0"}
    assert second["svg"] == first["svg"]
    assert second["states"]["B_0"] == "FAILED"
    assert cache.made == 1


def test_a_big_run_groups_families_but_the_expanded_ones() -> None:
    run = run_of({"Big": GROUP_ABOVE, "Small": 3})
    run["tasks"]["Big_7"]["state"] = "FAILED"

    grouped = draw_run(run, frozenset(), DrawingCache())
    opened = draw_run(run, frozenset({"Small", "NotThere"}), DrawingCache())

    assert set(grouped["node_of"].values()) == {GROUP_PREFIX + "Big", "family:Small"}
    assert grouped["shares"][GROUP_PREFIX + "Big"] == {
        "DONE": GROUP_ABOVE - 1,
        "FAILED": 1,
    }
    assert grouped["states"][GROUP_PREFIX + "Big"] == "FAILED"
    assert opened["node_of"]["Small_2"] == "Small_2"
    assert opened["node_of"]["Big_0"] == GROUP_PREFIX + "Big"
    assert opened["svg"] != grouped["svg"]
