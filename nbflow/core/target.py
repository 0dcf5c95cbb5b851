"""Targets: the outputs a task writes and the inputs its dependents read.

:class:`LocalTarget` is a file (or directory) on this machine and :class:`MemoryTarget`
an in-memory fake for tests, each on its :class:`FileSystem`. The protocol they
implement (:class:`Target`, :class:`FileSystem`, :class:`FileSystemTarget`) and the
atomic writes they share live in :mod:`nbflow.core.file_system`, re-exported here.

Imports: the standard library, :mod:`nbflow.core.file_system`,
:mod:`nbflow.core.file_system_errors`, :mod:`nbflow.core.format` and
:mod:`nbflow.core.temporary`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import stat
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

from nbflow.core.file_system import (
    AtomicFile,
    FileSystem,
    FileSystemTarget,
    Staging,
    Target,
)
from nbflow.core.file_system_errors import (
    FileAlreadyExists,
    FileSystemException,
    InvalidModeError,
    MissingParentDirectory,
    MissingPathError,
    NotADirectory,
    UnsupportedOperationError,
)
from nbflow.core.temporary import (
    REPLACING,
    note_commit,
    sweep_folder_of,
    temporary_sibling,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.core.format import Format

__all__ = [
    "AtomicFile",
    "FileAlreadyExists",
    "FileSystem",
    "FileSystemException",
    "FileSystemTarget",
    "InvalidModeError",
    "LocalFileSystem",
    "LocalTarget",
    "MemoryFileSystem",
    "MemoryTarget",
    "MissingParentDirectory",
    "MissingPathError",
    "NotADirectory",
    "Staging",
    "Target",
    "UnsupportedOperationError",
    "temporary_sibling",
]


class LocalFileSystem(FileSystem):
    """The local disk, with Luigi's operations."""

    def exists(self, path: str) -> bool:
        """Return whether ``path`` exists."""
        return os.path.exists(path)  # noqa: PTH110  (no Path object: this is the hot check)

    def isdir(self, path: str) -> bool:
        """Return whether ``path`` is a directory."""
        return Path(path).is_dir()

    def listdir(self, path: str) -> Iterator[str]:
        """Yield the paths of all files under ``path``, recursively (as Luigi)."""
        for folder, _, files in os.walk(path):
            for name in files:
                yield str(Path(folder) / name)

    def remove(
        self, path: str, recursive: bool = True, skip_trash: bool = True
    ) -> None:
        """Remove a file, or a directory tree when ``recursive``."""
        del skip_trash  # Luigi's option for file systems with a trash; none here
        target = Path(path)
        if recursive and target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()

    def mkdir(
        self, path: str, parents: bool = True, raise_if_exists: bool = False
    ) -> None:
        """Create a directory; see :class:`FileAlreadyExists` and friends."""
        folder = Path(path)
        if folder.exists():
            if raise_if_exists or not folder.is_dir():
                raise FileAlreadyExists(path, "mkdir")
            return
        if not parents and not folder.parent.exists():
            raise MissingParentDirectory(path, "mkdir")
        try:
            folder.mkdir(parents=parents, exist_ok=True)
        except (NotADirectoryError, FileExistsError) as exc:
            raise NotADirectory(path, "mkdir") from exc

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Move a file or directory, creating the parents of ``dest``."""
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        if raise_if_exists:
            self.rename_dont_move(path, dest)
            return
        try:
            os.replace(path, dest)  # noqa: PTH105  (plain strings: the paths as given)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.move(path, dest)  # another device: copy, then delete

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Move ``path`` to ``dest`` atomically unless ``dest`` exists."""
        try:
            Path(dest).hardlink_to(path)  # fails atomically if dest exists
        except FileExistsError:
            raise FileAlreadyExists(dest, "rename_dont_move") from None
        except OSError:  # a directory, or no hard links here: check, then rename
            if Path(dest).exists():
                raise FileAlreadyExists(dest, "rename_dont_move") from None
            Path(path).rename(dest)
            return
        Path(path).unlink()

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Copy a file or directory; ``dest`` appears whole or not at all."""
        if raise_if_exists and Path(dest).exists():
            raise FileAlreadyExists(dest, "copy")
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_sibling(dest)
        try:
            if Path(path).is_dir():
                shutil.copytree(path, temporary)
            else:
                shutil.copy(path, temporary)
            Path(temporary).replace(dest)
        except BaseException:
            if Path(temporary).exists():
                self.remove(temporary)
            raise


class _LocalStaging:
    """A temporary sibling file on the local disk."""

    def __init__(self, final: str) -> None:
        self.final = final
        self.temporary = temporary_sibling(final)
        self.stream: IO[bytes] = Path(self.temporary).open("xb")  # noqa: SIM115

    def finish(self) -> None:
        self.stream.close()

    def publish(self) -> None:
        try:
            Path(self.temporary).replace(self.final)  # atomic on POSIX
        except BaseException:
            self.discard()
            raise
        note_commit(self.final)

    def discard(self) -> None:
        self.stream.close()
        Path(self.temporary).unlink(missing_ok=True)


_LOCAL_FILE_SYSTEM = LocalFileSystem()


class LocalTarget(FileSystemTarget):
    """A file (or directory) on the local disk.

    ``is_tmp=True`` makes a temporary target: without ``path``, a random path in the
    system's temp directory is used. Either way the file (or directory) is removed
    when the target object is garbage collected, so keep a reference while needed.

    Examples
    --------
    >>> target = LocalTarget(is_tmp=True)
    >>> with target.open("w") as out:
    ...     _ = out.write("hello")
    >>> with target.open("r") as text:
    ...     text.read()
    'hello'
    >>> target.remove()
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        format: Format | None = None,  # noqa: A002 - Luigi's name
        is_tmp: bool = False,
    ) -> None:
        #: Whether the file is removed when this object is garbage collected.
        self.is_tmp = is_tmp
        if path is None:
            if not is_tmp:
                raise MissingPathError(type(self).__name__)
            number = secrets.randbelow(10**9)
            path = Path(tempfile.gettempdir()) / f"nbflow-tmp-{number:09d}"
        super().__init__(path, format)

    def exists(self) -> bool:
        """Return whether the file or directory exists (one ``stat``).

        A file with more than one link may have a backup made by a rerun (see
        :mod:`nbflow.core.journal`): if that rerun's process died, its folder is
        cleaned up (a consistent set of outputs restored) before answering.
        """
        path = self.path
        replacing = REPLACING.get()
        if replacing is not None and replacing.hides(path):
            return False
        try:
            found = os.stat(path)  # noqa: PTH116  (the hot check: no Path object)
        except (OSError, ValueError):
            return False
        if found.st_nlink > 1 and stat.S_ISREG(found.st_mode):
            sweep_folder_of(self.fs, path)  # at most once a minute per folder
            return os.path.exists(path)  # noqa: PTH110
        return True

    @property
    def fs(self) -> LocalFileSystem:
        """The local file system."""
        return _LOCAL_FILE_SYSTEM

    @property
    def fn(self) -> str:
        """The path (Luigi's old name for it)."""
        return self.path

    def makedirs(self) -> None:
        """Create the directory that will hold the target, if missing."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def move(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Move the file to ``new_path`` (this object keeps its old path)."""
        self.fs.move(self.path, new_path, raise_if_exists=raise_if_exists)

    def move_dir(self, new_path: str) -> None:
        """Move a directory target to ``new_path``."""
        self.move(new_path)

    def copy(self, new_path: str, raise_if_exists: bool = False) -> None:
        """Copy the file to ``new_path``."""
        self.fs.copy(self.path, new_path, raise_if_exists=raise_if_exists)

    def _open_reader(self) -> IO[bytes]:
        return Path(self.path).open("rb")

    def _stage(self) -> Staging:
        self.makedirs()
        return _LocalStaging(self.path)

    def __repr__(self) -> str:
        tmp = ", is_tmp=True" if self.is_tmp else ""
        return f"{type(self).__name__}({self.path!r}{tmp})"

    def __del__(self) -> None:
        if getattr(self, "is_tmp", False) and self.exists():
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                self.remove()


class MemoryFileSystem(FileSystem):
    """A dictionary of paths to bytes; directories are implied by ``/`` in paths."""

    #: Serialises compound updates; shared by all stores so that stores pickle.
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def get_bytes(self, path: str) -> bytes:
        """Return the content at ``path``; ``FileNotFoundError`` if missing."""
        try:
            return self._files[path]
        except KeyError:
            raise FileNotFoundError(errno.ENOENT, "No such file", path) from None

    def put_bytes(self, path: str, data: bytes) -> None:
        """Set the content at ``path`` in one step."""
        self._files[path] = data

    def clear(self) -> None:
        """Remove every file."""
        self._files.clear()

    def exists(self, path: str) -> bool:
        """Return whether ``path`` is a file or a directory."""
        return path in self._files or self.isdir(path)

    def isdir(self, path: str) -> bool:
        """Return whether some file lives under ``path``."""
        return bool(self._names(path, files=False))

    def listdir(self, path: str) -> Iterator[str]:
        """Yield the files under ``path``, recursively, sorted."""
        yield from sorted(self._names(path, files=False))

    def mkdir(
        self, path: str, parents: bool = True, raise_if_exists: bool = False
    ) -> None:
        """Do nothing (directories are implied), but honour ``raise_if_exists``."""
        del parents  # every parent exists
        if raise_if_exists and self.exists(path):
            raise FileAlreadyExists(path, "mkdir")

    def remove(self, path: str, recursive: bool = True) -> None:
        """Remove a file, or everything under ``path`` when ``recursive``."""
        with self._lock:
            names = self._names(path) if recursive else [path]
            if not names or not all(name in self._files for name in names):
                raise FileNotFoundError(errno.ENOENT, "No such file", path)
            for name in names:
                del self._files[name]

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Move a file or a directory's files, in one step under a lock."""
        self._transfer(path, dest, raise_if_exists=raise_if_exists, keep=False)

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Copy a file or a directory's files."""
        self._transfer(path, dest, raise_if_exists=raise_if_exists, keep=True)

    def _names(self, path: str, *, files: bool = True) -> list[str]:
        """Return the files under the folder ``path`` (and ``path``, with ``files``)."""
        prefix = path.rstrip("/") + "/" if path else ""
        under = [name for name in list(self._files) if name.startswith(prefix)]
        return [path, *under] if files and path in self._files else under

    def _transfer(
        self, path: str, dest: str, *, raise_if_exists: bool, keep: bool
    ) -> None:
        with self._lock:
            if raise_if_exists and self.exists(dest):
                raise FileAlreadyExists(dest, "move" if not keep else "copy")
            names = self._names(path)
            if not names:
                raise FileNotFoundError(errno.ENOENT, "No such file", path)
            for name in names:
                data = self._files[name] if keep else self._files.pop(name)
                self._files[dest + name[len(path) :]] = data


class _MemoryStaging:
    """An in-memory buffer, stored under the final path on publish."""

    def __init__(self, store: MemoryFileSystem, final: str) -> None:
        self.store, self.final = store, final
        self._buffer = io.BytesIO()
        self.stream: IO[bytes] = self._buffer
        self._data = b""

    def finish(self) -> None:
        self._data = self._buffer.getvalue()
        self._buffer.close()

    def publish(self) -> None:
        self.store.put_bytes(self.final, self._data)
        note_commit(self.final)

    def discard(self) -> None:
        self._buffer.close()


class MemoryTarget(FileSystemTarget):
    """An in-memory target for tests, with the same atomic-write promise.

    ``name`` is the key in ``store``, a :class:`MemoryFileSystem`; ``None`` means the
    shared :attr:`MemoryTarget.default_store` (call its ``clear()`` between tests).

    Examples
    --------
    >>> store = MemoryFileSystem()
    >>> target = MemoryTarget("report.txt", store)
    >>> with target.open("w") as out:
    ...     _ = out.write("done")
    ...     target.exists()
    False
    >>> with target.open("r") as text:
    ...     target.exists(), text.read()
    (True, 'done')
    """

    #: The store shared by every MemoryTarget created without one.
    default_store: ClassVar[MemoryFileSystem] = MemoryFileSystem()

    def __init__(
        self,
        name: str,
        store: MemoryFileSystem | None = None,
        format: Format | None = None,  # noqa: A002 - Luigi's name
    ) -> None:
        super().__init__(name, format)
        self.store = store if store is not None else MemoryTarget.default_store

    @property
    def fs(self) -> MemoryFileSystem:
        """The store this target lives in."""
        return self.store

    def _open_reader(self) -> IO[bytes]:
        return io.BytesIO(self.store.get_bytes(self.path))

    def _stage(self) -> Staging:
        return _MemoryStaging(self.store, self.path)
