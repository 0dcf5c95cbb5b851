"""The rerun journal: a rerun, however it ends, never loses the previous outputs.

Theory of operation
-------------------
A forced or stale rerun of a task whose outputs (some of them) exist starts with
:meth:`Rerun.begin`:

1. A journal (``.nbflow-tmp-<owner>-<random>-<first output>.journal``, JSON, written
   atomically) records, for every output, whether it existed, its identity (device,
   inode, modification time and size; for remote file systems what ``info()`` says)
   and the name of its backup.
2. Each existing file gets a backup that leaves it at its path: a hard link on a local
   disk, a copy elsewhere. A directory cannot be linked: it moves to its backup only
   when the new one is published (:meth:`Replacing.publish`).
3. ``run()`` writes the new outputs; each publish replaces the old file in one atomic
   rename. Until it does, ``exists()`` reports the output missing to ``run()``.

Then exactly one of these happens:

- success (:meth:`Rerun.finish`): backups go, then the journal;
- failure, suspension or interruption in this process (:meth:`Rerun.rollback`): every
  output changed by the run is put back from its backup and outputs that did not exist
  before are removed; then the backups and the journal go;
- the process dies (SIGKILL, OOM): the journal stays. The next run that looks at an
  output finds a journal whose owner is dead (:func:`sweep`): ``LocalTarget.exists()``
  sweeps the folder when the file has a second link (every output of a rerun has one
  until it finishes: its backup, or a ``.next`` name given to the new version when it
  is published), other targets on first use, and every task that runs sweeps the
  folders of its outputs.
  If the outputs are all old or all new, the set is consistent and kept; if some are
  new and some old, the previous set is restored. Either way it logs a warning that
  names the task and its outputs, then removes backups and journal.

Order makes every instant recoverable: the journal exists before any backup, and it is
removed after every backup. :func:`sweep` also removes the temporaries of dead
processes, and reports (with the command that removes them) those it cannot judge:
made on another host or by an older nbflow.

Imports: the standard library, :mod:`nbflow.core.target`, :mod:`nbflow.core.temporary`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nbflow.core.target import FileSystemTarget, LocalFileSystem
from nbflow.core.temporary import (
    PREFIX,
    Replacing,
    parse_leftover,
    sweep_folder_of,
    temporary_sibling,
)

__all__ = ["BACKUP", "JOURNAL", "Rerun", "sweep"]

logger = logging.getLogger(__name__)

#: How a journal's name ends.
JOURNAL = ".journal"
#: How a backup's name ends.
BACKUP = ".previous"
#: How the second name of a newly published output ends.
LINK = ".next"
#: Keys of an fsspec ``info()`` that change when an object is replaced.
_CHANGING = frozenset(
    {"size", "mtime", "LastModified", "ETag", "etag", "created", "ino", "generation"}
)


@dataclass(slots=True)
class Entry:
    """One output of a rerun, as the journal records it."""

    path: str
    backup: str
    existed: bool
    identity: list[Any] | None
    is_dir: bool
    #: The second name of the new version (local files; see Replacing.links).
    link: str = ""


class Rerun:
    """A rerun in progress: its journal, its backups and what ``run()`` committed."""

    def __init__(
        self, label: str, journal: str, entries: list[tuple[Any, Entry]]
    ) -> None:
        self.label, self.journal, self.entries = label, journal, entries
        self.replacing = Replacing(
            {e.path: e.backup for _, e in entries if e.existed},
            {e.path: e.link for _, e in entries if e.link},
        )
        self._open = True

    @classmethod
    def begin(cls, task: object, outputs: list[Any]) -> Rerun | None:
        """Journal and back up the outputs of ``task``; ``None`` if none exists."""
        targets = [out for out in outputs if isinstance(out, FileSystemTarget)]
        for out in targets:  # first: recovering a killed rerun may change what exists
            sweep_folder_of(out.fs, out.path)
        existed = [out.exists() for out in targets]
        if not any(existed):
            return None
        entries = [
            (out.fs, _entry(out.fs, out.path, existed=there))
            for out, there in zip(targets, existed, strict=True)
        ]
        fs = targets[0].fs
        journal = temporary_sibling(targets[0].path, JOURNAL)
        label = task if isinstance(task, str) else repr(task)
        record = {"task": label, "outputs": [asdict(e) for _, e in entries]}
        _write(fs, journal, json.dumps(record).encode())
        for out_fs, entry in entries:
            if entry.existed and not entry.is_dir:
                _keep(out_fs, entry.path, entry.backup)
        return cls(label, journal, entries)

    @classmethod
    def load(cls, fs: Any, journal: str) -> Rerun:
        """Return the rerun recorded in ``journal`` (``ValueError`` if unreadable)."""
        record = json.loads(_read(fs, journal))
        entries = [(fs, Entry(**fields)) for fields in record["outputs"]]
        return cls(str(record["task"]), journal, entries)

    def missing(self) -> tuple[str, ...]:
        """Return the outputs that this run did not produce."""
        return tuple(
            entry.path
            for fs, entry in self.entries
            if not fs.exists(entry.path) or not self._changed(fs, entry)
        )

    def finish(self) -> None:
        """Keep the new outputs: remove the backups, then the journal."""
        for fs, entry in self.entries:
            _drop(fs, entry.backup)
        self._close()

    def rollback(self) -> list[str]:
        """Put the previous outputs back; return what was done, output by output."""
        if not self._open:
            return []
        done = []
        for fs, entry in self.entries:
            if self._changed(fs, entry):
                done.append(_put_back(fs, entry))
            _drop(fs, entry.backup)
        self._close()
        return done

    def recover(self) -> None:
        """Finish the rerun of a dead process: keep a consistent set, and say so."""
        changed = [self._changed(fs, entry) for fs, entry in self.entries]
        gone = [
            entry.existed and not fs.exists(entry.path) for fs, entry in self.entries
        ]
        if all(changed) and not any(gone):  # a directory is gone while it is swapped
            self.finish()
            logger.warning(
                "%s: a killed run had replaced all its outputs (%s); kept them.",
                self.label,
                ", ".join(entry.path for _, entry in self.entries),
            )
        elif any(changed):
            done = self.rollback()
            logger.warning(
                "%s: a killed run left some outputs new and some old; restored the "
                "previous set: %s.",
                self.label,
                "; ".join(done),
            )
        else:
            self.finish()

    def _changed(self, fs: Any, entry: Entry) -> bool:
        if entry.path in self.replacing.committed:
            return True
        if not entry.existed:
            return bool(fs.exists(entry.path))
        return _identity(fs, entry.path) != entry.identity

    def _close(self) -> None:
        for fs, entry in self.entries:
            if entry.link:
                _drop(fs, entry.link)
        fs = self.entries[0][0]
        _drop(fs, self.journal)
        self._open = False


def _entry(fs: Any, path: str, *, existed: bool) -> Entry:
    backup = temporary_sibling(path, BACKUP)
    link = temporary_sibling(path, LINK) if isinstance(fs, LocalFileSystem) else ""
    if not existed:
        return Entry(
            path, backup, existed=False, identity=None, is_dir=False, link=link
        )
    is_dir = bool(fs.isdir(path))
    identity = _identity(fs, path)
    return Entry(
        path, backup, existed=True, identity=identity, is_dir=is_dir, link=link
    )


def _local(fs: Any, path: str) -> str | None:
    """Return the local path behind ``path``, or ``None`` if it is not on this disk."""
    if isinstance(fs, LocalFileSystem):
        return path
    if getattr(fs, "is_local", False):
        return str(fs.filesystem._strip_protocol(path))  # noqa: SLF001  (fsspec's own)
    return None


def _identity(fs: Any, path: str) -> list[Any] | None:
    """Return what changes when ``path`` is replaced, or ``None`` if it is missing."""
    local = _local(fs, path)
    if local is not None:
        try:
            stat = os.stat(local)  # noqa: PTH116  (the raw numbers are the point)
        except FileNotFoundError:
            return None
        return [stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size]
    if not fs.exists(path):
        return None
    if not hasattr(fs, "filesystem"):
        return []  # in memory: commits tell what changed
    info = fs.filesystem.info(path)
    return sorted([key, str(value)] for key, value in info.items() if key in _CHANGING)


def _keep(fs: Any, path: str, backup: str) -> None:
    """Back up a file without moving it: a hard link, or else a copy."""
    local = _local(fs, path)
    if local is None:
        fs.copy(path, backup)
        return
    local_backup = _local(fs, backup) or backup
    try:
        os.link(local, local_backup)
    except OSError:  # no hard links here (some network and FUSE file systems)
        shutil.copy2(local, local_backup)


def _put_back(fs: Any, entry: Entry) -> str:
    """Restore one output as it was before the rerun; return what was done."""
    if not entry.existed:
        fs.remove(entry.path)
        return f"{entry.path} (removed: it did not exist before)"
    if not fs.exists(entry.backup):
        return f"{entry.path} (no previous copy to restore)"
    if entry.is_dir and fs.exists(entry.path):
        fs.remove(entry.path)
    local = _local(fs, entry.path)
    if local is not None:
        Path(_local(fs, entry.backup) or entry.backup).replace(local)  # atomic
    else:
        fs.move(entry.backup, entry.path)
    return f"{entry.path} (previous version restored)"


def _drop(fs: Any, path: str) -> None:
    local = _local(fs, path)
    if local is None:
        if fs.exists(path):
            fs.remove(path)
    elif Path(local).is_dir() and not Path(local).is_symlink():
        shutil.rmtree(local, ignore_errors=True)
    else:
        Path(local).unlink(missing_ok=True)


def _write(fs: Any, path: str, data: bytes) -> None:
    """Write ``data`` at ``path`` in one step: readers see all of it or nothing."""
    local = _local(fs, path)
    if local is None:
        if hasattr(fs, "put_bytes"):
            fs.put_bytes(path, data)
        else:
            fs.filesystem.pipe_file(path, data)  # an object appears whole
        return
    partial = Path(local.removesuffix(JOURNAL) + ".part")  # as long, or shorter
    partial.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    partial.replace(local)


def _read(fs: Any, path: str) -> bytes:
    local = _local(fs, path)
    if local is not None:
        return Path(local).read_bytes()
    if hasattr(fs, "get_bytes"):
        return bytes(fs.get_bytes(path))
    return bytes(fs.filesystem.cat_file(path))


def sweep(fs: Any, folder: str) -> None:
    """Clean up after dead runs in ``folder``: recover journals, remove temporaries.

    Temporaries of live processes are never touched. Those whose owner cannot be
    checked (another host, an older nbflow) are reported with a removal command.
    """
    try:
        names = _names(fs, folder)
    except OSError as exc:
        logger.debug("cannot look for leftovers in %r: %s", folder, exc)
        return
    unknown = []
    for name in sorted(names):
        leftover = parse_leftover(name)
        if leftover is None:
            continue
        path = f"{folder}/{name}" if folder else name
        alive = leftover.owner.is_alive() if leftover.owner else None
        if alive is None:
            unknown.append(path)
        elif not alive:
            _clean(fs, path)
    if unknown:
        _report(unknown)


def _names(fs: Any, folder: str) -> list[str]:
    local = _local(fs, folder or ".")
    if local is not None:
        names = os.listdir(local)  # noqa: PTH208  (names only: no Path per entry)
        return [name for name in names if name.startswith(PREFIX)]
    if not hasattr(fs, "filesystem"):
        return []  # in memory: nothing outlives its process
    listed = fs.filesystem.ls(folder, detail=False)
    return [str(p).rpartition("/")[2] for p in listed if PREFIX in str(p)]


def _clean(fs: Any, path: str) -> None:
    """Handle one leftover of a dead process (its backups belong to its journal)."""
    if path.endswith((BACKUP, LINK)):
        return
    if path.endswith(JOURNAL):
        try:
            rerun = Rerun.load(fs, path)
        except (ValueError, KeyError, TypeError):  # cut short before it was complete
            _drop(fs, path)
            return
        rerun.recover()
        return
    with contextlib.suppress(FileNotFoundError):  # another sweeper was first
        _drop(fs, path)
        logger.info("removed %s, a temporary of a run that is gone", path)


def _report(paths: list[str]) -> None:
    restore = [
        f"mv -- {shlex.quote(path)} {shlex.quote(_original(path))}"
        for path in paths
        if path.endswith(BACKUP) and not Path(_original(path)).exists()
    ]
    logger.warning(
        "%d leftover temporaries of runs on another host or of an older nbflow (%s). "
        "If no such run is active, remove them: rm -rf -- %s%s",
        len(paths),
        ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else ""),  # noqa: PLR2004
        " ".join(shlex.quote(path) for path in paths),
        "".join(f"; or first put a lost output back: {line}" for line in restore),
    )


def _original(backup: str) -> str:
    """Return the output path a backup was made for (old-style names only)."""
    folder, _, name = backup.rpartition("/")
    leftover = parse_leftover(name)
    original = leftover.name if leftover else name
    original = original.removesuffix(BACKUP)
    return f"{folder}/{original}" if folder else original
