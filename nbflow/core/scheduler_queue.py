"""Where ready tasks wait for a worker: one queue per eligibility, lazily cleaned.

A ready node with no owners waits in the *open* queue, which every worker takes from.
A ready node with owners waits in the queue of each owner, and in the *assisted*
queue that assistants take from. A node leaves a queue lazily: taking it (or parking
it, or its going UPSTREAM_*) only clears ``node.queued``; entries whose node is no
longer queued, or no longer eligible for that queue, are dropped when they reach the
head. So pushing and taking cost O(log p) (p: distinct priorities), never a scan.

A queue nobody takes from (the queue of a worker that left, the assisted queue with
no assistant) would keep its stale entries: it is compacted when it holds more than
twice as many entries as there are ready nodes, which keeps the cost amortised O(1)
per push.

Imports: stdlib, nbflow.core.scheduler_node.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.scheduler_node import Node

#: A queue holding more stale entries than this is never compacted.
_SLACK = 64


class ReadyQueue:
    """Ready task ids by priority, highest first, first-in first-out within a priority.

    Pushing and popping are O(1) while there is one priority level (the usual case) and
    O(log p) with p distinct levels. Entries may go stale (a task whose priority was
    raised is pushed again); the scheduler skips tasks no longer queued when it pops.

    Examples
    --------
    >>> queue = ReadyQueue()
    >>> for priority, task_id in [(0, "a"), (5, "b"), (0, "c")]:
    ...     queue.push(priority, task_id)
    >>> queue.peek()
    'b'
    >>> [queue.pop(), queue.pop(), queue.pop(), queue.pop()]
    ['b', 'a', 'c', None]
    """

    def __init__(self) -> None:
        self._buckets: dict[float, deque[str]] = {}
        self._levels: list[float] = []  # a heap of negated priorities
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, priority: float, task_id: str) -> None:
        """Add ``task_id`` behind the others of the same priority."""
        bucket = self._buckets.get(priority)
        if bucket is None:
            bucket = self._buckets[priority] = deque()
            heapq.heappush(self._levels, -priority)
        bucket.append(task_id)
        self._size += 1

    def pop(self) -> str | None:
        """Remove and return the first id of the highest priority, or None if empty."""
        while self._levels:
            priority = -self._levels[0]
            bucket = self._buckets[priority]
            if bucket:
                self._size -= 1
                return bucket.popleft()
            heapq.heappop(self._levels)
            del self._buckets[priority]
        return None

    def peek(self) -> str | None:
        """Return the id ``pop`` would return, without removing it."""
        while self._levels:
            bucket = self._buckets[-self._levels[0]]
            if bucket:
                return bucket[0]
            del self._buckets[-heapq.heappop(self._levels)]
        return None

    def compact(self, keep: Callable[[float, str], bool]) -> None:
        """Drop every entry ``(priority, task_id)`` for which ``keep`` is false."""
        for priority, bucket in list(self._buckets.items()):
            kept = deque(task_id for task_id in bucket if keep(priority, task_id))
            self._size -= len(bucket) - len(kept)
            self._buckets[priority] = kept


class ReadyQueues:
    """Every ready node, reachable from the queues of the workers that may run it.

    The scheduler calls :meth:`push` when a node becomes ready, :meth:`remove` when it
    stops being ready, and :meth:`take` (or :meth:`take_open` when no owned node is
    ready) to find a worker's next task.
    """

    def __init__(self, nodes: dict[str, Node]) -> None:
        self._nodes = nodes
        #: Ready nodes with no owners: anyone may run them.
        self.open = ReadyQueue()
        #: Per worker: the ready nodes it owns.
        self.owned: dict[str, ReadyQueue] = {}
        #: Every ready node with owners: what assistants may run besides open ones.
        self.assisted = ReadyQueue()
        #: How many nodes are queued (``node.queued``).
        self.count = 0
        #: Per batch key: its queued nodes, in the order they became ready.
        self.batches: dict[str, dict[str, None]] = {}

    # --- in and out -----------------------------------------------------------------

    def push(self, node: Node) -> None:
        """Queue a node that just became ready (and is not queued yet)."""
        node.queued = True
        self.count += 1
        if node.owners:
            self.enqueue(node)
        else:
            self.open.push(node.priority, node.id)
        if node.batch_key is not None:
            self.batches.setdefault(node.batch_key, {})[node.id] = None

    def enqueue(self, node: Node) -> None:
        """Push a queued node's entries again (its priority or owners changed)."""
        if not node.owners:
            self.open.push(node.priority, node.id)
            return
        for worker_id in node.owners:
            queue = self.owned.get(worker_id)
            if queue is None:
                queue = self.owned[worker_id] = ReadyQueue()
            self._push_owned(queue, node, worker_id)
        if not node.private:  # an assistant could not build it
            self._push_owned(self.assisted, node, "")

    def remove(self, node: Node) -> None:
        """Mark a node no longer ready; its queue entries go stale."""
        if node.queued:
            node.queued = False
            self.count -= 1
        if node.batch_key is not None:
            self.batches.get(node.batch_key, {}).pop(node.id, None)

    def add_owner(self, node: Node, worker_id: str) -> None:
        """Make ``worker_id`` an owner of ``node`` (and able to take it if queued)."""
        if not node.owners:
            node.owners = {worker_id}
        else:
            node.owners.add(worker_id)
        if node.queued:
            self.enqueue(node)

    # --- taking -----------------------------------------------------------------------

    def take_open(self) -> Node | None:
        """Pop the best open node (the only kind when no owned node is ready)."""
        queue, nodes = self.open, self._nodes
        while queue:
            node = nodes.get(queue.pop() or "")
            if node is not None and node.queued and not node.owners:
                return node
        return None

    def take(self, worker_id: str, *, assistant: bool) -> Node | None:
        """Pop the best node ``worker_id`` may run: highest priority, then oldest."""
        best: Node | None = None
        best_queue = self.open
        for queue, owner in self._candidates(worker_id, assistant=assistant):
            node = self._head(queue, owner)
            if node is not None and (
                best is None
                or node.priority > best.priority
                or (node.priority == best.priority and node.order < best.order)
            ):
                best, best_queue = node, queue
        if best is not None:
            best_queue.pop()
        return best

    def has_ready_for(self, worker_id: str, *, assistant: bool) -> bool:
        """Return whether a ready node exists that ``worker_id`` may run."""
        return any(
            self._head(queue, owner) is not None
            for queue, owner in self._candidates(worker_id, assistant=assistant)
        )

    def _candidates(
        self, worker_id: str, *, assistant: bool
    ) -> list[tuple[ReadyQueue, str | None]]:
        """Return the queues ``worker_id`` takes from, each with the owner it checks."""
        found: list[tuple[ReadyQueue, str | None]] = [(self.open, None)]
        own = self.owned.get(worker_id)
        if own is not None:
            found.append((own, worker_id))
        if assistant:
            found.append((self.assisted, ""))
        return found

    def _head(self, queue: ReadyQueue, owner: str | None) -> Node | None:
        """Return the queue's first valid node, dropping stale entries before it."""
        while True:
            task_id = queue.peek()
            if task_id is None:
                return None
            node = self._nodes.get(task_id)
            if node is not None and self._belongs(node, owner):
                return node
            queue.pop()

    @staticmethod
    def _belongs(node: Node, owner: str | None) -> bool:
        """Return whether a queued entry for ``node`` is live in a queue of ``owner``.

        ``owner`` is None for the open queue, "" for the assisted queue, else the
        worker whose queue it is.
        """
        if not node.queued:
            return False
        if owner is None:
            return not node.owners
        return bool(node.owners) and (owner == "" or owner in node.owners)

    def _push_owned(self, queue: ReadyQueue, node: Node, owner: str) -> None:
        queue.push(node.priority, node.id)
        if len(queue) > 2 * self.count + _SLACK:
            seen: set[str] = set()

            def keep(priority: float, task_id: str) -> bool:
                live = self._nodes.get(task_id)
                if live is None or task_id in seen or live.priority != priority:
                    return False
                seen.add(task_id)
                return self._belongs(live, owner)

            queue.compact(keep)
