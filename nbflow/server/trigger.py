"""The trigger: fires each schedule's intervals on time, once, as ``nbflow run`` processes.

Theory of operation. One thread wakes every ``poll_interval`` seconds and calls
:meth:`Trigger.tick`, which (1) reaps finished runs, recording their exit codes, and
(2) for each schedule that is not paused, finds the cron times that came due since its
last fire and launches what its ``catch_up`` asks for:

- ``all``: every missed interval, oldest first;
- ``latest``: only the newest one (the older ones are skipped);
- ``none``: only an interval that came due while this trigger ran (after a downtime
  the missed ones are skipped; the next one fires on time).

A schedule runs at most ``max_running`` fires at once; a due fire waits for a place.
While a schedule is paused its intervals pass unfired (resuming starts from the next).

Each launch is claimed in the database first (:meth:`ScheduleStore.claim`), then
started; so a restart never fires an interval twice, and a crash between the two
loses that one fire (marked lost at the next start) rather than repeating it. The
clock is injected: tests drive ``tick`` with a fake one.

A fire runs ``python -m nbflow run --scheduler-url <this server> ... TASK
--<date_param>=<value> --<param>=<value> ...`` as a child process (the server never
imports user code), with the server's token in ``NBFLOW_TOKEN`` (not on the command
line, which other users can read), its output in a log file per fire. Its tasks show
in the visualiser and the history like any client's. Stopping the trigger stops the
runs it started (SIGTERM to each run's process group, SIGKILL after a grace period).

Threads: the trigger thread calls ``tick``; the API's threads call the rest. One lock
guards the schedules and the running children.

Imports: stdlib, nbflow.core.errors, nbflow.server.{schedules, schedule_store}.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.core.errors import NbflowError
from nbflow.server.schedule_store import Fire, ScheduleRow, ScheduleStore
from nbflow.server.schedules import Schedule, parse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from nbflow.server.store import Store

logger = logging.getLogger("nbflow.server.trigger")


class ScheduleChangeError(NbflowError):
    """An API change of the schedules that cannot be made (``status``: its HTTP code)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status, self.message = status, message

    def __str__(self) -> str:
        return self.message


# --- launching runs -------------------------------------------------------------------


class Run(Protocol):
    """A launched run: a ``subprocess.Popen`` or a test's fake."""

    pid: int

    def poll(self) -> int | None:
        """Return the exit code, or None while it runs."""

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit code."""


class Launcher(Protocol):
    """Starts the run of one fire."""

    def launch(self, schedule: Schedule, value: str, log_path: Path) -> Run:
        """Start the run; raise OSError when it cannot start."""

    def stop(self, run: Run, grace: float) -> None:
        """Stop a run that still goes on (the server stops)."""


def run_command(
    schedule: Schedule, value: str, url: str, python: str = sys.executable
) -> list[str]:
    """Return the ``nbflow run`` command line of a fire (no token: that is in the env).

    Examples
    --------
    >>> from nbflow.server.schedules import Schedule
    >>> daily = Schedule("d", "0 2 * * *", "Report", module="jobs", params=(("n", "3"),))
    >>> run_command(daily, "2024-01-01", "http://127.0.0.1:8082", "python")[5:]
    ['--no-progress', '--log-level', 'INFO', '--workers', '1', '--module', 'jobs', \
'Report', '--date=2024-01-01', '--n=3']
    """
    command = [python, "-m", "nbflow", "run", f"--scheduler-url={url}", "--no-progress"]
    command += ["--log-level", "INFO", "--workers", str(schedule.workers)]
    if schedule.executor:
        command += ["--executor", schedule.executor]
    if schedule.module:
        command += ["--module", schedule.module]
    command.append(schedule.task)
    if schedule.date_param:
        command.append(f"--{schedule.date_param.replace('_', '-')}={value}")
    command += [f"--{name.replace('_', '-')}={text}" for name, text in schedule.params]
    return command


@dataclass
class ProcessLauncher:
    """Launch fires as ``nbflow run`` processes against the server at ``url``."""

    url: str
    token: str
    python: str = sys.executable

    def launch(self, schedule: Schedule, value: str, log_path: Path) -> Run:
        """Start the run, its output appended to ``log_path``."""
        command = run_command(schedule, value, self.url, self.python)
        env = {**os.environ, "NBFLOW_TOKEN": self.token}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            return subprocess.Popen(  # noqa: S603  (a list, no shell; checked values)
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=schedule.cwd or None,
                env=env,
                start_new_session=True,  # stopped as a group, not by the server's ^C
            )

    def stop(self, run: Run, grace: float) -> None:
        """Stop the run's process group: SIGTERM, then SIGKILL after ``grace`` s."""
        if run.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.pid, signal.SIGKILL)
            run.wait(grace)


def default_log_dir() -> Path:
    """Return where fires' output goes by default: nbflow's data folder."""
    from nbflow.core.remote import data_dir  # noqa: PLC0415  (reads the environment)

    return data_dir() / "schedule-logs"


# --- the trigger ------------------------------------------------------------------------


@dataclass
class _Child:
    fire_id: int
    run: Run


class Trigger:
    """Fire schedules (see the module docstring).

    Parameters
    ----------
    store
        The schedule tables.
    launcher
        Starts each fire's run.
    schedules
        The schedules the config declares.
    clock
        Seconds since the epoch (``time.time``; tests pass a fake).
    log_dir
        Where each fire's output goes (``<log_dir>/<schedule>/<time>.log``).
    read_only
        Refuse adding and removing schedules through the API (pausing still works).
    """

    def __init__(  # noqa: PLR0913  (keyword-only options)
        self,
        store: ScheduleStore,
        launcher: Launcher,
        *,
        schedules: Iterable[Schedule] = (),
        clock: Callable[[], float] = time.time,
        log_dir: Path | None = None,
        poll_interval: float = 1.0,
        read_only: bool = False,
        stop_grace: float = 10.0,
    ) -> None:
        self.store, self.launcher, self.clock = store, launcher, clock
        self.log_dir = log_dir or default_log_dir()
        self.poll_interval, self.read_only = poll_interval, read_only
        self.stop_grace = stop_grace
        self._config = list(schedules)
        self._rows: dict[str, ScheduleRow] = {}
        self._children: dict[str, list[_Child]] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: When this trigger started: with catch_up = none, only later intervals fire.
        self.started_at = 0.0

    # --- life cycle ----------------------------------------------------------------------

    def load(self) -> None:
        """Mark fires a dead server left as lost, store the config's schedules, load all."""
        now = self.clock()
        lost = self.store.mark_lost(now)
        if lost:
            logger.warning(
                "schedules: %d fire(s) of a previous server marked lost", lost
            )
        self.store.put_config(self._config, now)
        declared = {schedule.name for schedule in self._config}
        with self._lock:
            self._rows = {
                row.schedule.name: row
                for row in self.store.rows()
                if row.schedule.source == "api" or row.schedule.name in declared
            }
            self.started_at = now

    def start(self) -> None:
        """Load, then fire in a background thread until :meth:`stop`."""
        self.load()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name="nbflow-trigger", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop firing; stop the runs still going (recorded as failed, stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        with self._lock:
            children = [(n, c) for n, cs in self._children.items() for c in cs]
        for _name, child in children:
            self.launcher.stop(child.run, self.stop_grace)
        self.reap(message="stopped with the server")

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.tick()
            except Exception:  # the loop must outlive a bad tick (a lost database)
                logger.exception("schedules: a trigger pass failed; trying again")

    # --- one pass ------------------------------------------------------------------------

    def tick(self) -> list[int]:
        """Reap finished runs, then launch the fires that are due; return their ids."""
        self.reap()
        now = self.clock()
        launched: list[int] = []
        with self._lock:
            for name in sorted(self._rows):
                launched += self._fire_due(name, now)
        return launched

    def reap(self, message: str = "") -> None:
        """Record the exit code of each run that ended."""
        with self._lock:
            for name, children in self._children.items():
                for child in list(children):
                    code = child.run.poll()
                    if code is None:
                        continue
                    children.remove(child)
                    state = "succeeded" if code == 0 else "failed"
                    self.store.update_fire(
                        child.fire_id,
                        state=state,
                        exit_code=code,
                        ended=self.clock(),
                        message=message,
                    )
                    logger.info("schedule %s: run ended with exit code %s", name, code)

    def _fire_due(self, name: str, now: float) -> list[int]:
        row = self._rows[name]
        schedule = row.schedule
        mark = row.created if row.last_fire is None else row.last_fire
        first = schedule.next_fire(mark)
        if first > now:
            return []
        if row.is_paused:
            self._skip(name, schedule.latest_fire(now))
            return []
        launched: list[int] = []
        running = self._children.setdefault(name, [])
        while first <= now and len(running) < schedule.max_running:
            target = first
            if schedule.catch_up != "all":
                target = schedule.latest_fire(now)
                if schedule.catch_up == "none" and target < self.started_at:
                    self._skip(name, target)
                    logger.info("schedule %s: missed intervals skipped", name)
                    return launched
            fire_id = self._launch(name, target, now)
            if fire_id is None:
                return launched
            launched.append(fire_id)
            first = schedule.next_fire(target)
        return launched

    def _skip(self, name: str, fire_time: float) -> None:
        """Move the schedule's last fire forward to ``fire_time`` (never back)."""
        row = self._rows[name]
        if row.last_fire is not None and row.last_fire >= fire_time:
            return
        self.store.skip_to(name, fire_time)
        self._rows[name] = replace(row, last_fire=fire_time)

    def _launch(self, name: str, fire_time: float, now: float) -> int | None:
        schedule = self._rows[name].schedule
        value = schedule.interval_value(fire_time) if schedule.date_param else ""
        stamp = datetime.fromtimestamp(fire_time, timezone.utc)
        log_path = self.log_dir / name / f"{stamp:%Y%m%dT%H%M%SZ}.log"
        claim = Fire(
            0,
            name,
            fire_time,
            value,
            "claimed",
            now,
            None,
            None,
            None,
            None,
            str(log_path),
            "",
        )
        fire_id = self.store.claim(claim)
        self._rows[name] = replace(self._rows[name], last_fire=fire_time)
        if fire_id is None:  # another trigger on this database took it
            return None
        try:
            run = self.launcher.launch(schedule, value, log_path)
        except OSError as error:
            message = f"the run could not start: {error}"
            self.store.update_fire(
                fire_id, state="not_started", ended=now, message=message
            )
            logger.error("schedule %s: %s", name, message)  # noqa: TRY400
            return fire_id
        self.store.update_fire(fire_id, state="running", started=now, pid=run.pid)
        self._children.setdefault(name, []).append(_Child(fire_id, run))
        logger.info("schedule %s: fired for %s (pid %s)", name, value or "-", run.pid)
        return fire_id

    # --- the API's view and changes ----------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Return every schedule with its next and last fire (the API's list)."""
        now = self.clock()
        last = self.store.last_fires()
        finished = self.store.last_fires(finished=True)
        with self._lock:
            return [
                self._describe(row, now, last.get(name), finished.get(name))
                for name, row in sorted(self._rows.items())
            ]

    def detail(self, name: str, limit: int = 20) -> dict[str, Any]:
        """Return one schedule with its newest fires."""
        with self._lock:
            row = self._known(name)
        fires = self.store.fires(name, limit)
        finished = self.store.last_fires(finished=True).get(name)
        newest = fires[0] if fires else None
        answer = self._describe(row, self.clock(), newest, finished)
        answer["fires"] = [fire.to_json() for fire in fires]
        return answer

    def _describe(
        self, row: ScheduleRow, now: float, last: Fire | None, finished: Fire | None
    ) -> dict[str, Any]:
        schedule = row.schedule
        mark = row.created if row.last_fire is None else row.last_fire
        following = schedule.next_fire(max(mark, now) if row.is_paused else mark)
        answer = schedule.to_json()
        answer.update(
            paused=row.is_paused,
            next_fire=following,
            next_value=schedule.interval_value(following)
            if schedule.date_param
            else "",
            last_fire=None if last is None else last.to_json(),
            last_finished=None if finished is None else finished.to_json(),
            running=len(self._children.get(schedule.name, [])),
        )
        return answer

    def add(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """Add a schedule from the API's JSON body; return its description."""
        self._check_writable("add")
        name = definition.get("name", "")
        values = {key: value for key, value in definition.items() if key != "name"}
        schedule = parse(name, values, "the schedule sent", source="api")
        now = self.clock()
        with self._lock:
            if name in self._rows or not self.store.add(schedule, now):
                raise ScheduleChangeError(
                    409,
                    f"a schedule named {name!r} exists already. Fix: choose another "
                    "name, or remove that schedule first",
                )
            self._rows[name] = ScheduleRow(schedule, None, now, None)
        logger.info("schedule %s added through the API", name)
        return self.detail(name)

    def remove(self, name: str) -> None:
        """Remove a schedule added through the API (its running fires go on)."""
        self._check_writable("remove")
        with self._lock:
            row = self._known(name)
            if row.schedule.source == "config":
                raise ScheduleChangeError(
                    409,
                    f"schedule {name!r} is declared in the server's config, so it would "
                    "come back at the next start. Fix: delete its [schedule."
                    f"{name}] section and restart the server, or pause it",
                )
            self.store.remove(name)
            del self._rows[name]

    def set_paused(self, name: str, *, paused: bool) -> dict[str, Any]:
        """Pause or resume a schedule; return its description."""
        with self._lock:
            row = self._known(name)
            if paused and not row.is_paused:  # intervals due until now pass unfired
                self._skip(name, row.schedule.latest_fire(self.clock()))
                row = self._rows[name]
            self.store.set_paused(name, paused=paused)
            self._rows[name] = replace(row, paused=paused)
        return self.detail(name)

    def _known(self, name: str) -> ScheduleRow:
        row = self._rows.get(name)
        if row is None:
            raise ScheduleChangeError(
                404,
                f"no schedule named {name!r}. Fix: see GET /api/v1/schedules for "
                "the schedules this server runs",
            )
        return row

    def _check_writable(self, verb: str) -> None:
        if self.read_only:
            raise ScheduleChangeError(
                403,
                f"this server does not let the API {verb} schedules (started with "
                "--read-only-schedules). Fix: declare schedules in the server's "
                "config, or restart it without that option",
            )


def local_url(host: str, port: int) -> str:
    """Return the URL at which runs on this machine reach a server bound to ``host``.

    Examples
    --------
    >>> local_url("0.0.0.0", 8082), local_url("::", 80), local_url("10.0.0.5", 1)
    ('http://127.0.0.1:8082', 'http://[::1]:80', 'http://10.0.0.5:1')
    """
    if host in {"", "0.0.0.0", "localhost"}:  # noqa: S104  (a comparison, not a bind)
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def make_trigger(
    store: Store,
    *,
    schedules: Iterable[Schedule],
    url: str,
    token: str,
    log_dir: str,
    read_only: bool = False,
) -> Trigger:
    """Return the trigger of a server (``nbflow server``): real processes and clock."""
    return Trigger(
        ScheduleStore(store),
        ProcessLauncher(url, token),
        schedules=schedules,
        log_dir=Path(log_dir) if log_dir else None,
        read_only=read_only,
    )


__all__ = [
    "Launcher",
    "ProcessLauncher",
    "Run",
    "ScheduleChangeError",
    "Trigger",
    "local_url",
    "make_trigger",
    "run_command",
]
