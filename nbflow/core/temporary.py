"""Temporary siblings of outputs: their names, their owners, and the rerun in progress.

Every write goes to a hidden sibling of its output first (see
:mod:`nbflow.core.target`). Its name says who made it, so that a later run can tell the
leftovers of a dead process from the work of a live one::

    .nbflow-tmp-<host>.<pid>.<start>-<random>-<name>

``host`` is a short digest of the host name, ``pid`` the process id and ``start`` the
process's start time (clock ticks since boot on Linux, ``0`` where unknown), so a
reused pid is not mistaken for the owner. ``name`` is the output's own name, so the
format chosen by suffix (``.csv.gz``) is the same; when the whole name would not fit in
one path component (255 bytes), the front of ``name`` is replaced by a digest and its
end, with the suffix, is kept.

This module also holds the per-run state of a rerun (:class:`Replacing`): which
outputs the running task is replacing, so that ``exists()`` reports them missing
until this run commits them, and so that ``temporary_path()`` may replace them.

Imports: the standard library only.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "NAME_MAX",
    "PREFIX",
    "REPLACING",
    "SWEEP_EVERY",
    "SWEPT",
    "Leftover",
    "Owner",
    "Replacing",
    "current_owner",
    "fit_name",
    "forget_sweeps",
    "note_commit",
    "parse_leftover",
    "sweep_folder_of",
    "temporary_sibling",
]

#: The longest name of one path component, in bytes, on common file systems.
NAME_MAX = 255
#: How every temporary name starts.
PREFIX = ".nbflow-tmp-"
#: Seconds before a folder already cleaned by this process is looked at again.
SWEEP_EVERY = 60.0

_OWNED = re.compile(r"([0-9a-f]{6})\.(\d+)\.([0-9a-z]+)-[0-9a-f]+-(.*)", re.DOTALL)
_LEGACY = re.compile(r"[0-9a-f]{12}-(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that made a temporary: host digest, process id and start time."""

    host: str
    pid: int
    start: int

    @property
    def token(self) -> str:
        """The owner as written in a temporary name.

        Examples
        --------
        >>> Owner("0a1b2c", 42, 1000).token
        '0a1b2c.42.rs'
        """
        return f"{self.host}.{self.pid}.{_base36(self.start)}"

    def is_alive(self) -> bool | None:
        """Return whether the owner still runs; ``None`` if it is on another host."""
        if self.host != _host_digest():
            return None
        if self.pid == os.getpid():
            return self.start in {0, _start_of(self.pid)}
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process: it exists
            pass
        started = _start_of(self.pid)
        return started is not None and self.start in {0, started}


class Leftover(NamedTuple):
    """What a temporary's name tells: its owner (``None`` for old-style names)."""

    owner: Owner | None
    #: The output's name, or its shortened end when the name had to be shortened.
    name: str


def parse_leftover(name: str) -> Leftover | None:
    """Return what the temporary ``name`` tells, or ``None`` if it is not one.

    Examples
    --------
    >>> parse_leftover(".nbflow-tmp-0a1b2c.42.rs-00ff-out.csv")
    Leftover(owner=Owner(host='0a1b2c', pid=42, start=1000), name='out.csv')
    >>> parse_leftover(".nbflow-tmp-0123456789ab-out.csv")
    Leftover(owner=None, name='out.csv')
    >>> parse_leftover("out.csv") is None
    True
    """
    if not name.startswith(PREFIX):
        return None
    rest = name[len(PREFIX) :]
    owned = _OWNED.fullmatch(rest)
    if owned:
        host, pid, start, final = owned.groups()
        return Leftover(Owner(host, int(pid), int(start, 36)), final)
    legacy = _LEGACY.fullmatch(rest)
    return Leftover(None, legacy.group(1)) if legacy else None


def current_owner() -> Owner:
    """Return the owner that temporaries made by this process carry."""
    return _owner_of(os.getpid())


@functools.cache
def _owner_of(pid: int) -> Owner:
    return Owner(_host_digest(), pid, _start_of(pid) or 0)


@functools.cache
def _host_digest() -> str:
    """Digest the host name and the pid namespace (containers may share a host name)."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)  # noqa: PTH116
    except OSError:
        namespace = ""
    where = f"{socket.gethostname()}/{namespace}".encode()
    return hashlib.sha1(where, usedforsecurity=False).hexdigest()[:6]


def _start_of(pid: int) -> int | None:
    """Return the start time of a live process (0 without /proc), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123  (hot, tiny read)
            fields = stat.read().rpartition(b")")[2].split()
    except FileNotFoundError:
        return None if os.path.isdir("/proc/self") else 0  # noqa: PTH112
    except OSError:
        return 0
    if fields[0] in {b"Z", b"X"}:  # a zombie has finished: only its exit is kept
        return None
    return int(fields[19])


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def fit_name(head: str, name: str, tail: str = "") -> str:
    """Return ``head + name + tail``, shortening ``name`` to fit in :data:`NAME_MAX`.

    The end of ``name`` (with its suffix) is kept after a digest of the whole name.

    Examples
    --------
    >>> fit_name("tmp-", "out.csv")
    'tmp-out.csv'
    >>> short = fit_name("tmp-", "x" * 300 + ".csv")
    >>> len(short.encode()), short.endswith("x.csv")
    (255, True)
    """
    budget = NAME_MAX - len(head.encode()) - len(tail.encode())
    if len(name.encode()) <= budget:
        return head + name + tail
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:10]
    keep, room = "", budget - len(digest) - 1
    for char in reversed(name):
        if len((char + keep).encode()) > room:
            break
        keep = char + keep
    return f"{head}{digest}~{keep}{tail}"


def temporary_sibling(path: str, suffix: str = "") -> str:
    """Return a unique hidden path in the same folder as ``path``, owned by this process.

    The name ends with the original name (and ``suffix``), so suffix-based format
    detection works; it always fits in one path component.

    Examples
    --------
    >>> name = temporary_sibling("data/out.csv")
    >>> name.startswith("data/.nbflow-tmp-"), name.endswith("-out.csv")
    (True, True)
    >>> parse_leftover(name.rpartition("/")[2]).owner == current_owner()
    True
    """
    cut = max(path.rfind("/"), path.rfind(os.sep))
    head = f"{PREFIX}{current_owner().token}-{secrets.token_hex(4)}-"
    return path[: cut + 1] + fit_name(head, path[cut + 1 :], suffix)


@dataclass(slots=True)
class Replacing:
    """The outputs a running task replaces: hidden until committed by this run."""

    #: Output path -> where its previous version is kept (for directories).
    backups: dict[str, str] = field(default_factory=dict)
    #: Local output path -> a second name its new version gets when published, so a
    #: killed rerun's outputs all have two links and ``exists()`` notices them.
    links: dict[str, str] = field(default_factory=dict)
    #: Paths this run has published.
    committed: set[str] = field(default_factory=set)

    def hides(self, path: str) -> bool:
        """Return whether ``path`` holds a previous output not yet replaced."""
        return path in self.backups and path not in self.committed

    def commit(self, path: str) -> None:
        """Note that this run published ``path`` (and link its second name)."""
        self.committed.add(path)
        link = self.links.get(path)
        if link is not None:
            with contextlib.suppress(OSError):  # a directory, or no hard links here
                os.link(path, link)

    def publish(self, fs: Any, temporary: str, path: str) -> None:
        """Move ``temporary`` onto ``path``, replacing the previous version.

        A file is replaced in one atomic rename. A directory cannot be: the previous
        one moves to its backup first (the rerun's journal can put it back).
        """
        if fs.isdir(path):
            fs.move(path, self.backups[path])
        fs.move(temporary, path)
        self.commit(path)


#: The rerun in progress in this context (thread), if any.
REPLACING: contextvars.ContextVar[Replacing | None] = contextvars.ContextVar(
    "nbflow_replacing", default=None
)


def note_commit(path: str) -> None:
    """Tell the rerun in progress, if any, that ``path`` was just published."""
    replacing = REPLACING.get()
    if replacing is not None:
        replacing.commit(path)


_swept: dict[str, float] = {}
_sweeping = threading.Lock()
#: Folder -> when its last cleanup expires (``time.monotonic()``).
SWEPT = _swept


def sweep_folder_of(fs: Any, path: str) -> None:
    """Clean up after dead runs in the folder of ``path``, at most once a minute.

    ``exists()`` calls it the first time a process looks at a folder, and every task
    that runs calls it for its outputs, so the next run that looks at an output finds
    its folder cleaned (see :func:`nbflow.core.journal.sweep`).
    """
    folder = path.rpartition("/")[0]
    if SWEPT.get(folder, 0.0) > time.monotonic():
        return
    with _sweeping:
        if SWEPT.get(folder, 0.0) > time.monotonic():
            return
        SWEPT[folder] = time.monotonic() + SWEEP_EVERY
        from nbflow.core.journal import sweep  # noqa: PLC0415  (it imports targets)

        sweep(fs, folder)


def forget_sweeps() -> None:
    """Make the next ``exists()`` in every folder look for leftovers again."""
    SWEPT.clear()
