"""The run board: this kernel's runs, published to a file that JupyterLab's panel reads.

A kernel is busy for the whole of a foreground ``%nbflow run``, so nothing can ask it
for its runs while they go on. Instead every run of the kernel's
:class:`~nbflow.kernel.session.Session` is written, as it progresses, to
``<jupyter_runtime_dir()>/nbflow/kernel-<kernel_id>.json``, which the Jupyter server
extension (:mod:`nbflow.lab`) reads. The kernel id is the name of the kernel's
connection file (``kernel-<id>.json``); a process that is not a Jupyter kernel has no
board, and nothing fails for want of one.

The file holds the last :data:`KEPT_RUNS` runs, each as the ``/nbflow/api`` run
document plus its tasks (label, family, drawn state, deps, parameters as text, status
message, progress, tracking URL, error, traceback, the last :data:`LOG_LINES` lines of
its log, its local outputs as absolute paths and, for a notebook task, its executed
notebook). A run of more than :data:`DETAILED_TASKS` tasks keeps the details only of
its failed, running and last finished tasks; the others keep what a drawing needs.

Theory of operation: each run is watched (:meth:`~nbflow.core.run.Run.watch`); a
call builds the run's document (states copied under the run's lock, outputs looked up
outside it, once per task) and rewrites the whole file atomically (a temporary file
then :func:`os.replace`), at most every :data:`WRITE_INTERVAL` seconds while the run
changes, and once more as it ends. Finished runs keep their last document, so a write
costs only the running runs' work.

Threads: the runs' view threads (and run threads, as runs end) write; one lock
serialises the writes. The session adds runs from the kernel's main thread.

Imports: stdlib, nbflow.core.progress; ipykernel and jupyter_core lazily.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.progress import FAILED_STATES

if TYPE_CHECKING:
    from nbflow.core.progress import Changes, RunProgress, TaskState
    from nbflow.kernel.record import RunRecord

logger = logging.getLogger(__name__)

#: Runs a board keeps (the oldest go first).
KEPT_RUNS = 20
#: Runs with more tasks than this keep details only for the tasks a user looks at.
DETAILED_TASKS = 2_000
#: Finished tasks whose details a large run keeps (the last ones to finish).
RECENT_FINISHED = 50
#: Lines of a task's log kept (the last ones).
LOG_LINES = 200
#: Characters of one log line kept.
LINE_CHARACTERS = 2_000
#: Seconds between two writes of the board while runs change.
WRITE_INTERVAL = 0.5
#: The board format's version (``version`` in the file).
BOARD_VERSION = 1
#: Drawn states of tasks still to finish.
_UNFINISHED = frozenset({"PENDING", "RUNNING", "BATCH_RUNNING"})

__all__ = [
    "BOARD_VERSION",
    "Board",
    "board_dir",
    "kernel_board",
    "publish",
    "run_document",
]


def board_dir() -> Path:
    """Return the folder of the boards: ``<jupyter_runtime_dir()>/nbflow``."""
    from jupyter_core.paths import jupyter_runtime_dir  # noqa: PLC0415  (on use)

    return Path(jupyter_runtime_dir()) / "nbflow"


def _kernel_id() -> str | None:
    """Return this kernel's id (its connection file's name), or None if not a kernel.

    Only a process where ipykernel's kernel app already runs is a kernel; nothing of
    ipykernel is imported here (importing its kernel modules replaces ``comm``'s
    factory, which would silence the widgets of a plain IPython shell).
    """
    module = sys.modules.get("ipykernel.kernelapp")
    app = getattr(module, "IPKernelApp", None)
    if app is None or not app.initialized():
        return None
    name = Path(str(app.instance().connection_file or "")).name
    if not (name.startswith("kernel-") and name.endswith(".json")):
        return None
    return name.removeprefix("kernel-").removesuffix(".json")


class Board:
    """The board file of one kernel: its last runs, rewritten atomically."""

    def __init__(self, path: Path, kernel_id: str) -> None:
        self.path = path
        self.kernel_id = kernel_id
        self._lock = threading.Lock()
        #: run number -> its latest document, as JSON text (a write joins them)
        self._runs: dict[int, str] = {}
        #: who runs the kernel (shown with each run)
        self.user = _user()
        #: writes so far (each file says which it is)
        self._serial = 0

    def add(self, record: RunRecord) -> None:
        """Publish ``record`` from now on: written as it changes and at its end."""
        _RunWriter(self, record).start()

    def put(self, number: int, document: str) -> None:
        """Replace run ``number``'s document (JSON text); rewrite the file (any thread)."""
        with self._lock:
            self._runs[number] = document
            for old in sorted(self._runs)[:-KEPT_RUNS]:
                del self._runs[old]
            self._write()

    def remove(self) -> None:
        """Remove the board's file (the kernel is shutting down)."""
        with self._lock, contextlib.suppress(OSError):
            self.path.unlink()

    def _write(self) -> None:
        self._serial += 1
        head = {  # what tells writes apart first: readers compare a board's start
            "version": BOARD_VERSION,
            "serial": self._serial,
            "pid": os.getpid(),
            "updated": time.time(),
            "kernel_id": self.kernel_id,
            "cwd": str(Path.cwd()),
            "user": self.user,
        }
        runs = ",".join(self._runs[number] for number in sorted(self._runs))
        text = json.dumps(head, separators=(",", ":"))[:-1] + f',"runs":[{runs}]}}'
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=".kernel-", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise


class _RunWriter:
    """One run's watcher: builds its document, throttled, and hands it to the board."""

    def __init__(self, board: Board, record: RunRecord) -> None:
        self.board = board
        self.record = record
        self._last = 0.0
        #: seconds until the next write may happen (longer after a slow write)
        self._pause = WRITE_INTERVAL
        self._dirty = False
        #: whether the last document written showed the run ended
        self._ended = False
        #: task id -> its outputs and executed notebook (looked up once)
        self._outputs: dict[str, tuple[list[str], str | None]] = {}
        #: task id -> (its deps, the JSON of what never changes: label, deps, ...)
        self._fixed: dict[str, tuple[tuple[str, ...], str]] = {}

    def start(self) -> None:
        self._write()  # the run shows at once, before it starts
        self.record.run.watch(self, interval=WRITE_INTERVAL)
        threading.Thread(
            target=self._await_end, name="nbflow-board", daemon=True
        ).start()

    def _await_end(self) -> None:
        """Write the run's end if no view call did (a run that stopped on an error)."""
        with contextlib.suppress(Exception):  # the run reports its own failure
            self.record.run.wait()
        if not self._ended:
            self._write()

    def __call__(self, changes: Changes) -> None:
        """Write the run's document if it changed and the last write is old enough."""
        self._dirty = self._dirty or bool(
            changes.grown or changes.changed or changes.panel
        )
        run = self.record.run
        ending = run.progress is not None and run.progress.finished is not None
        ending = ending or run.error is not None
        if not ending and (
            not self._dirty or time.monotonic() - self._last < self._pause
        ):
            return
        self._dirty = False
        self._write()

    def _write(self) -> None:
        began = time.monotonic()
        document, state = self._document()
        self.board.put(self.record.number, document)
        self._ended = state != "running"
        self._last = time.monotonic()
        # a huge run's writes take long: keep them to a fifth of the view thread's time
        self._pause = max(WRITE_INTERVAL, 5 * (self._last - began))

    def _document(self) -> tuple[str, str]:
        """Return the run's document as JSON text, and its state.

        Details go through ``json.dumps``; the rest is joined from cached JSON.
        """
        record, run = self.record, self.record.run
        with run.lock:
            progress = record.progress
            document = run_document(record, progress, user=self.board.user)
            detailed = _detailed(progress)
            entries = {
                task_id: _task_entry(progress.tasks[task_id], detailed=True)
                for task_id in detailed
            }
            light = [
                (task_id, state.state, state)
                for task_id, state in progress.tasks.items()
                if task_id not in detailed
            ]
        for task_id, entry in entries.items():
            entry["outputs"], entry["notebook"] = self._outputs_of(task_id, entry)
        words: dict[str, str] = {}  # drawn state -> its JSON (a dozen at most)
        parts = [
            self._fixed_json(task_id, state)
            + (words.get(drawn) or words.setdefault(drawn, _dumps(drawn)))
            + "}"
            for task_id, drawn, state in light
        ]
        if entries:
            parts.append(_dumps(entries)[1:-1])
        head = _dumps(document)[:-1]
        return f'{head},"tasks":{{{",".join(parts)}}}}}', document["state"]

    def _fixed_json(self, task_id: str, state: TaskState) -> str:
        """Return ``"id":{"label":...,"state":``: all but the task's state, as JSON."""
        kept = self._fixed.get(task_id)
        if kept is None or kept[0] is not state.deps:  # a task can gain deps
            fixed = _task_entry(state, detailed=False)
            del fixed["state"]
            kept = (state.deps, f'{_dumps(task_id)}:{_dumps(fixed)[:-1]},"state":')
            self._fixed[task_id] = kept
        return kept[1]

    def _outputs_of(
        self, task_id: str, entry: dict[str, Any]
    ) -> tuple[list[str], str | None]:
        known = self._outputs.get(task_id)
        if known is None:
            task = self.record.run.worker.graph.tasks.get(task_id)
            known = self._outputs[task_id] = _outputs(task)
        paths, notebook = known
        url = entry.get("tracking_url") or ""
        if entry["state"] in FAILED_STATES and url.startswith("file://"):
            notebook = url.removeprefix("file://")  # the failed run's notebook
        return paths, notebook


def run_document(
    record: RunRecord, progress: RunProgress, *, user: str = ""
) -> dict[str, Any]:
    """Return the board's summary of one run (read ``progress`` under the run's lock)."""
    run = record.run
    total = progress.total
    state = progress.outcome
    if state == "running" and run.error is not None:
        state = "failed"  # it stopped before it started
    roots = list(progress.roots) or [task.task_id for task in run.roots]
    return {
        "number": record.number,
        "run_id": progress.run_id,
        "command": "nbflow run " + " ".join(record.roots),
        "roots": roots,
        "state": state,
        "started": record.started_at,
        "finished": progress.finished,
        "counts": {name: count for name, count in progress.counts.items() if count},
        "total": total,
        "percent": round(100.0 * progress.done / total, 1) if total else 0.0,
        "user": user,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _detailed(progress: RunProgress) -> set[str]:
    """Return the tasks whose details the board keeps: all, or the notable ones."""
    tasks = progress.tasks
    if len(tasks) <= DETAILED_TASKS:
        return set(tasks)
    notable = set(progress.failed) | set(progress.running)
    finished = [
        state
        for state in tasks.values()
        if state.ended is not None and state.state not in _UNFINISHED
    ]
    finished.sort(key=lambda state: state.ended or 0.0)
    notable.update(state.task_id for state in finished[-RECENT_FINISHED:])
    return notable


def _task_entry(state: TaskState, *, detailed: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "label": state.label,
        "family": state.family,
        "state": state.state,
        "deps": list(state.deps),
    }
    if not detailed:  # what the graph needs (the label names the parameters)
        return entry
    entry.update(
        params=dict(state.params),
        status_message=state.message,
        progress=state.percentage,
        tracking_url=state.url,
        error=state.error,
        traceback=state.traceback,
        log="\n".join(line[:LINE_CHARACTERS] for line in state.output[-LOG_LINES:]),
        started=state.started,
        ended=state.ended,
        cause=state.cause,
    )
    return entry


def _outputs(task: Any) -> tuple[list[str], str | None]:
    """Return the absolute paths of ``task``'s local outputs, and its executed notebook."""
    if task is None:
        return [], None
    from nbflow.core.structure import flatten  # noqa: PLC0415  (on use)

    try:
        targets = flatten(task.output())
    except Exception:  # noqa: BLE001  (a user's output() that raises: no paths)
        targets = []
    paths = [path for target in targets if (path := _local_path(target))]
    notebook = None
    if _is_notebook_task(task):
        notebook = _local_path(task.executed_notebook())
    return paths, notebook


def _local_path(target: Any) -> str | None:
    """Return the absolute local path of a file target, or None (remote, in memory)."""
    path = getattr(target, "path", None)
    if not isinstance(path, str) or not path:
        return None
    from nbflow.core.target import MemoryTarget  # noqa: PLC0415

    if isinstance(target, MemoryTarget):
        return None
    if path.startswith("file://"):
        path = path.removeprefix("file://")
    elif "://" in path:
        return None
    return os.path.abspath(path)  # noqa: PTH100  (keeps the path as the user wrote it)


def _is_notebook_task(task: Any) -> bool:
    module = sys.modules.get("nbflow.notebook.task")
    return module is not None and isinstance(task, module.NotebookTask)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no name for this uid
        return ""


_BOARD: Board | None = None
_LOOKED = False


def kernel_board() -> Board | None:
    """Return this kernel's board (made on first use), or None outside a Jupyter kernel."""
    global _BOARD, _LOOKED  # noqa: PLW0603  (one board per kernel process)
    if not _LOOKED:
        _LOOKED = True
        kernel_id = _kernel_id()
        if kernel_id is not None:
            try:
                folder = board_dir()
            except (ImportError, OSError):  # no jupyter_core, or no runtime dir
                folder = None
            if folder is not None:
                _BOARD = Board(folder / f"kernel-{kernel_id}.json", kernel_id)
                atexit.register(_BOARD.remove)  # a kernel shut down leaves no board
    return _BOARD


def publish(record: RunRecord) -> None:
    """Put ``record`` on this kernel's board, if it has one; never fail the run for it."""
    board = kernel_board()
    if board is None:
        return
    try:
        board.add(record)
    except Exception:  # like a listener that raises: logged, and the run goes on
        logger.exception(
            "nbflow: run %s is not on the run board %s (JupyterLab's panel will "
            "miss it)",
            record.number,
            board.path,
        )
