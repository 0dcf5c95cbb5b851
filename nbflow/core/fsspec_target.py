"""Targets on any fsspec file system: ``memory://``, ``file://``, ``s3://`` and more.

:class:`FsspecTarget` is a :class:`~nbflow.core.target.FileSystemTarget` for an fsspec
URL, and :class:`FsspecFileSystem` gives an fsspec file system Luigi's
:class:`~nbflow.core.target.FileSystem` API. fsspec is imported lazily, on the first
use of a target's file system, so importing this module and creating targets is cheap
and does no I/O.

Writes keep the promise of :mod:`nbflow.core.target`: ``open("w")`` writes to a
temporary sibling (``.nbflow-tmp-<owner>-<random>-<name>`` in the same folder or
prefix) and, only when ``close()`` succeeds, moves it onto the final URL with ``fs.mv``; on an
error the temporary is removed.

What each backend guarantees
----------------------------
local (``file://`` or a plain path)
    The move is a ``rename`` within one directory, atomic on POSIX: readers see the
    old file or the whole new one. Parent directories are created on write.
memory (``memory://``)
    The move happens inside this process (the store is per process), so other
    threads see the whole object or none of it; nothing survives the process.
object stores (``s3://``, ``gcs://``, ``abfs://``; needs s3fs, gcsfs, adlfs)
    An object becomes visible only when its upload completes, so no reader ever sees
    a partial object, at the temporary key or at the final one. A move is a
    server-side copy followed by a delete: the final key appears whole, but a crash
    between copy and delete can leave a ``.nbflow-tmp-...`` key behind: the next run
    of a task writing to that prefix removes it if its owner is a dead process of this
    host, and otherwise reports it (or set a lifecycle rule for that prefix). A rerun
    backs up the previous object with a copy (no hard links there). ``exists()`` is a
    single ``HEAD``/``LIST``. Parent "directories" are not created (object stores do not have them).

Imports: the standard library, :mod:`nbflow.core.errors`, :mod:`nbflow.core.format`,
:mod:`nbflow.core.target`; fsspec lazily.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from nbflow.core.target import (
    FileAlreadyExists,
    FileSystem,
    FileSystemTarget,
    MissingParentDirectory,
    Staging,
    temporary_sibling,
)
from nbflow.core.temporary import note_commit

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

    from nbflow.core.format import Format

__all__ = ["FsspecFileSystem", "FsspecTarget"]


def _parent(url: str) -> str:
    """Return the URL of the folder holding ``url``, or ``""`` at the top.

    Examples
    --------
    >>> _parent("memory://a/b.csv"), _parent("/tmp/x"), _parent("s3://bucket")
    ('memory://a', '/tmp', '')
    """
    protocol, separator, rest = url.rpartition("://")
    head = rest.rpartition("/")[0]
    return f"{protocol}{separator}{head}" if head else ""


def _is_local_url(url: str) -> bool:
    """Return whether ``url`` names a file on this machine.

    Examples
    --------
    >>> _is_local_url("/tmp/x"), _is_local_url("file:///tmp/x"), _is_local_url("s3://b/k")
    (True, True, False)
    """
    return "://" not in url or url.startswith(("file://", "local://"))


class FsspecFileSystem(FileSystem):
    """An fsspec file system behind Luigi's :class:`FileSystem` API.

    Parameters
    ----------
    filesystem
        An ``fsspec.AbstractFileSystem``. Paths may be plain paths or URLs of its
        protocol.
    """

    def __init__(self, filesystem: Any) -> None:
        #: The wrapped ``fsspec.AbstractFileSystem``.
        self.filesystem = filesystem

    @property
    def is_local(self) -> bool:
        """Whether the file system is this machine's disk."""
        protocols = self.filesystem.protocol
        names = (protocols,) if isinstance(protocols, str) else tuple(protocols)
        return "file" in names

    def exists(self, path: str) -> bool:
        """Return whether ``path`` exists (one metadata request)."""
        return bool(self.filesystem.exists(path))

    def isdir(self, path: str) -> bool:
        """Return whether ``path`` is a directory (or an object-store prefix)."""
        return bool(self.filesystem.isdir(path))

    def listdir(self, path: str) -> Iterator[str]:
        """Yield the paths of all files under ``path``, recursively."""
        yield from self.filesystem.find(path)

    def remove(self, path: str, recursive: bool = True) -> None:
        """Remove ``path``; ``FileNotFoundError`` if it does not exist."""
        self.filesystem.rm(path, recursive=recursive)

    def mkdir(
        self, path: str, parents: bool = True, raise_if_exists: bool = False
    ) -> None:
        """Create a directory (a no-op on most object stores)."""
        if self.exists(path):
            if raise_if_exists:
                raise FileAlreadyExists(path, "mkdir")
            return
        parent = _parent(path)
        if not parents and parent and not self.exists(parent):
            raise MissingParentDirectory(path, "mkdir")
        self.filesystem.makedirs(path, exist_ok=True)

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Move ``path`` to ``dest`` (``fs.mv``)."""
        if raise_if_exists and self.exists(dest):
            raise FileAlreadyExists(dest, "move")
        self.make_parent_dirs(dest)
        self.filesystem.mv(path, dest, recursive=self.isdir(path))

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Copy ``path`` to ``dest`` (``fs.copy``)."""
        if raise_if_exists and self.exists(dest):
            raise FileAlreadyExists(dest, "copy")
        self.make_parent_dirs(dest)
        self.filesystem.copy(path, dest, recursive=self.isdir(path))

    def make_parent_dirs(self, path: str) -> None:
        """Create the folder holding ``path`` on local disks; elsewhere do nothing."""
        parent = _parent(path)
        if parent and self.is_local:
            self.filesystem.makedirs(parent, exist_ok=True)


class _FsspecStaging:
    """A temporary sibling object, moved onto the final URL on publish."""

    def __init__(self, filesystem: FsspecFileSystem, final: str) -> None:
        self.filesystem, self.final = filesystem.filesystem, final
        self.temporary = temporary_sibling(final)
        filesystem.make_parent_dirs(final)
        self.stream: IO[bytes] = self.filesystem.open(self.temporary, "wb")

    def finish(self) -> None:
        self.stream.close()  # on object stores, the upload completes here

    def publish(self) -> None:
        try:
            self.filesystem.mv(self.temporary, self.final)
        except BaseException:
            self.discard()
            raise
        note_commit(self.final)

    def discard(self) -> None:
        self.stream.close()
        if self.filesystem.exists(self.temporary):
            self.filesystem.rm(self.temporary)


class FsspecTarget(FileSystemTarget):
    """A target at any fsspec URL, with atomic writes.

    Parameters
    ----------
    url
        ``memory://...``, ``file:///...``, ``s3://bucket/key`` or a plain local path.
    format
        See :class:`~nbflow.core.target.FileSystemTarget`.
    **storage_options
        Passed to the fsspec file system (credentials, endpoints, ...).

    Examples
    --------
    >>> target = FsspecTarget("memory://nbflow-doctest/greeting.txt")
    >>> with target.open("w") as out:
    ...     _ = out.write("hi")
    >>> with target.open("r") as text:
    ...     text.read()
    'hi'
    >>> target.remove()
    """

    def __init__(
        self,
        url: str | os.PathLike[str],
        format: Format | None = None,  # noqa: A002 - Luigi's name
        **storage_options: Any,
    ) -> None:
        super().__init__(url, format)
        #: Options for the fsspec file system.
        self.storage_options = storage_options
        #: Local paths are cleaned of dead runs' leftovers by ``exists()``; remote
        #: folders only when a task writing there runs (a listing costs more there).
        self.sweeps_leftovers = _is_local_url(self.path)
        self._filesystem: FsspecFileSystem | None = None

    @property
    def fs(self) -> FsspecFileSystem:
        """The target's file system; fsspec is imported on first use."""
        if self._filesystem is None:
            import fsspec.core  # noqa: PLC0415 - keep importing nbflow cheap

            filesystem, _ = fsspec.core.url_to_fs(self.path, **self.storage_options)
            self._filesystem = FsspecFileSystem(filesystem)
        return self._filesystem

    def _open_reader(self) -> IO[bytes]:
        stream: IO[bytes] = self.fs.filesystem.open(self.path, "rb")
        return stream

    def _stage(self) -> Staging:
        return _FsspecStaging(self.fs, self.path)

    def _make_parent_dirs(self) -> None:
        self.fs.make_parent_dirs(self.path)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_filesystem": None}  # rebuilt where it lands
