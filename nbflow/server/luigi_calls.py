"""luigid's worker calls (``add_task``, ``get_work``, ...) as the scheduler's events.

Theory of operation
-------------------
A Luigi worker talks to luigid one call at a time; nbflow's scheduler takes events.
:class:`WorkerCalls` translates, keeping the little state luigid's protocol needs that
the scheduler does not (all of it in memory: after a server restart, Luigi workers
carry on and this state refills from their next calls).

Describing tasks. Luigi adds a task *before* its requirements (``add_task`` for the
root names ids nobody has described yet), while the scheduler wants requirements first.
So each worker's descriptions wait in a buffer until every requirement they name is
described (in the buffer or known to the scheduler); the buffer is then sent as one
``TasksDiscovered(worker_id=...)``, which the scheduler wires in any order. Before the
worker asks for work (``add_worker``, ``get_work``) the buffer is sent whatever it
holds: a requirement never described becomes a placeholder that cannot run (luigid's
UNKNOWN task).

Pulling work. The scheduler pushes ``RunTask`` to workers with free slots; a Luigi
worker pulls. So a worker's slot count is kept equal to what it runs, except during its
``get_work``: that call sends ``WorkerStarted(w, slots=<running on w> + 1)``, takes the
``RunTask`` the scheduler made for ``w`` (if any), and closes the slot again when there
was none. A report that ends a run sends the smaller slot count *before* the report, so
the scheduler never hands a Luigi worker a task it did not ask for. A task the
scheduler believes runs on ``w`` but ``w`` does not list in ``current_tasks`` was never
received (a lost reply): it is sent again, as luigid does.

Batches. ``add_task_batcher`` names a family's batched parameters; tasks of that family
then get a batch key (family, other parameters, resources), and a ``RunTask`` with
members becomes luigid's batch reply (``batch_id``, ``batch_task_ids``, the batched
parameters as lists). The worker then runs one combined task, which it announces with
``add_task(status=RUNNING, batch_id=...)``; reports about that task apply to every
member.

Threads: calls come from a thread pool. A lock per worker orders a worker's own calls
(its main thread and its keep-alive thread); the shared tables are dicts changed by
single assignments.

Imports: stdlib, nbflow.core, nbflow.server.{host, luigi_arguments, luigi_views}.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.core.events import (
    DependenciesAdded,
    Notification,
    RetryPolicy,
    RunTask,
    Status,
    TaskAdded,
    TaskFailed,
    TaskHandedBack,
    TasksDiscovered,
    TaskSpec,
    TasksRemoved,
    TaskStatusChanged,
    TaskSucceeded,
    TrackingUrlSet,
    WorkerStarted,
)
from nbflow.server.luigi_arguments import (
    RpcArgumentError,
    amounts,
    mapping,
    number,
    strings,
    text,
    texts,
)
from nbflow.server.luigi_views import LuigiTask, unknown_task

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from nbflow.core.events import SchedulerEvent
    from nbflow.core.scheduler import Scheduler
    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.server.host import Reply, SchedulerHost

_RUNNING = (Status.RUNNING, Status.BATCH_RUNNING)
#: Statuses luigid counts as a worker's pending work (n_pending_tasks).
_PENDING_LIKE = (Status.PENDING, Status.FAILED, Status.UPSTREAM_FAILED)
_REPORTS = ("DONE", "FAILED", "PENDING", "SUSPENDED")
_STATUSES = frozenset({*_REPORTS, "RUNNING", "DISABLED", "UNKNOWN", "BATCH_RUNNING"})


# --- state -----------------------------------------------------------------------------


@dataclass
class _Buffer:
    """A worker's descriptions waiting for the requirements they name."""

    specs: dict[str, TaskSpec] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)


@dataclass
class _Worker:
    """What the RPC layer knows of one Luigi worker."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    buffer: _Buffer = field(default_factory=_Buffer)
    #: RunTasks received for it, by task id (leaders of batches).
    given: dict[str, RunTask] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    owned: dict[str, None] = field(default_factory=dict)
    assistant: bool = False
    disabled: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    #: The feed's seq when a get_work last found nothing (nothing new: skip the call).
    idle_at: int = -1


@dataclass(frozen=True)
class _Batch:
    batch_id: str
    leader: str
    members: tuple[str, ...]


class WorkerCalls:
    """Translate a Luigi worker's calls into host calls (see the module docstring)."""

    def __init__(
        self,
        host: SchedulerHost,
        *,
        retry: RetryPolicy | None = None,
        done_cooldown: float = 10.0,
    ) -> None:
        self.host = host
        self.retry = retry or RetryPolicy()
        self.done_cooldown = done_cooldown
        self.tasks: dict[str, LuigiTask] = {}
        self.workers: dict[str, _Worker] = {}
        self._workers_lock = threading.Lock()
        self._batchers: dict[str, tuple[tuple[str, ...], float]] = {}
        #: Combined task id (as the worker announced it) -> its batch.
        self._combined: dict[str, _Batch] = {}
        self._batches: dict[str, _Batch] = {}
        host.subscribe(self._on_notification)

    # --- bookkeeping ----------------------------------------------------------------

    def worker(self, worker_id: str) -> _Worker:
        """Return the record of ``worker_id``, making it on first sight."""
        found = self.workers.get(worker_id)
        if found is None:
            with self._workers_lock:
                found = self.workers.setdefault(worker_id, _Worker(started=time.time()))
        return found

    def _on_notification(self, note: Notification) -> None:
        """Keep luigid's times of each task (host thread)."""
        if isinstance(note, TaskAdded):
            task = self.tasks.setdefault(note.task_id, LuigiTask())
            task.added = task.updated = note.at
        elif isinstance(note, TaskStatusChanged):
            task = self.tasks.setdefault(note.task_id, LuigiTask())
            task.updated = note.at
            if note.status in _RUNNING:
                task.running_since = note.at
        elif isinstance(note, TasksRemoved):
            for task_id in note.task_ids:
                self.tasks.pop(task_id, None)

    def _call(
        self,
        worker_id: str,
        events: Sequence[SchedulerEvent],
        *,
        running: Iterable[str] | None = None,
    ) -> Reply:
        """Call the host for ``worker_id``; remember every RunTask it hands over."""
        listed = None if running is None else tuple(running)
        reply = self.host.call(worker_id, events, running=listed)
        given = self.worker(worker_id).given
        for run in reply.actions:
            given[run.task_id] = run
        return reply

    # --- add_worker, ping, batchers, messages ---------------------------------------

    def add_worker(self, worker: object, info: object = None, **_: Any) -> None:
        """Remember a worker's description (luigid's worker_list shows it)."""
        worker_id = text("add_worker", "worker", worker)
        record = self.worker(worker_id)
        if isinstance(info, list):
            pairs = [pair for pair in info if isinstance(pair, list) and len(pair) == 2]  # noqa: PLR2004
            record.info.update({str(key): value for key, value in pairs})
        elif isinstance(info, dict):
            record.info.update(info)
        with record.lock:
            self._flush(worker_id, force=True)

    def ping(self, worker: object = None, **_: Any) -> dict[str, Any]:
        """Count as the worker's heartbeat; hand over its queued RPC messages."""
        worker_id = text("ping", "worker", worker)
        record = self.worker(worker_id)
        with record.lock:
            self._call(worker_id, ())
            messages, record.messages = record.messages, []
        return {"rpc_messages": messages}

    def add_task_batcher(
        self,
        worker: object,
        task_family: object,
        batched_args: object,
        max_batch_size: object = None,
        **_: Any,
    ) -> None:
        """Remember a family's batched parameters (they batch across workers)."""
        text("add_task_batcher", "worker", worker)
        family = text("add_task_batcher", "task_family", task_family)
        names = texts("add_task_batcher", "batched_args", batched_args)
        size = math.inf
        if max_batch_size is not None:
            if isinstance(max_batch_size, bool) or not isinstance(
                max_batch_size, (int, float)
            ):
                raise RpcArgumentError(
                    "add_task_batcher", "max_batch_size", max_batch_size, "a number"
                )
            size = float(max_batch_size)
        self._batchers[family] = (names, size)

    def queue_message(self, worker_id: str, name: str, **kwargs: Any) -> None:
        """Queue an RPC message the worker receives with its next ping."""
        self.worker(worker_id).messages.append({"name": name, "kwargs": kwargs})

    def disable(self, worker_id: str) -> None:
        """Stop giving the worker work (luigid's disable_worker); it winds down."""
        record = self.worker(worker_id)
        record.disabled = True
        with record.lock:
            running = self._running_on(worker_id, ())
            self._call(worker_id, [WorkerStarted(worker_id, slots=len(running))])

    # --- add_task -------------------------------------------------------------------

    def add_task(
        self, task_id: object = None, worker: object = None, **fields: Any
    ) -> None:
        """Describe a task, or report on one the worker runs (luigid's add_task)."""
        worker_id = text("add_task", "worker", worker)
        task = text("add_task", "task_id", task_id)
        status = text("add_task", "status", fields.get("status", "PENDING"))
        if status not in _STATUSES:
            expected = "one of " + ", ".join(sorted(_STATUSES))
            raise RpcArgumentError("add_task", "status", status, expected)
        record = self.worker(worker_id)
        if record.disabled:
            return
        with record.lock:
            batch_id = fields.get("batch_id")
            if batch_id is not None and status == "RUNNING":
                self._announce_combined(task, text("add_task", "batch_id", batch_id))
            batch = self._combined.get(task)
            if batch is None:
                self._remember(task, worker_id, fields)
            leader = batch.leader if batch else task
            if status == "RUNNING":
                self._track(worker_id, leader, fields.get("tracking_url"))
                return
            if status in _REPORTS and self._runs_on(leader, worker_id):
                members = batch.members if batch else (task,)
                self._report(worker_id, leader, members, status, fields)
                return
            self._describe(worker_id, task, status, fields)

    def _remember(
        self, task_id: str, worker_id: str, fields: Mapping[str, Any]
    ) -> None:
        task = self.tasks.setdefault(task_id, LuigiTask())
        if fields.get("module") is not None:
            task.module = text("add_task", "module", fields["module"])
        if fields.get("params"):
            task.params = strings("add_task", "params", fields["params"])
        if fields.get("param_visibilities"):
            visibilities = mapping(
                "add_task", "param_visibilities", fields["param_visibilities"]
            )
            task.visibilities = {
                key: int(number("add_task", "param_visibilities", value))
                for key, value in visibilities.items()
            }
        if fields.get("resources") is not None:
            task.resources = amounts("add_task", "resources", fields["resources"])
        if not fields.get("assistant"):
            task.owners.pop(worker_id, None)
            task.owners[worker_id] = None  # last scheduled by this worker
            self.worker(worker_id).owned[task_id] = None

    def _announce_combined(self, task_id: str, batch_id: str) -> None:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise RpcArgumentError(
                "add_task", "batch_id", batch_id, "the batch_id of a get_work reply"
            )
        self._combined[task_id] = batch

    def _track(self, worker_id: str, task_id: str, url: object) -> None:
        if url is None or not self._runs_on(task_id, worker_id):
            return
        address = text("add_task", "tracking_url", url)
        self._call(worker_id, [TrackingUrlSet(task_id, address)])

    def _runs_on(self, task_id: str, worker_id: str) -> bool:
        def check(scheduler: Scheduler) -> bool:
            if task_id not in scheduler:
                return False
            info = scheduler.task_info(task_id)
            return info.status in _RUNNING and info.worker_id == worker_id

        return self.host.read(check)

    def _report(
        self,
        worker_id: str,
        leader: str,
        members: tuple[str, ...],
        status: str,
        fields: Mapping[str, Any],
    ) -> None:
        record = self.worker(worker_id)
        new_deps = texts("add_task", "new_deps", fields.get("new_deps"))
        events: list[SchedulerEvent] = []
        if new_deps:  # the dynamic requirements were described just before
            events.extend(self._take(worker_id, force=True, also=new_deps))
        others = len(self._running_on(worker_id, ()) - {leader})
        events.append(WorkerStarted(worker_id, others, assistant=record.assistant))
        if status == "DONE":
            events.extend(TaskSucceeded(member) for member in members)
        elif status == "FAILED":
            error, trace = _explanation(fields.get("expl"))
            events.extend(TaskFailed(member, error, trace) for member in members)
        elif new_deps:
            events.append(DependenciesAdded(leader, new_deps))
        else:
            events.extend(TaskHandedBack(member) for member in members)
        self._call(worker_id, events)
        record.given.pop(leader, None)

    # --- descriptions ---------------------------------------------------------------

    def _describe(
        self, worker_id: str, task_id: str, status: str, fields: Mapping[str, Any]
    ) -> None:
        spec = self._spec(task_id, status, fields)
        buffer = self.worker(worker_id).buffer
        buffer.specs[task_id] = spec
        buffer.missing.discard(task_id)
        unseen = [dep for dep in spec.deps if dep not in buffer.specs]
        if unseen:
            known = self.host.read(lambda s: {dep for dep in unseen if dep in s})
            buffer.missing.update(dep for dep in unseen if dep not in known)
        if not buffer.missing:
            self._flush(worker_id)

    def _spec(self, task_id: str, status: str, fields: Mapping[str, Any]) -> TaskSpec:
        task = self.tasks.get(task_id) or LuigiTask()
        family = text("add_task", "family", fields.get("family"), optional=True)
        public = tuple(
            (key, value)
            for key, value in task.params.items()
            if task.visibilities.get(key, 0) == 0
        )
        runnable = fields.get("runnable", True)
        error, _trace = _explanation(fields.get("expl"))
        batch_key, size = self._batch_key(family, task, fields.get("batchable"))
        return TaskSpec(
            task_id=task_id,
            family=family or unknown_task(task_id)["name"],
            params=public,
            deps=texts("add_task", "deps", fields.get("deps")),
            complete=status == "DONE",
            runnable=runnable is not False and status != "UNKNOWN",
            priority=number("add_task", "priority", fields.get("priority")),
            resources=tuple(sorted(task.resources.items())),
            retry=self._retry_policy(fields.get("retry_policy_dict")),
            batch_key=batch_key,
            max_batch_size=size,
            broken=(error or "failed") if status == "FAILED" else None,
            disabled=status == "DISABLED",
            reason="complete() raised or the task limit was reached"
            if status == "UNKNOWN"
            else "",
        )

    def _batch_key(
        self, family: str, task: LuigiTask, batchable: object
    ) -> tuple[str | None, float]:
        batcher = self._batchers.get(family)
        if batcher is None or batchable is False:
            return None, math.inf
        names, size = batcher
        fixed = sorted((k, v) for k, v in task.params.items() if k not in names)
        key = json.dumps([family, fixed, sorted(task.resources.items())])
        return key, size

    def _retry_policy(self, given: object) -> RetryPolicy:
        policy = mapping("add_task", "retry_policy_dict", given)
        default = self.retry
        count = policy.get("retry_count")
        window = policy.get("disable_window")
        timeout = policy.get("disable_hard_timeout")
        return RetryPolicy(
            retry_count=int(
                number("add_task", "retry_count", count, default.retry_count)
            ),
            retry_delay=default.retry_delay,
            disable_window=number(
                "add_task", "disable_window", window, default.disable_window
            ),
            disable_hard_timeout=default.disable_hard_timeout
            if timeout is None
            else number("add_task", "disable_hard_timeout", timeout),
        )

    def _flush(self, worker_id: str, *, force: bool = False) -> None:
        events = self._take(worker_id, force=force)
        if events:
            self._call(worker_id, events)

    def _take(
        self, worker_id: str, *, force: bool, also: Iterable[str] = ()
    ) -> list[SchedulerEvent]:
        """Empty the worker's buffer into a TasksDiscovered (placeholders if forced)."""
        buffer = self.worker(worker_id).buffer
        wanted = set(also) - set(buffer.specs)
        if wanted:
            known = self.host.read(lambda s: {dep for dep in wanted if dep in s})
            buffer.missing.update(wanted - known)
        if buffer.missing and not force:
            return []
        specs = list(buffer.specs.values())
        specs.extend(_placeholder(task_id) for task_id in sorted(buffer.missing))
        buffer.specs, buffer.missing = {}, set()
        specs = self._without_stale_pending(specs)
        return [TasksDiscovered(tuple(specs))] if specs else []

    def _without_stale_pending(self, specs: list[TaskSpec]) -> list[TaskSpec]:
        """Drop claims that a task just done is pending (luigid's done cooldown)."""
        ids = [spec.task_id for spec in specs if not spec.complete]
        if not ids or self.done_cooldown <= 0:
            return specs
        horizon = self.host.clock() - self.done_cooldown

        def recently_done(scheduler: Scheduler) -> set[str]:
            found = set()
            for task_id in ids:
                if task_id in scheduler:
                    info = scheduler.task_info(task_id)
                    if info.status is Status.DONE and info.changed_at >= horizon:
                        found.add(task_id)
            return found

        done = self.host.read(recently_done)
        return [spec for spec in specs if spec.task_id not in done]

    # --- get_work -------------------------------------------------------------------

    def get_work(
        self,
        worker: object = None,
        host: object = None,
        assistant: object = False,
        current_tasks: object = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Give the worker one task to run, if the scheduler has one for it."""
        worker_id = text("get_work", "worker", worker)
        text("get_work", "host", host, optional=True)
        listed = {
            self._leader(t) for t in texts("get_work", "current_tasks", current_tasks)
        }
        record = self.worker(worker_id)
        record.assistant = bool(assistant)
        if record.disabled:
            return {
                **self.counts(worker_id),
                "task_id": None,
                "worker_state": "disabled",
            }
        with record.lock:
            run = self._next_run(worker_id, listed)
        reply = self.counts(worker_id) if run is None else _no_counts()
        reply.update(self._work(run))
        return reply

    def _leader(self, task_id: str) -> str:
        batch = self._combined.get(task_id)
        return batch.leader if batch else task_id

    def _next_run(self, worker_id: str, listed: set[str]) -> RunTask | None:
        record = self.worker(worker_id)
        events = self._take(worker_id, force=True)
        running = self._running_on(worker_id, listed)
        unsent = [record.given[t] for t in running - listed if t in record.given]
        if unsent or (not events and record.idle_at == self.host.feed.last):
            if events:
                self._call(worker_id, events)
            return unsent[0] if unsent else None
        slots = len(running)
        events.append(WorkerStarted(worker_id, slots + 1, assistant=record.assistant))
        reply = self._call(worker_id, events, running=listed)
        run = next(iter(reply.actions), None)
        if run is None:
            closing = WorkerStarted(worker_id, slots, assistant=record.assistant)
            reply = self._call(worker_id, [closing])
            run = next(iter(reply.actions), None)
            record.idle_at = self.host.feed.last if run is None else -1
        return run

    def _running_on(self, worker_id: str, listed: Iterable[str]) -> set[str]:
        """Return the tasks the scheduler has running on the worker, among candidates."""
        record = self.worker(worker_id)
        candidates = set(record.given) | set(listed)

        def running(scheduler: Scheduler) -> set[str]:
            found = set()
            for task_id in candidates:
                if task_id in scheduler:
                    info = scheduler.task_info(task_id)
                    if info.status in _RUNNING and info.worker_id == worker_id:
                        found.add(task_id)
            return found

        found = self.host.read(running)
        for task_id in candidates - found:
            record.given.pop(task_id, None)
        return found

    def _work(self, run: RunTask | None) -> dict[str, Any]:
        if run is None:
            return {"task_id": None}
        members = run.batch or (run.task_id,)
        infos = self.host.read(lambda s: [s.task_info(m) for m in members if m in s])
        leader = infos[0] if infos else None
        task = self.tasks.get(run.task_id) or LuigiTask()
        params: dict[str, Any] = dict(task.params or (leader.params if leader else ()))
        reply: dict[str, Any] = {
            "task_id": run.task_id,
            "task_family": leader.family if leader else "",
            "task_module": task.module,
            "task_params": params,
        }
        if len(members) > 1:
            batch = self._batch(run)
            names = self._batchers.get(reply["task_family"], ((), 0))[0]
            for name in names:
                params[name] = [self._param(m, name) for m in members]
            reply.update(
                task_id=None, batch_id=batch.batch_id, batch_task_ids=list(members)
            )
        return reply

    def _param(self, task_id: str, name: str) -> str:
        task = self.tasks.get(task_id)
        return task.params.get(name, "") if task else ""

    def _batch(self, run: RunTask) -> _Batch:
        digest = hashlib.sha256("|".join(run.batch).encode()).hexdigest()[:32]
        batch = self._batches.get(digest)
        if batch is None:
            batch = _Batch(digest, run.task_id, run.batch)
            self._batches[digest] = batch
        return batch

    # --- counts ---------------------------------------------------------------------

    def counts(self, worker_id: str) -> dict[str, Any]:
        """Return luigid's count_pending for the worker (what keep-alive reads)."""
        record = self.worker(worker_id)
        owned = list(record.owned)
        tasks = self.tasks

        def count(scheduler: Scheduler) -> tuple[int, int, int, list[TaskInfo]]:
            pending = unique = last = 0
            running: list[TaskInfo] = []
            for task_id in owned:
                if task_id not in scheduler:
                    continue
                info = scheduler.task_info(task_id)
                if info.status in _PENDING_LIKE:
                    owners = tasks[task_id].owners if task_id in tasks else {}
                    pending += 1
                    unique += len(owners) == 1
                    last += next(reversed(owners), None) == worker_id
                elif info.status in _RUNNING:
                    running.append(info)
            return pending, unique, last, running

        pending, unique, last, running = self.host.read(count)
        return {
            "n_pending_tasks": pending,
            "n_unique_pending": unique,
            "n_pending_last_scheduled": last,
            "worker_state": "active",
            "running_tasks": [
                {"task_id": info.task_id, "worker": info.worker_id} for info in running
            ],
        }


def _no_counts() -> dict[str, Any]:
    """Return the counts sent with a task (Luigi only logs them then)."""
    return {
        "n_pending_tasks": 1,
        "n_unique_pending": 0,
        "n_pending_last_scheduled": 0,
        "worker_state": "active",
        "running_tasks": [],
    }


def _placeholder(task_id: str) -> TaskSpec:
    return TaskSpec(
        task_id=task_id,
        family=unknown_task(task_id)["name"],
        runnable=False,
        reason="a requirement its Luigi worker never described",
    )


def _explanation(expl: object) -> tuple[str, str]:
    """Return (error, traceback) from luigid's ``expl`` (JSON text of on_failure())."""
    if expl is None:
        return "", ""
    raw = expl if isinstance(expl, str) else json.dumps(expl)
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = raw
    full = decoded if isinstance(decoded, str) else json.dumps(decoded)
    lines = [line for line in full.strip().splitlines() if line.strip()]
    return (lines[-1].strip() if lines else ""), full


__all__ = [
    "RpcArgumentError",
    "WorkerCalls",
    "amounts",
    "mapping",
    "number",
    "text",
    "texts",
]
