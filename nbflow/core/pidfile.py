"""Luigi's pid-file lock functions: ``getpcmd``, ``get_info``, ``acquire_for``.

A pid file in ``pid_dir``, named by a hash of the command line, lists the processes
running that command; ``acquire_for`` adds this process when fewer than
``num_available`` of them are alive (still running the same command). nbflow's own
commands lock with :mod:`nbflow.core.lock` (flock, which a crash cannot leave
held); these functions are kept for code written against ``luigi.lock``.

Imports: stdlib only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["acquire_for", "get_info", "getpcmd"]

_PROC = Path("/proc")


def getpcmd(pid: int) -> str:
    """Return the command line of process ``pid``, words joined by spaces ("" if gone).

    Examples
    --------
    >>> getpcmd(os.getpid()) != ""
    True
    """
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").rstrip()


def get_info(pid_dir: str, my_pid: int | None = None) -> tuple[int, str, str]:
    """Return ``(pid, command, pid file)`` for ``my_pid`` (default: this process)."""
    pid = os.getpid() if my_pid is None else my_pid
    command = getpcmd(pid)
    digest = hashlib.md5(command.encode("utf-8"), usedforsecurity=False).hexdigest()
    return pid, command, str(Path(pid_dir) / f"{digest}.pid")


def acquire_for(
    pid_dir: str, num_available: int = 1, kill_signal: int | None = None
) -> bool:
    """Record this process in the command's pid file if a slot is free.

    Processes listed in the file that no longer run the same command are dropped.
    With ``kill_signal``, the listed ones are sent it and this process gets one
    extra slot (so a take-over does not stack up).

    Returns
    -------
    bool
        Whether this process may run.
    """
    my_pid, my_command, pid_file = get_info(pid_dir)
    Path(pid_dir).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        Path(pid_dir).chmod(0o777)
    alive = {pid for pid in _listed(pid_file) if getpcmd(pid) == my_command}
    if kill_signal is not None:
        for pid in alive:
            os.kill(pid, kill_signal)
        num_available += 1
    if len(alive) >= num_available:
        return False
    _write(pid_file, alive | {my_pid})
    return True


def _listed(pid_file: str) -> set[int]:
    try:
        lines = Path(pid_file).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return set()
    return {int(line) for line in lines if line.strip().isdigit()}


def _write(pid_file: str, pids: set[int]) -> None:
    """Write the pid file atomically, readable and writable by every user."""
    fd, name = tempfile.mkstemp(dir=Path(pid_file).parent, suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.writelines(f"{pid}\n" for pid in sorted(pids))
        temporary.chmod(0o777)
        temporary.replace(pid_file)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
