"""The pure scheduler behind nbflow server's host, for the core's scheduler tests.

:class:`HostedScheduler` offers what the scheduler tests use of a
:class:`~nbflow.core.scheduler.Scheduler` (``handle`` and the queries), but every call
goes through a :class:`~nbflow.server.host.SchedulerHost`: its thread, its event log,
and in "restarted" mode a restart from that log before every ``handle`` (alternately
from a snapshot plus the log, and from the log alone, as after kill -9). A scheduler
test that passes in every mode shows the server's scheduler is the embedded one, and
that its durable state brings it back exactly.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from nbflow.core.scheduler import Scheduler
from nbflow.server.host import MemoryEventLog, SchedulerHost

if TYPE_CHECKING:
    from nbflow.core.events import Action, SchedulerEvent

#: "embedded", "hosted" or "restarted" (set by tests/core/conftest.py).
KINDS = ("embedded", "hosted", "restarted")
_kind = ["embedded"]
_hosts: list[SchedulerHost] = []


def use(kind: str) -> None:
    """Make :func:`make_scheduler` return schedulers of ``kind``."""
    _kind[0] = kind


def stop_all() -> None:
    """Stop every host made since the last call."""
    while _hosts:
        _hosts.pop().stop(snapshot=False)


def make_scheduler(**options: Any) -> Any:
    """Return a scheduler of the current kind, made with ``options``."""
    if _kind[0] == "embedded":
        return Scheduler(**options)
    return HostedScheduler(restart=_kind[0] == "restarted", **options)


class HostedScheduler:
    """A Scheduler's calls, carried out by a SchedulerHost (see the module doc)."""

    def __init__(self, *, restart: bool = False, **options: Any) -> None:
        self._options = options
        self._restart = restart
        self._log = MemoryEventLog()
        self._snapshots = itertools.cycle((True, False))
        self._host = self._start()

    def _start(self) -> SchedulerHost:
        host = SchedulerHost(self._log, timers=False, **self._options)
        host.start()
        _hosts.append(host)
        return host

    def handle(self, *events: SchedulerEvent) -> list[Action]:
        """Apply ``events`` through the host; return every action they made."""
        if self._restart and self._log.events:
            self._host.stop(snapshot=next(self._snapshots))
            self._host = self._start()
        return list(self._host.call(None, list(events), echo=True).applied)

    def __contains__(self, task_id: object) -> bool:
        return self._host.read(lambda s: task_id in s)

    def __len__(self) -> int:
        return self._host.read(len)

    def __getattr__(self, name: str) -> Any:
        value = self._host.read(lambda s: getattr(s, name))
        if not callable(value):
            return value

        def on_host(*args: Any, **kwargs: Any) -> Any:
            return self._host.read(lambda s: getattr(s, name)(*args, **kwargs))

        return on_host
