"""Which ready task runs where: workers, their slots, resources, batches, pausing.

:class:`Dispatcher` holds everything the scheduler needs to hand ready nodes to
workers; the scheduler itself keeps the graph and the statuses. ``dispatch`` lets each
free worker take its best eligible node from the
:class:`~nbflow.core.scheduler_queue.ReadyQueues`, parks it if one of its resources
is taken, gathers a batch of what that worker may run with it, books the slot and the
resources, and calls back the scheduler to move the nodes and emit the ``RunTask``.

Imports: stdlib, nbflow.core.{scheduler_node, scheduler_queue}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from nbflow.core.scheduler_queue import ReadyQueues

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from nbflow.core.scheduler_node import Node

    #: How the dispatcher has the scheduler start a run: (leader, worker, batch).
    Start: TypeAlias = Callable[[Node, str, tuple[str, ...]], None]


class Workers:
    """The workers a scheduler knows: their slots, what they run, which are free."""

    #: Workers asked to cancel their run (``RunCancelRequested``): no slot is free on
    #: them until they stop. Immutable and a class default, so snapshots taken before
    #: it existed still load.
    cancelling: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.slots: dict[str, int] = {}
        #: Per worker: the runs it has (a batch counts once, by its leader's id).
        self.running_on: dict[str, set[str]] = {}
        #: Workers with a free slot, in the order they became free.
        self.free: dict[str, None] = {}
        self.assistants: set[str] = set()
        #: Runs in progress, on every worker.
        self.running = 0
        #: Per worker: how many PENDING tasks it owns.
        self.pending_owned: dict[str, int] = {}

    def start(self, worker_id: str, slots: int, *, assistant: bool) -> None:
        """Register a worker, or update its slots and role."""
        self.slots[worker_id] = 0 if worker_id in self.cancelling else slots
        self.running_on.setdefault(worker_id, set())
        if assistant:
            self.assistants.add(worker_id)
        else:
            self.assistants.discard(worker_id)
        self._update_free(worker_id)

    def stop(self, worker_id: str) -> None:
        """Forget a worker's slots (its runs must have ended)."""
        self.slots.pop(worker_id, None)
        if worker_id in self.cancelling:
            self.cancelling = self.cancelling - {worker_id}
        self.free.pop(worker_id, None)
        self.assistants.discard(worker_id)

    def begin(self, worker_id: str, run_id: str) -> None:
        """Record that ``worker_id`` started the run led by ``run_id``."""
        self.running_on[worker_id].add(run_id)
        self.running += 1
        self._update_free(worker_id)

    def end(self, worker_id: str, run_id: str) -> bool:
        """Record the end of a run; False if it was not running (already ended)."""
        running = self.running_on.get(worker_id)
        if running is None or run_id not in running:
            return False
        running.discard(run_id)
        self.running -= 1
        if len(running) < self.slots.get(worker_id, 0):  # _update_free, inlined
            self.free[worker_id] = None
        return True

    def cancel(self, worker_id: str) -> bool:
        """Take every slot of a known worker until it stops; False if unknown."""
        if worker_id not in self.slots:
            return False
        self.cancelling = self.cancelling | {worker_id}
        self.slots[worker_id] = 0
        self._update_free(worker_id)
        return True

    def count_pending(self, owners: Iterable[str], delta: int) -> None:
        """Add ``delta`` to the PENDING count of every owner."""
        counts = self.pending_owned
        for worker_id in owners:
            counts[worker_id] = counts.get(worker_id, 0) + delta

    def _update_free(self, worker_id: str) -> None:
        if len(self.running_on[worker_id]) < self.slots.get(worker_id, 0):
            self.free[worker_id] = None
        else:
            self.free.pop(worker_id, None)


class Dispatcher:
    """Hand ready nodes to free workers that may run them, within resource limits."""

    def __init__(
        self, nodes: dict[str, Node], resources: Mapping[str, int] | None = None
    ) -> None:
        self._nodes = nodes
        self.ready = ReadyQueues(nodes)
        self.workers = Workers()
        #: While True, nothing is dispatched.
        self.paused = False
        self._limits = dict(resources or {})
        self._used: dict[str, int] = {}
        #: Per resource: the nodes that were ready but found it taken.
        self._parked: dict[str, list[str]] = {}

    # --- queries --------------------------------------------------------------------

    def resource_use(self) -> dict[str, tuple[int, int]]:
        """Return (used, limit) of each resource configured or in use, by name."""
        names = sorted(set(self._limits) | {n for n, u in self._used.items() if u})
        return {
            name: (self._used.get(name, 0), self._limits.get(name, 1)) for name in names
        }

    def has_work(self) -> bool:
        """Return whether a run is in progress or a node is ready."""
        return self.workers.running > 0 or self.ready.count > 0

    def has_work_for(self, worker_id: str) -> bool:
        """Return whether ``worker_id`` should keep asking for work.

        It should while it runs something, while a ready node exists that it may run,
        and while it owns a PENDING node and something runs anywhere.
        """
        workers = self.workers
        if workers.running_on.get(worker_id):
            return True
        assistant = worker_id in workers.assistants
        if self.ready.count and self.ready.has_ready_for(
            worker_id, assistant=assistant
        ):
            return True
        return workers.running > 0 and workers.pending_owned.get(worker_id, 0) > 0

    # --- dispatching ------------------------------------------------------------------

    def dispatch(self, start: Start) -> None:
        """Start ready nodes on free workers until either runs out (unless paused)."""
        free = self.workers.free
        if self.paused or not free:
            return
        ready = self.ready
        # no owned node is ready (always so when embedded; private nodes are in
        # their owners' queues only)
        if not ready.assisted and not any(ready.owned.values()):
            while free:
                node = ready.take_open()
                if node is None:
                    return
                self._place(node, next(iter(free)), start, assistant=False)
            return
        assistants = self.workers.assistants
        for worker_id in list(free):
            assistant = worker_id in assistants
            while worker_id in free:
                node = ready.take(worker_id, assistant=assistant)
                if node is None:
                    break
                self._place(node, worker_id, start, assistant=assistant)

    def _place(
        self,
        node: Node,
        worker_id: str,
        start: Start,
        *,
        assistant: bool,
    ) -> None:
        """Start ``node`` (and its batch) on ``worker_id``, or park it on a resource."""
        if node.resources:
            blocked_on = self._missing_resource(node)
            if blocked_on is not None:
                self.ready.remove(node)
                self._parked.setdefault(blocked_on, []).append(node.id)
                node.parked = True
                return
            for name, amount in node.resources.items():
                self._used[name] = self._used.get(name, 0) + amount
        batch: tuple[str, ...] = ()
        if node.batch_key is not None:
            batch = self._gather_batch(node, worker_id, assistant=assistant)
        for member_id in batch or (node.id,):
            member = self._nodes[member_id]
            self.ready.remove(member)
            member.worker = worker_id
            member.leader = node.id
        node.batch = batch
        self.workers.begin(worker_id, node.id)
        start(node, worker_id, batch)

    def _gather_batch(
        self, node: Node, worker_id: str, *, assistant: bool
    ) -> tuple[str, ...]:
        waiting = self.ready.batches.get(node.batch_key or "", {})
        members = [node.id]
        for other_id in list(waiting):
            if len(members) >= node.max_batch_size:
                break
            other = self._nodes[other_id]
            if (
                other_id != node.id
                and other.queued
                and (
                    not other.owners
                    or (assistant and not other.private)
                    or worker_id in other.owners
                )
            ):
                members.append(other_id)
        return tuple(members) if len(members) > 1 else ()

    def _missing_resource(self, node: Node) -> str | None:
        for name, amount in node.resources.items():
            if self._used.get(name, 0) + amount > self._limits.get(name, 1):
                return name
        return None

    # --- runs ending --------------------------------------------------------------------

    def end(self, node: Node) -> None:
        """Give back the slot and resources of the run ``node`` was part of."""
        leader = self._nodes.get(node.leader, node) if node.leader else node
        if self.workers.end(leader.worker or "", leader.id):
            self.give_back(dict(leader.resources))
        # else: another member of the same batch already ended it

    def decrease(self, node: Node, amounts: Iterable[tuple[str, int]]) -> None:
        """Give back part of a running node's resources."""
        give = {
            name: min(amount, node.resources.get(name, 0)) for name, amount in amounts
        }
        for name, amount in give.items():
            node.resources[name] = node.resources.get(name, 0) - amount
        self.give_back(give)

    def give_back(self, amounts: dict[str, int]) -> None:
        """Return resources; the nodes parked on them are ready again."""
        for name, amount in amounts.items():
            self._used[name] = max(0, self._used.get(name, 0) - amount)
            for parked_id in self._parked.pop(name, []):
                parked = self._nodes.get(parked_id)
                if parked is not None:
                    parked.parked = False
                    if parked.is_ready() and not parked.queued:
                        self.ready.push(parked)
