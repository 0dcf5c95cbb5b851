"""The command-line lock: Luigi's "one identical command at a time", without a server.

``nbflow run`` takes this lock by default (Luigi's ``luigi`` command does too; ``build()``
and ``nbflow.run(task)`` do not). A second run of the *same command* while the first is
alive prints one line naming the running process and exits at once with the
``[retcode] already_running`` code. The same command means: the same arguments after
``nbflow`` (without ``--take-lock``), in the same working directory, for the same task
module or notebook file. Luigi compares the whole process command line; nbflow leaves
out the interpreter and the working directory's spelling so ``nbflow run`` and
``python -m nbflow run`` are one command, and the same command in two project folders
is two.

Options (command line, or Luigi's ``[core]`` keys of the same names):

- ``--lock-pid-dir DIR``: where the lock files live (else ``NBFLOW_LOCK_PID_DIR``, else
  ``[core] lock_pid_dir``, else ``nbflow-<uid>`` in the temp directory, created private
  to the user). Task claims live in ``DIR/claims``.
- ``--lock-size N``: how many runs of the command may be alive at once (default 1).
- ``--take-lock``: take over from the live runs of the command instead of exiting: they
  get ``SIGUSR1`` (Luigi's signal), say so, and start no new task while the taker lives
  (tasks they are running finish; :mod:`nbflow.core.claim` keeps the two runs from
  running any task twice). At most one taker at a time, as in Luigi.
- ``--no-lock``: no command lock and no task claims.

How: one slot file per allowed run (``<hash>.<i>.pid``) held with ``fcntl.flock`` for
the life of the run, and a guard file held for a moment while a run picks its slot, so
two runs started together decide one after the other. The kernel drops a dead process's
locks, so the files of killed runs are never in the way (nothing to clean up, no pid
checks). POSIX only: on Windows (no ``fcntl``) the lock and the claims are off.

Imports: stdlib, nbflow.core.{cmdline, config, errors}.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.cmdline import UsageError
from nbflow.core.config import RetCodes, current_settings
from nbflow.core.errors import DefinitionError

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.core.cmdline import Invocation
    from nbflow.core.config import Settings

#: Environment of a locked run, inherited by its worker processes (see claim.py).
ENV_PID_DIR = "NBFLOW_LOCK_PID_DIR"
ENV_NO_LOCK = "NBFLOW_NO_LOCK"
ENV_RUN_STARTED = "NBFLOW_RUN_STARTED"
ENV_TAKEN_FLAG = "NBFLOW_TAKEN_FLAG"
#: Command-line words left out of the command's identity.
_NOT_IDENTITY = frozenset({"--take-lock", "--take-lock=true", "--take-lock=1"})


class LockDirError(DefinitionError):
    """The lock directory cannot be created or used."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem

    def __str__(self) -> str:
        return (
            f"--lock-pid-dir: cannot use the lock directory ({self.problem}; got "
            f"{self.path!r}). Expected a directory that only you can write. Fix: pass "
            "--lock-pid-dir DIR (or [core] lock_pid_dir) with such a directory, or "
            "--no-lock to run without the lock and task claims."
        )


class AlreadyRunningExit(SystemExit):
    """The same command is already running: exit with ``[retcode] already_running``.

    A :class:`SystemExit` (Luigi's ``PidLockAlreadyTakenExit`` is one too): it is not an
    error of the run, and it ends the process with the configured code.
    """


@dataclass(frozen=True)
class LockOptions:
    """The command lock's settings for one run."""

    pid_dir: str
    size: int = 1
    no_lock: bool = False
    take_lock: bool = False

    @classmethod
    def resolve(cls, options: Mapping[str, Any], settings: Settings) -> LockOptions:
        """Return the options given on the command line, else in ``[core]``.

        Raises
        ------
        UsageError
            ``--lock-size`` is not a whole number of at least 1.
        """
        size_text = options.get("lock_size") or settings.get("core", "lock_size", "1")
        try:
            size = int(size_text)
        except ValueError:
            size = 0
        if size < 1:
            raise UsageError(
                "--lock-size must be a whole number of at least 1",
                str(size_text),
                "write --lock-size 2 to let two runs of the command work at once",
            )
        return cls(
            pid_dir=options.get("lock_pid_dir")
            or os.environ.get(ENV_PID_DIR)
            or settings.get("core", "lock_pid_dir", "")
            or default_pid_dir(),
            size=size,
            no_lock=bool(options.get("no_lock"))
            or settings.get_bool("core", "no_lock", False),
            take_lock=bool(options.get("take_lock"))
            or settings.get_bool("core", "take_lock", False),
        )


@dataclass(frozen=True)
class Holder:
    """Who holds a lock file, as it wrote itself there."""

    pid: int
    host: str
    started: float
    #: whether it asked to be told of a takeover with SIGUSR1
    signalable: bool = False

    def __str__(self) -> str:
        since = time.strftime("%H:%M:%S", time.localtime(self.started))
        return f"pid {self.pid} on host {self.host} (since {since})"


def default_pid_dir() -> str:
    """Return the default lock directory: private to the user, in the temp directory."""
    user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return str(Path(tempfile.gettempdir()) / f"nbflow-{user}")


def prepare_dir(path: str) -> Path:
    """Create the directory ``path`` (private to the user) and return it.

    Raises
    ------
    LockDirError
        It cannot be created, or it is the default directory and someone else owns it.
    """
    folder = Path(path)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = folder.stat().st_uid
    except OSError as exc:
        raise LockDirError(path, f"{type(exc).__name__}: {exc.strerror}") from exc
    if path == default_pid_dir() and owner != os.getuid():
        raise LockDirError(path, f"it belongs to another user (uid {owner})")
    return folder


def try_lock(path: Path) -> tuple[int, bool]:
    """Open ``path`` and try to lock it at once; return ``(fd, locked)``.

    When locked, ``path`` is still the locked file (a releasing holder may unlink it
    between our open and our lock; then we try again on the new file).
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return fd, False
        try:
            same = path.stat().st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, True
        os.close(fd)


def write_holder(fd: int, extra: str = "") -> None:
    """Record this process in the locked file ``fd``."""
    text = f"{os.getpid()}\n{socket.gethostname()}\n{time.time()}\n{extra}\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def read_holder(fd: int) -> Holder | None:
    """Return the holder recorded in the file ``fd``, if it wrote itself there yet."""
    lines = os.pread(fd, 4096, 0).decode(errors="replace").splitlines()
    try:
        signalable = len(lines) > 3 and lines[3] == "usr1"  # noqa: PLR2004
        return Holder(int(lines[0]), lines[1], float(lines[2]), signalable)
    except (IndexError, ValueError):
        return None


def command_key(argv: list[str], invocation: Invocation) -> str:
    """Return the identity of a command: its words, folder and task module file."""
    module = sys.modules.get(getattr(invocation.task_cls, "__module__", ""), None)
    words = [word for word in argv if word not in _NOT_IDENTITY]
    text = "\0".join([str(Path.cwd()), str(getattr(module, "__file__", "")), *words])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@contextlib.contextmanager
def command_lock(argv: list[str], invocation: Invocation) -> Iterator[None]:
    """Hold the command lock (and set up task claims) while the run goes on.

    Raises
    ------
    AlreadyRunningExit
        ``--lock-size`` runs of the same command are alive (after one line on stderr).
    UsageError, LockDirError
        A lock option is wrong, or the lock directory unusable.
    """
    options = LockOptions.resolve(invocation.options, current_settings())
    if options.no_lock or sys.platform == "win32":
        with _environment({ENV_NO_LOCK: "1"}):
            yield
        return
    folder = prepare_dir(options.pid_dir)
    key = command_key(argv, invocation)
    started = time.time()
    with _notice_takeover() as signalable:  # before others can see our slot
        fd, slot = _take_slot(folder, key, options, signalable=signalable)
        flag = Path(f"{slot}.taken")
        flag.unlink(missing_ok=True)
        env = {
            ENV_PID_DIR: str(folder),
            ENV_NO_LOCK: "",
            ENV_RUN_STARTED: repr(started),
            ENV_TAKEN_FLAG: str(flag),
        }
        try:
            with _environment(env):
                yield
        finally:
            flag.unlink(missing_ok=True)
            os.close(fd)


def _take_slot(
    folder: Path, key: str, options: LockOptions, *, signalable: bool
) -> tuple[int, Path]:
    """Take a free slot of the command, under its guard; exit if there is none."""
    guard = os.open(
        folder / f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
    )
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)  # held for milliseconds by the others
        slots = [folder / f"{key}.{index}.pid" for index in range(options.size + 1)]
        free: list[tuple[int, Path]] = []
        holders: list[tuple[Holder | None, Path]] = []
        for path in slots:
            fd, locked = try_lock(path)
            if locked:
                free.append((fd, path))
            else:
                holders.append((read_holder(fd), path))
                os.close(fd)
        taken = _choose(free, holders, options)
        for fd, _ in free:
            if fd != taken[0]:
                os.close(fd)
        write_holder(taken[0], "usr1" if signalable else "-")
        return taken
    finally:
        os.close(guard)


def _choose(
    free: list[tuple[int, Path]],
    holders: list[tuple[Holder | None, Path]],
    options: LockOptions,
) -> tuple[int, Path]:
    allowed = options.size + 1 if options.take_lock else options.size
    if len(holders) >= allowed:
        for fd, _ in free:
            os.close(fd)
        _refuse(holders, taker_present=options.take_lock)
    if options.take_lock:
        mine = free[0][1]
        for holder, path in holders:
            _hand_over(holder, path, mine)
    return free[0]


def _hand_over(holder: Holder | None, path: Path, mine: Path) -> None:
    """Tell a live run of the command that this run takes over (Luigi's SIGUSR1)."""
    Path(f"{path}.taken").write_text(
        f"{os.getpid()}\n{socket.gethostname()}\n{time.time()}\n{mine}\n"
    )
    if holder is not None and holder.signalable and holder.host == socket.gethostname():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(holder.pid, signal.SIGUSR1)
    sys.stderr.write(
        f"nbflow: taking over the lock from {holder or 'a run of this command'}: it "
        "starts no new task while this run lives\n"
    )


def _refuse(holders: list[tuple[Holder | None, Path]], *, taker_present: bool) -> None:
    code = RetCodes.from_settings(current_settings()).already_running
    who = ", ".join(str(holder or "a starting process") for holder, _ in holders)
    note = (
        " One of them already took over with --take-lock: there is probably no need "
        "to run this one as well."
        if taker_present
        else ""
    )
    sys.stderr.write(
        f"nbflow: already running: the same command runs as {who} (lock files "
        f"{holders[0][1].parent}); exiting with the already_running code {code}.{note} "
        "Fix: wait for it to finish, or pass --take-lock to take over, --lock-size N "
        "to allow N runs at once, or --no-lock.\n"
    )
    raise AlreadyRunningExit(code)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block (worker processes inherit them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _notice_takeover() -> Iterator[bool]:
    """Say so on stderr when another run takes over (SIGUSR1), as Luigi's worker does.

    Yields whether the handler is in place (only the main thread can install one);
    takers signal only runs that have one, since SIGUSR1 kills a process by default.
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return

    def notice(signum: int, frame: object) -> None:
        del signum, frame
        sys.stderr.write(
            "nbflow: another run of this command took over (--take-lock): this run "
            "starts no new task while it lives; running tasks finish\n"
        )

    previous = signal.signal(signal.SIGUSR1, notice)
    try:
        yield True
    finally:
        signal.signal(signal.SIGUSR1, previous)
