"""Unit tests of the ready queues: priority order, eligibility, lazy deletion."""

from __future__ import annotations

from nbflow.core.scheduler_node import Node
from nbflow.core.scheduler_queue import ReadyQueue, ReadyQueues
from tests.builders import spec


def nodes_of(*task_ids: str, **priorities: float) -> dict[str, Node]:
    """Return nodes in discovery order, with the given priorities."""
    return {
        task_id: Node(spec(task_id, priority=priorities.get(task_id, 0)), order, 0.0)
        for order, task_id in enumerate(task_ids)
    }


def test_ready_queue_peek_shows_what_pop_takes() -> None:
    queue = ReadyQueue()
    queue.push(0, "a")
    queue.push(3, "b")

    assert queue.peek() == "b"
    assert queue.pop() == "b"
    assert queue.peek() == "a"
    assert queue.pop() == "a"
    assert queue.peek() is None
    assert len(queue) == 0


def test_ready_queue_compact_keeps_order_of_what_it_keeps() -> None:
    queue = ReadyQueue()
    for task_id in "abcde":
        queue.push(0, task_id)

    queue.compact(lambda _priority, task_id: task_id in {"b", "d", "e"})

    assert len(queue) == 3
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == ["b", "d", "e", None]


def test_ready_queues_open_node_goes_to_any_worker() -> None:
    nodes = nodes_of("a")
    ready = ReadyQueues(nodes)

    ready.push(nodes["a"])

    assert ready.has_ready_for("anyone", assistant=False)
    assert ready.take("anyone", assistant=False) is nodes["a"]


def test_ready_queues_owned_node_goes_to_owner_or_assistant_only() -> None:
    nodes = nodes_of("a")
    nodes["a"].owners = {"w"}
    ready = ReadyQueues(nodes)

    ready.push(nodes["a"])

    assert not ready.has_ready_for("other", assistant=False)
    assert ready.take("other", assistant=False) is None
    assert ready.has_ready_for("helper", assistant=True)
    assert ready.has_ready_for("w", assistant=False)
    assert ready.take("w", assistant=False) is nodes["a"]


def test_ready_queues_take_prefers_priority_then_discovery_order() -> None:
    nodes = nodes_of("old", "new", "urgent", urgent=5)
    nodes["new"].owners = {"w"}
    ready = ReadyQueues(nodes)
    for task_id in ("new", "old", "urgent"):
        ready.push(nodes[task_id])

    taken = []
    while (node := ready.take("w", assistant=False)) is not None:
        ready.remove(node)
        taken.append(node.id)

    assert taken == ["urgent", "old", "new"]


def test_ready_queues_removed_node_is_skipped_lazily() -> None:
    nodes = nodes_of("a", "b")
    ready = ReadyQueues(nodes)
    ready.push(nodes["a"])
    ready.push(nodes["b"])

    ready.remove(nodes["a"])

    assert ready.count == 1
    assert ready.take_open() is nodes["b"]


def test_ready_queues_add_owner_moves_an_open_node_to_its_owner() -> None:
    nodes = nodes_of("a")
    ready = ReadyQueues(nodes)
    ready.push(nodes["a"])

    ready.add_owner(nodes["a"], "w")

    assert ready.take_open() is None
    assert ready.take("v", assistant=False) is None
    assert ready.take("w", assistant=False) is nodes["a"]


def test_ready_queues_queue_nobody_takes_from_stays_bounded() -> None:
    nodes = nodes_of(*(f"t{i}" for i in range(1_000)))
    ready = ReadyQueues(nodes)
    longest = 0

    for node in nodes.values():  # owned by "w", always taken by "w": the assisted
        ready.add_owner(node, "w")  # queue is never popped
        ready.push(node)
        taken = ready.take("w", assistant=False)
        assert taken is node
        ready.remove(node)
        longest = max(longest, len(ready.assisted))

    assert longest < 100  # of 1,000 stale entries
    assert ready.take("helper", assistant=True) is None
