"""Task claims: two runs on one machine never run the same task at the same time.

Without a central scheduler, nothing else stops two processes from running one task
twice, or one run's rerun from moving aside an output the other just made. So
:func:`~nbflow.core.execution.execute` runs every task inside :func:`claim`: an
exclusive ``fcntl.flock`` on a small file in ``DIR/claims`` (``DIR`` is the lock
directory, see :mod:`nbflow.core.lock`), named by a digest of the task id and of where
its outputs go (the same task id in two project folders is two tasks). The kernel drops
the lock when its process dies, so a killed run leaves no claim behind.

When another process holds the claim, the run waits for it (the task's status message
says ``waiting for pid N on host H``), then looks again:

- the task is complete and its outputs on the local disk were written since this run
  began (or, outside ``nbflow run``, since it began waiting): the other run made them.
  The task is reported done without running (status message ``done by pid N on host
  H``); the summary counts it with the tasks that completed in this run.
- otherwise (the other run failed, was killed, or left old outputs) it runs here.

The same look is taken when the claim was free: a task that another run completed after
this one planned it is not run again.

After a takeover (``--take-lock``), a run that was taken over starts no new task while
the taker lives: each waits until the taker completes it (``done by ...``), and runs
here only if the taker ends first.

Not claimed: tasks without outputs, or with outputs only in memory
(:class:`~nbflow.core.target.MemoryTarget`): no other process can step on them.

Configuration travels in the environment, so worker processes inherit it: ``nbflow
run`` sets ``NBFLOW_LOCK_PID_DIR``, ``NBFLOW_NO_LOCK`` (``--no-lock``: no claims) and
``NBFLOW_RUN_STARTED``; scripts calling ``build()`` may set the first two. POSIX only.

Imports: stdlib, nbflow.core.{lock, structure, target, task}.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.lock import (
    ENV_NO_LOCK,
    ENV_PID_DIR,
    ENV_RUN_STARTED,
    ENV_TAKEN_FLAG,
    Holder,
    default_pid_dir,
    prepare_dir,
    read_holder,
    try_lock,
    write_holder,
)
from nbflow.core.structure import flatten
from nbflow.core.target import FileSystemTarget, LocalTarget, MemoryTarget

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from nbflow.core.task import Task

    Reporter = Callable[[str, str, Any], None]

#: Completion markers older than this many days are removed (a run that lasts longer
#: may then run a task another run completed: twice, never lost).
MARKER_DAYS = 7
#: File timestamps come from a coarse clock (a few ms behind ``time.time()``).
_CLOCK_SLACK = 0.1
_LONGEST_POLL = 0.2


@contextlib.contextmanager
def claim(task: Task, reporter: Reporter | None = None) -> Iterator[bool]:
    """Hold ``task``'s claim while the block runs it.

    Yields True when another run completed the task meanwhile: then do not run it.
    """
    path = claim_path(task)
    if path is None:
        yield False
        return
    with hold_claim(path, task, reporter) as done_elsewhere:
        yield done_elsewhere


@contextlib.contextmanager
def hold_claim(
    path: Path, task: Task, reporter: Reporter | None = None
) -> Iterator[bool]:
    """Hold the claim file ``path`` (from :func:`claim_path`) while the block runs."""
    if _left_to_taker(task, reporter):
        yield True
        return
    fd, waited_since, holder = _acquire(path, task, reporter)
    try:
        if _done_elsewhere(path, task, waited_since):
            _say(reporter, task, f"done by {_who(holder)}; not run again here")
            yield True
            return
        if holder is not None:
            _say(reporter, task, f"{_who(holder)} ended without completing it")
        write_holder(fd, task.task_id)
        yield False
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # before unlocking: a waiter then sees a stale file, retries
        os.close(fd)


def claim_path(task: Task, outputs: list[Any] | None = None) -> Path | None:
    """Return the claim file of ``task``, or None when it is not claimed.

    ``outputs`` are ``flatten(task.output())`` if the caller has them already.
    """
    if outputs is None:
        outputs = flatten(task.output())
    places = sorted(place for place in map(_place, outputs) if place is not None)
    if not places or os.environ.get(ENV_NO_LOCK) or sys.platform == "win32":
        return None
    digest = hashlib.sha256("\0".join([task.task_id, *places]).encode()).hexdigest()
    folder = os.environ.get(ENV_PID_DIR) or default_pid_dir()
    return _claims_dir(folder) / f"{digest[:40]}.claim"


@functools.cache
def _claims_dir(folder: str) -> Path:
    claims = prepare_dir(folder) / "claims"
    claims.mkdir(mode=0o700, exist_ok=True)
    _prune_markers(claims)  # once per process and folder
    return claims


def _prune_markers(claims: Path, older_than: float = MARKER_DAYS * 86_400) -> None:
    """Remove completion markers too old to matter to any run still going."""
    cutoff = time.time() - older_than
    for marker in claims.glob("*.done"):
        with contextlib.suppress(FileNotFoundError):  # another process pruned it
            if marker.stat().st_mtime < cutoff:
                marker.unlink()


def _place(output: Any) -> str | None:
    """Return where ``output`` lives, as other processes would name it."""
    if isinstance(output, MemoryTarget):
        return None
    if isinstance(output, LocalTarget):
        return "file:" + os.path.abspath(output.path)  # noqa: PTH100  (a str is wanted)
    kind = f"{type(output).__module__}.{type(output).__qualname__}"
    protocol = getattr(getattr(output, "fs", None), "protocol", "")
    return f"{kind}:{protocol}:{getattr(output, 'path', '')}"


def _acquire(
    path: Path, task: Task, reporter: Reporter | None
) -> tuple[int, float | None, Holder | None]:
    """Take the claim, waiting while another process holds it.

    Returns the locked file, when the wait began (None if there was none) and the
    holder waited for.
    """
    fd, locked = try_lock(path)
    if locked:
        return fd, None, None
    began, holder, delay = time.time(), None, 0.01
    while not locked:
        seen = read_holder(fd)
        if seen is not None and seen != holder:
            holder = seen
            _say(reporter, task, f"waiting for {_who(seen)}, which is running it")
        os.close(fd)
        time.sleep(delay)
        delay = min(delay * 2, _LONGEST_POLL)
        fd, locked = try_lock(path)
    return fd, began, holder


def _done_elsewhere(path: Path, task: Task, waited_since: float | None) -> bool:
    """Return whether another run completed ``task`` since this one began or waited.

    Runs that complete a claimed task leave a marker (:func:`mark_completed`); a
    marker newer than this run's start (or than its wait) is another run's work.
    File times are not used: a forced rerun of an output written just before this
    run began must still run.
    """
    run_started = os.environ.get(ENV_RUN_STARTED)
    since = float(run_started) if run_started else waited_since
    if since is None:
        return False
    try:
        completed_at = float(_marker(path).read_text().split()[-1])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    return completed_at >= since and bool(task.complete())


def mark_completed(path: Path) -> None:
    """Record that this process completed the task whose claim file ``path`` it holds."""
    marker = _marker(path)
    temporary = marker.with_name(f"{marker.name}.{os.getpid()}")
    temporary.write_text(f"{os.getpid()} {socket.gethostname()} {time.time()!r}\n")
    temporary.replace(marker)


def _marker(path: Path) -> Path:
    return path.with_suffix(".done")


def _written_since(task: Task, since: float, *, waited: bool) -> bool:
    """Return whether every output was (re)written since ``since``.

    Only local files have a timestamp to look at; other outputs count as fresh when
    this run waited for the claim (the holder ran the task meanwhile).
    """
    for output in flatten(task.output()):
        if isinstance(output, LocalTarget):
            try:
                if Path(output.path).stat().st_mtime < since - _CLOCK_SLACK:
                    return False
            except FileNotFoundError:
                return False
        elif isinstance(output, FileSystemTarget) and not waited:
            return False
    return True


def _left_to_taker(task: Task, reporter: Reporter | None) -> bool:
    """After a takeover, wait for the taker to complete ``task``; False if it ended."""
    flag = os.environ.get(ENV_TAKEN_FLAG)
    if not flag:
        return False
    try:
        lines = Path(flag).read_text().splitlines()
        taker = Holder(int(lines[0]), lines[1], float(lines[2]))
    except (FileNotFoundError, IndexError, ValueError):
        return False
    _say(reporter, task, f"left to {_who(taker)}, which took over (--take-lock)")
    while _is_alive(taker.pid):
        if _written_since(task, taker.started, waited=True) and task.complete():
            _say(reporter, task, f"done by {_who(taker)}; not run again here")
            return True
        time.sleep(_LONGEST_POLL)
    return False


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _who(holder: Holder | None) -> str:
    if holder is None:
        return "another nbflow run"
    return f"pid {holder.pid} on host {holder.host}"


def _say(reporter: Reporter | None, task: Task, message: str) -> None:
    if reporter is not None:
        reporter(task.task_id, "status_message", message)
