"""nbflow's own client of ``nbflow server``: :class:`ServerScheduler`.

:class:`ServerScheduler` offers the :class:`~nbflow.core.scheduler.SchedulerAPI` (the
same ``handle(*events) -> actions`` as the embedded scheduler) over the server's JSON
API, so :class:`~nbflow.core.worker.Worker` drives a central scheduler as it drives its
own. Each ``handle`` is one call, ``POST /api/v1/workers/{worker_id}/calls``, carrying
the events (:mod:`nbflow.core.wire`), the task ids the worker runs now (``running``:
its heartbeat) and the seq of the last notification it saw (``since``); the answer
brings the ``RunTask`` s for this worker and the notifications about its tasks, which
``handle`` returns as ``Notify`` actions, as the embedded scheduler does.

Losing the server (a restart, a network blip): a call that cannot get through is tried
again with exponential backoff, with the same events in the same order, until the
server answers or ``[scheduler] reconnect_timeout`` seconds (600) have passed (for a
server never reached yet, ``[core] rpc_connect_timeout``, 10 s: a wrong url or a server
not started is said at once); then
:class:`SchedulerUnreachableError` names the url. Running tasks go on meanwhile (they
run on the executor; their results wait in the worker's inbox and are reported once
the server is back). Sending a call twice is harmless: the server drops reports about
tasks the worker no longer runs, and adding a known task again changes nothing. When
the server no longer knows the worker (it restarted, or declared the worker gone), the
client announces it again with its last ``WorkerStarted``.

Task logs: :meth:`ServerScheduler.add_log` takes a running task's log deltas
(:mod:`nbflow.core.capture`); they wait, joined per task and bounded like the log
itself (``[worker] log_max_bytes``), for the next call, whose body carries them as
``logs``: ``[{task_id, offset, text}]``. No call is made for them: the worker's own
calls and the heartbeat carry them within about a second, and a run's last delta goes
in the call that reports its end (or one before). A server that does not know the field
(an older one) is told no more logs.

A heartbeat thread calls every ``[worker] ping_interval`` seconds (1) when nothing
else did, so a long task run in the worker's own thread does not look like a dead
worker. What that call brings back waits for the next ``handle``.

The token comes from the ``token`` argument, the url's password
(``http://user:TOKEN@host:port``, Luigi's form), ``NBFLOW_TOKEN``, or the config
(``[core] scheduler_token``, else ``[scheduler] token``), in that order, and travels
as ``Authorization: Bearer``.

Threads: calls are serialised by one lock (the worker's thread and the heartbeat
thread), so events reach the server in the order they were handed in.

Imports: stdlib (urllib, only when a call is made), nbflow.core.{capture, config,
errors, events, scheduler_node, wire}.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.parse
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core import wire
from nbflow.core.capture import LOG_MAX_BYTES
from nbflow.core.config import current_settings
from nbflow.core.errors import NbflowError, SchedulerError
from nbflow.core.events import (
    DependenciesAdded,
    Notify,
    RunBegan,
    RunFinished,
    RunStarted,
    RunTask,
    TaskAdded,
    TaskFailed,
    TaskHandedBack,
    TasksDiscovered,
    TaskSucceeded,
    WorkerStarted,
    WorkerStopped,
)
from nbflow.core.registry import REGISTRY
from nbflow.core.rpc import SchedulerUrlError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from nbflow.core.capture import LogDelta
    from nbflow.core.config import Settings
    from nbflow.core.events import Action, Notification, SchedulerEvent, Status
    from nbflow.core.scheduler_node import TaskInfo
    from nbflow.core.task import Task

logger = logging.getLogger(__name__)

#: HTTP statuses from this one up mean "the server is in trouble": tried again.
_RETRIED_STATUS = 500
#: What a request on a kept-alive connection the server has closed raises.
_STALE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, EOFError)
#: HTTP statuses from this one up are errors.
_HTTP_ERROR = 400
#: The longest pause between two attempts to reach a lost server.
_MAX_BACKOFF = 5.0
#: Up to this many tasks, tasks() asks for each; beyond, it pages through the list.
_FEW = 50
#: The server answers a long poll after at most this many seconds.
MAX_WAIT = 30.0
#: Characters of task logs one call carries at most (the rest go with the next).
LOGS_PER_CALL = 4 * 1024 * 1024


class SchedulerUnreachableError(SchedulerError, ConnectionError):
    """The scheduler server could not be reached for longer than the client waits."""

    def __init__(self, url: str, seconds: float, cause: str) -> None:
        super().__init__(url, seconds, cause)
        self.url, self.seconds, self.cause = url, seconds, cause

    def __str__(self) -> str:
        return (
            f"nbflow scheduler {self.url}: unreachable for {self.seconds:.0f} s (last "
            f"error: {self.cause}). Expected an `nbflow server` answering there. Fix: "
            "start the server (nbflow server --port ...) or correct --scheduler-url; "
            "[core] rpc_connect_timeout sets how long to try a server not reached yet, "
            "[scheduler] reconnect_timeout how long to wait for one that was lost."
        )


class SchedulerRequestError(SchedulerError):
    """The scheduler server refused a call (a 4xx answer: bad token, bad request)."""

    def __init__(self, url: str, status: int, message: str) -> None:
        super().__init__(url, status, message)
        self.url, self.status, self.message = url, status, message

    def __str__(self) -> str:
        if self.status in {401, 403}:
            fix = (
                "pass the server's token: --scheduler-token T, NBFLOW_TOKEN, "
                "[scheduler] token, or the url http://user:T@host:port"
            )
        else:
            fix = "check that client and server run the same nbflow version"
        return (
            f"nbflow scheduler {self.url}: the server refused the call (HTTP "
            f"{self.status}: {self.message}). Expected it accepted. Fix: {fix}."
        )


class RemoteTaskError(SchedulerError):
    """A task the server asked this worker to run cannot be built here."""

    def __init__(self, task_id: str, family: str, problem: str) -> None:
        super().__init__(task_id, family, problem)
        self.task_id, self.family, self.problem = task_id, family, problem

    def __str__(self) -> str:
        return (
            f"nbflow worker: cannot run {self.task_id} here ({self.problem}). Expected "
            f"task family {self.family!r} importable by this worker, giving the same "
            "task id. Fix: start the worker with the module defining it (nbflow "
            "worker --module ...), at the same version as the client that added it."
        )


def split_token(url: str) -> tuple[str, str | None]:
    """Return ``url`` without user info, and the password in it (the token), if any.

    Examples
    --------
    >>> split_token("http://luigi:s3cret@example:8082/")
    ('http://example:8082', 's3cret')
    >>> split_token("http://example:8082")
    ('http://example:8082', None)
    """
    parts = urllib.parse.urlsplit(url)
    token = urllib.parse.unquote(parts.password) if parts.password else None
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return bare.rstrip("/"), token


#: The file ``nbflow server`` keeps a token it generated in, in :func:`data_dir`.
TOKEN_FILE_NAME = "server-token"  # noqa: S105  (a file name, not a secret)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return nbflow's per-user data folder (``$XDG_DATA_HOME/nbflow``)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nbflow"


def find_token(url: str, token: str | None, settings: Settings) -> str | None:
    """Return the token for ``url``.

    In order: given, in the url, ``NBFLOW_TOKEN``, configured, or, for a server on
    this machine, the token a local ``nbflow server`` generated (its token file,
    when only this user can read it), so local runs need no token at all.
    """
    return (
        token
        or split_token(url)[1]
        or os.environ.get("NBFLOW_TOKEN")
        or settings.get("core", "scheduler_token")
        or settings.get("scheduler", "token")
        or _local_token(url)
    )


def _local_token(url: str) -> str | None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in {"localhost", "127.0.0.1", "::1"}:
        return None
    path = data_dir() / TOKEN_FILE_NAME
    try:
        info = path.stat()
        if info.st_mode & 0o077 or info.st_uid != os.getuid():
            return None  # others could have written it
        lines = path.read_text(encoding="utf-8").split()
    except OSError:
        return None
    return lines[0] if lines else None


def scheduler_url(
    settings: Settings,
    *,
    url: str | None = None,
    host: str | None = None,
    port: str | int | None = None,
    local: bool = False,
) -> str | None:
    """Return the scheduler server to use, or None for the embedded scheduler.

    The embedded scheduler stays the default: a server is used when ``url``, or
    Luigi's ``host``/``port``, or ``[core] default_scheduler_url`` says so, and
    ``local`` (``--local-scheduler``) wins over all of them.

    Examples
    --------
    >>> from nbflow.core.config import Settings
    >>> scheduler_url(Settings({}), host="sched", port=9000)
    'http://sched:9000'
    >>> scheduler_url(Settings({}), url="http://sched:8082", local=True) is None
    True
    """
    if local:
        return None
    if url:
        return url
    if host or port:
        return f"http://{host or 'localhost'}:{port or 8082}"
    return settings.get("core", "default_scheduler_url") or None


def new_worker_id() -> str:
    """Return a worker id unique across machines and processes: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class ServerScheduler:
    """The :class:`~nbflow.core.scheduler.SchedulerAPI` of an ``nbflow server``.

    Parameters
    ----------
    url
        The server, ``http://host:port`` (``http://user:TOKEN@host:port`` carries
        the token).
    token
        The server's token (default: from the url, ``NBFLOW_TOKEN`` or the config).
    worker_id
        This worker's id (default ``host:pid:random``).
    reconnect_timeout
        Seconds to keep trying a lost server (default ``[scheduler]
        reconnect_timeout``, 600).

    Examples
    --------
    >>> scheduler = ServerScheduler("http://ann:T0ken@localhost:8082/", worker_id="w")
    >>> scheduler.url, scheduler.worker_id
    ('http://localhost:8082', 'w')

    .. versionadded:: 0.2
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        worker_id: str | None = None,
        reconnect_timeout: float | None = None,
    ) -> None:
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise SchedulerUrlError(url)
        settings = current_settings()
        self.url = split_token(url)[0]
        self.worker_id = worker_id or new_worker_id()
        self._token = find_token(url, token, settings)
        if reconnect_timeout is None:
            reconnect_timeout = settings.get_float(
                "scheduler", "reconnect_timeout", 600.0
            )
        self.reconnect_timeout = reconnect_timeout
        self.ping_interval = settings.get_float("worker", "ping_interval", 1.0)
        self.connect_timeout = settings.get_float("core", "rpc_connect_timeout", 10.0)
        #: Returns the task ids the worker runs now (set by the worker).
        self.running: Callable[[], Collection[str]] = tuple
        #: When true (the worker is stopping), a lost server is not waited for.
        self.stopping = False
        #: The server asked this worker to cancel its run (``RunCancelRequested``).
        self.cancel_requested = False
        #: Called once when that request arrives (set by the worker: its ``cancel``).
        self.on_cancel: Callable[[], None] | None = None
        self._lock = threading.RLock()
        self._connection: Any = None
        #: whether the server ever answered (before: give up after connect_timeout)
        self._reached = False
        self._connection_lock = threading.Lock()
        self._base_path = urllib.parse.urlsplit(self.url).path.rstrip("/")
        self._since: int | None = None
        self._has_work = False
        self._started: WorkerStarted | None = None
        self._known: dict[str, None] = {}
        self._runs: set[str] = set()
        self._waiting: list[Action] = []
        self._last_call = 0.0
        self._heartbeat: threading.Thread | None = None
        self._closed = threading.Event()
        #: task id -> (offset, text) log deltas waiting for the next call
        self._logs: dict[str, list[tuple[int, str]]] = {}
        self._logs_lock = threading.Lock()
        self._log_max_bytes = settings.get_int("worker", "log_max_bytes", LOG_MAX_BYTES)
        #: False once the server refused the ``logs`` field (an older server)
        self._send_logs = True

    def __repr__(self) -> str:
        return f"ServerScheduler({self.url!r}, worker_id={self.worker_id!r})"

    # --- SchedulerAPI ---------------------------------------------------------------

    def handle(self, *events: SchedulerEvent) -> list[Action]:
        """Send ``events`` to the server; return the actions and notifications it sends.

        Raises
        ------
        SchedulerUnreachableError
            The server did not answer for ``reconnect_timeout`` seconds.
        SchedulerRequestError
            The server refused the call (a wrong token, an event it rejects).
        """
        return self.poll(events)

    def poll(
        self, events: Sequence[SchedulerEvent] = (), wait: float = 0.0
    ) -> list[Action]:
        """Like :meth:`handle`; with ``wait``, wait that long for a task to run."""
        with self._lock:
            self._ensure_heartbeat()
            if self._since is None:  # notifications after this seq concern us
                self._since = int(self._call((), 0.0).get("seq", 0))
            announced = False
            for event in events:
                if isinstance(event, (WorkerStarted, WorkerStopped)):
                    announced = True
                    self._started = event if isinstance(event, WorkerStarted) else None
                elif isinstance(event, RunBegan):
                    self._runs.add(event.run_id)
            reply = self._call(events, wait)
            actions = self._actions(reply, events)
            if reply.get("known_worker", True) or self._started is None or announced:
                return actions
            logger.warning(
                "nbflow scheduler %s: the server did not know worker %s (restarted, "
                "or it thought the worker gone); announcing it again",
                self.url,
                self.worker_id,
            )
            again = self._call((self._started,), 0.0)
            return actions + self._actions(again, ())

    def status(self, task_id: str) -> Status:
        """Return a task's status on the server."""
        return self.task_info(task_id).status

    def task_info(self, task_id: str) -> TaskInfo:
        """Return the server's snapshot of one task."""
        path = "/api/v1/tasks/" + urllib.parse.quote(task_id, safe="")
        page = self._request("GET", path, None)
        return _decode_info(page.get("task", page))

    def tasks(self) -> list[TaskInfo]:
        """Return the server's snapshots of the tasks this client added or ran."""
        known = list(self._known)
        if len(known) <= _FEW:
            return [self.task_info(task_id) for task_id in known]
        found: dict[str, TaskInfo] = {}
        cursor: str | None = "0"
        while cursor is not None:
            page = self._request(
                "GET", f"/api/v1/tasks?limit=1000&cursor={cursor}", None
            )
            for encoded in page.get("tasks", ()):
                if encoded.get("task_id") in self._known:
                    info = _decode_info(encoded)
                    found[info.task_id] = info
            cursor = page.get("next_cursor")
        return [found[task_id] if task_id in found else self.task_info(task_id)
                for task_id in known]  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """Return the server's state (``GET /api/v1/scheduler``): paused, counts, seq.

        Also checks the token: a wrong one raises :class:`SchedulerRequestError`.
        """
        return self._request("GET", "/api/v1/scheduler", None)

    def build_task(self, task_id: str) -> Task:
        """Build a task another client added, from its family and parameters here.

        Raises
        ------
        RemoteTaskError
            The family is not importable here, or builds another task id.
        """
        info = self.task_info(task_id)
        try:
            task = REGISTRY.lookup(info.family).from_str_params(dict(info.params))
        except NbflowError as error:
            raise RemoteTaskError(task_id, info.family, str(error)) from error
        if task.task_id != task_id:
            raise RemoteTaskError(task_id, info.family, f"built {task.task_id}")
        return task

    def add_log(self, task_id: str, delta: LogDelta) -> None:
        """Queue a running task's log delta for the next call (any thread).

        Deltas of one task are joined (in offset order, whatever order they came
        in); beyond ``[worker] log_max_bytes`` characters waiting, the oldest text
        is dropped (the offsets say where the rest starts).
        """
        if not self._send_logs or not delta.text:
            return
        with self._logs_lock:
            waiting = self._logs.setdefault(task_id, [])
            waiting.append((delta.offset, delta.text))
            chars = sum(len(text) for _offset, text in waiting)
            if chars > self._log_max_bytes:  # drop what the rest makes too old
                waiting.sort()
                while chars - len(waiting[0][1]) >= self._log_max_bytes:
                    chars -= len(waiting.pop(0)[1])

    def _take_logs(self) -> list[dict[str, Any]]:
        """Take the deltas waiting, joined per task; beyond LOGS_PER_CALL, the rest wait.

        The limit keeps a call far below the server's request size limit however
        many tasks print at once.
        """
        with self._logs_lock:
            logs, self._logs = self._logs, {}
        taken: list[dict[str, Any]] = []
        chars = 0
        for task_id, deltas in logs.items():
            if chars >= LOGS_PER_CALL:  # the next call takes them
                with self._logs_lock:
                    self._logs.setdefault(task_id, []).extend(deltas)
                continue
            for offset, text in _joined(deltas):
                cut = max(0, len(text) - self._log_max_bytes)
                taken.append(
                    {"task_id": task_id, "offset": offset + cut, "text": text[cut:]}
                )
                chars += len(text) - cut
        return taken

    def has_work(self) -> bool:
        """Return whether the server's last answer said there is work for this worker."""
        return self._has_work or bool(self._waiting)

    @property
    def next_retry_at(self) -> float | None:
        """None: the server itself retries failed tasks when their delay is over."""
        return None

    def close(self) -> None:
        """Tell the server this worker stopped (if it started), stop the heartbeats."""
        self.stopping = True  # a lost server is not waited for now
        if self._started is not None and not self._closed.is_set():
            try:
                self.handle(WorkerStopped(self.worker_id, at=time.time()))
            except SchedulerError as error:
                logger.warning(
                    "nbflow scheduler %s: could not say worker %s stopped (%s); the "
                    "server will notice after its worker_disconnect_delay",
                    self.url,
                    self.worker_id,
                    error,
                )
        self._closed.set()
        thread, self._heartbeat = self._heartbeat, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._connection_lock:
            self._drop_connection()

    # --- answers --------------------------------------------------------------------

    def _actions(
        self, reply: dict[str, Any], events: Sequence[SchedulerEvent]
    ) -> list[Action]:
        notes = [wire.from_json(n) for n in reply.get("notifications", ())]
        notes = [n for n in notes if self._concerns_me(n)]
        runs: list[RunTask] = [wire.from_json(a) for a in reply.get("actions", ())]
        seqs = [self._since or 0, int(reply.get("seq", 0))]
        self._since = max(seqs + [n.seq for n in notes])
        self._has_work = bool(reply.get("has_work", False))
        for run in runs:
            for member in run.batch or (run.task_id,):
                self._known.setdefault(member, None)
        actions: list[Action] = [*self._waiting]
        self._waiting.clear()
        actions += [Notify(n) for n in notes]
        actions += self._already_there(events, notes)
        actions += runs
        return actions

    def _concerns_me(self, note: Notification) -> bool:
        if isinstance(note, (RunStarted, RunFinished)):
            return note.run_id in self._runs
        return True

    def _already_there(
        self, events: Sequence[SchedulerEvent], notes: list[Notification]
    ) -> list[Action]:
        """Announce the tasks this client added that the server already had."""
        added = {n.task_id for n in notes if isinstance(n, TaskAdded)}
        fresh: list[str] = []
        for event in events:
            if isinstance(event, (TasksDiscovered, DependenciesAdded)):
                for spec in event.specs:
                    if spec.task_id not in self._known:
                        self._known[spec.task_id] = None
                        fresh.append(spec.task_id)
        actions: list[Action] = []
        for task_id in fresh:
            if task_id in added:
                continue
            info = self.task_info(task_id)
            note = TaskAdded(
                self._since or 0, time.time(), task_id, info.family, info.params,
                info.deps, info.status, info.complete_before, info.reason,
            )  # fmt: skip
            actions.append(Notify(note))
        return actions

    # --- heartbeats -----------------------------------------------------------------

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None and not self._closed.is_set():
            self._heartbeat = threading.Thread(
                target=self._beat, name="nbflow-heartbeat", daemon=True
            )
            self._heartbeat.start()

    def _beat(self) -> None:
        while not self._closed.wait(self.ping_interval / 2):
            if time.monotonic() - self._last_call < self.ping_interval:
                continue
            if not self._lock.acquire(blocking=False):
                continue  # a call is on its way (or waiting for the server)
            try:
                if self._started is not None and not self.stopping:
                    self._waiting += self.poll()
            except SchedulerError as error:  # the worker's next call will say it
                logger.debug("nbflow heartbeat to %s failed: %s", self.url, error)
            finally:
                self._lock.release()

    # --- HTTP -----------------------------------------------------------------------

    def _call(self, events: Sequence[SchedulerEvent], wait: float) -> dict[str, Any]:
        body: dict[str, Any] = {
            "events": [wire.to_json(event) for event in events],
            # a run reported ended in this call still counts as running until then
            "running": sorted({*self.running(), *_reported(events)}),
            "since": self._since,
            "wait": min(max(wait, 0.0), MAX_WAIT),
        }
        logs = self._take_logs() if self._logs else []
        if logs:  # only then: an older server refuses fields it does not know
            body["logs"] = logs
        worker = urllib.parse.quote(self.worker_id, safe=":")
        path = f"/api/v1/workers/{worker}/calls"
        try:
            return self._cancel_if_asked(self._request("POST", path, body))
        except SchedulerRequestError as error:
            if not logs or error.status != 400 or "'logs'" not in error.message:  # noqa: PLR2004
                raise
        logger.warning(
            "nbflow scheduler %s: the server does not take task logs (an older "
            "nbflow server); the logs of tasks run here stay with this worker",
            self.url,
        )
        self._send_logs = False
        del body["logs"]
        return self._cancel_if_asked(self._request("POST", path, body))

    def _cancel_if_asked(self, reply: dict[str, Any]) -> dict[str, Any]:
        if reply.get("cancel") and not self.cancel_requested:
            self.cancel_requested = True
            logger.warning(
                "nbflow scheduler %s: the server asked worker %s to cancel its run",
                self.url,
                self.worker_id,
            )
            if self.on_cancel is not None:
                self.on_cancel()
        return reply

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Make one call, trying again with backoff while the server is unreachable."""
        from http.client import HTTPException  # noqa: PLC0415  (only when used)

        began = time.monotonic()
        delay = 0.1
        failures = 0
        while True:
            try:
                answer = self._send(method, path, body)
            except _HttpStatusError as error:
                if error.status < _RETRIED_STATUS:
                    raise SchedulerRequestError(
                        self.url, error.status, error.text
                    ) from None
                problem = f"HTTP {error.status}: {error.text}"
            except (HTTPException, OSError) as error:
                self._drop_connection()
                problem = f"{type(error).__name__}: {error}"
            else:
                if failures:
                    logger.warning(
                        "nbflow scheduler %s: reconnected after %.1f s",
                        self.url,
                        time.monotonic() - began,
                    )
                self._reached = True
                return answer
            failures += 1
            waited = time.monotonic() - began
            # a server never reached yet is likely a wrong url or not started: say so
            # soon rather than after the reconnect timeout meant for a lost one
            patience = self.reconnect_timeout if self._reached else self.connect_timeout
            if self.stopping or waited + delay > patience:
                raise SchedulerUnreachableError(self.url, waited, problem)
            if failures == 1 and self._reached:
                logger.warning(
                    "nbflow scheduler %s: lost (%s); trying again for up to %g s, "
                    "running tasks go on",
                    self.url,
                    problem,
                    self.reconnect_timeout,
                )
            else:
                logger.info(
                    "nbflow scheduler %s: still unreachable (%s)", self.url, problem
                )
            time.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Send one request on the kept-alive connection (made on first use)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        timeout = self.connect_timeout + (body or {}).get("wait", 0.0)
        self._last_call = time.monotonic()
        with self._connection_lock:
            for attempt in (1, 2):
                reused = self._connection is not None
                connection = self._connect()
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                try:
                    connection.request(method, self._base_path + path, data, headers)
                    answer = connection.getresponse()
                    raw = answer.read()
                except _STALE as error:  # the server closed an idle kept-alive one
                    self._drop_connection()
                    if not reused or attempt == 2:  # noqa: PLR2004
                        raise
                    logger.debug(
                        "nbflow scheduler %s: reconnecting (%s)", self.url, error
                    )
                    continue
                except BaseException:
                    self._drop_connection()
                    raise
                break
            if answer.getheader("Connection", "").lower() == "close":
                self._drop_connection()
        self._last_call = time.monotonic()
        if answer.status >= _HTTP_ERROR:
            raise _HttpStatusError(answer.status, _error_text(raw, answer.reason))
        page = json.loads(raw.decode("utf-8"))
        if not isinstance(page, dict):
            raise SchedulerRequestError(
                self.url, 200, f"not a JSON object: {page!r}"[:200]
            )
        return page

    def _connect(self) -> Any:
        if self._connection is None:
            import http.client  # noqa: PLC0415  (loads ssl: only when used)

            parts = urllib.parse.urlsplit(self.url)
            kind = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = kind(
                parts.hostname or "localhost", parts.port, timeout=self.connect_timeout
            )
            # closed when the client goes, even if nobody calls close()
            weakref.finalize(self, connection.close)
            self._connection = connection
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class _HttpStatusError(Exception):
    """The server answered with an HTTP error status (internal to this module)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.status, self.text = status, text


def _reported(events: Sequence[SchedulerEvent]) -> set[str]:
    return {
        event.task_id
        for event in events
        if isinstance(event, (TaskSucceeded, TaskFailed, TaskHandedBack))
    }


def _joined(deltas: list[tuple[int, str]]) -> list[tuple[int, str]]:
    r"""Return log deltas in offset order, those that follow each other joined.

    Examples
    --------
    >>> _joined([(4, "two"), (0, "one\n"), (9, "gap")])
    [(0, 'one\ntwo'), (9, 'gap')]
    """
    joined: list[tuple[int, str]] = []
    for offset, text in sorted(deltas):
        if joined and joined[-1][0] + len(joined[-1][1]) == offset:
            joined[-1] = (joined[-1][0], joined[-1][1] + text)
        else:
            joined.append((offset, text))
    return joined


def _decode_info(encoded: dict[str, Any]) -> TaskInfo:
    info: TaskInfo = wire.from_json(
        {key: value for key, value in encoded.items() if key != "story"}
    )
    return info


def _error_text(raw: bytes, reason: str) -> str:
    """Return the message of an HTTP error's JSON body (or its reason)."""
    body = raw.decode("utf-8", "replace")
    try:
        page = json.loads(body)
    except ValueError:
        return body[:300] or reason
    if isinstance(page, dict):
        error = page.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:300]
        return str(page.get("message") or error or page)[:300]
    return str(page)[:300]
