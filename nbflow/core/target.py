"""Targets: the outputs a task writes and the inputs its dependents read.

A :class:`Target` answers one question, :meth:`Target.exists`; a task is complete when
all of its output targets exist. A :class:`FileSystemTarget` is a target at a path on
a :class:`FileSystem`; :class:`LocalTarget` is a file on this machine and
:class:`MemoryTarget` is an in-memory fake for tests.

Theory of operation: writes are atomic
-------------------------------------
``target.open("w")`` writes to a unique hidden sibling (``.nbflow-tmp-<owner>-<random>-
<name>``, see :mod:`nbflow.core.temporary`) through an :class:`AtomicFile`; only a
successful ``close()`` publishes it at the final path (a rename, atomic on POSIX, which
replaces a previous version in one step). When the ``with`` block raises, a format
layer fails to flush, or the file is garbage collected unclosed, the temporary is
removed and nothing appears at the final path: ``exists()`` never sees half an output.
A killed process cannot remove its temporaries: the first ``exists()`` of a later run
in that folder does (see :mod:`nbflow.core.journal`).

Three parts do this: a :class:`Staging` owns the temporary location (``finish``,
``publish``, ``discard``); ``_AtomicRaw``, at the bottom of the format chain, writes
into it; the :class:`AtomicFile` on top decides, on close, whether to publish.

Imports: the standard library, :mod:`nbflow.core.errors`, :mod:`nbflow.core.format`
and :mod:`nbflow.core.temporary`; pandas only lazily, through :mod:`nbflow.core.dataframe`.
"""

from __future__ import annotations

import abc
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
from typing import IO, TYPE_CHECKING, Any, ClassVar, Protocol

from nbflow.core.file_system_errors import (
    FileAlreadyExists,
    FileSystemException,
    InvalidModeError,
    MissingParentDirectory,
    MissingPathError,
    NotADirectory,
    UnsupportedOperationError,
)
from nbflow.core.format import Format, Nop, get_default_format
from nbflow.core.temporary import (
    REPLACING,
    SWEPT,
    note_commit,
    sweep_folder_of,
    temporary_sibling,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType

    from typing_extensions import Self

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


def _parse_mode(where: str, mode: str) -> tuple[bool, bool]:
    """Return ``(writing, binary)`` for an open mode."""
    chars = set(mode)
    if (
        len(chars) != len(mode)
        or not chars <= {"r", "w", "b", "t"}
        or len(chars & {"r", "w"}) != 1
        or {"b", "t"} <= chars
    ):
        raise InvalidModeError(where, mode)
    return "w" in chars, "b" in chars


class Staging(Protocol):
    """The temporary home of one write, until it is published or discarded."""

    #: Where the bytes go while the write is in progress.
    stream: IO[bytes]

    def finish(self) -> None:
        """Complete the temporary copy (close it) without publishing it."""

    def publish(self) -> None:
        """Move the finished copy to the final path; on failure, discard it."""

    def discard(self) -> None:
        """Close and remove the temporary copy; safe to call more than once."""


class _AtomicRaw(io.BufferedIOBase):
    """The binary stream under a format chain; a close discards unless ``keep``."""

    def __init__(self, staging: Staging) -> None:
        super().__init__()
        self.staging = staging
        self.keep = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any, /) -> int:
        if self.closed:
            message = "I/O operation on closed file."
            raise ValueError(message)
        return self.staging.stream.write(data)

    def flush(self) -> None:
        if not self.closed:
            self.staging.stream.flush()

    def tell(self) -> int:
        return self.staging.stream.tell()

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
        finally:
            if self.keep:
                self.staging.finish()
            else:
                self.staging.discard()


class AtomicFile:
    """A file open for writing whose content appears at its path only on close.

    Returned by :meth:`FileSystemTarget.open` in write mode. Write to it like any
    file; use it in a ``with`` block. A clean exit publishes the content, an exception
    discards it. Other attributes come from the wrapped stream.
    """

    def __init__(self, staging: Staging, file_format: Format) -> None:
        self._raw, self._done = _AtomicRaw(staging), False
        try:
            self._stream = file_format.pipe_writer(self._raw)  # type: ignore[arg-type]
        except BaseException:
            self._raw.close()
            raise

    @property
    def closed(self) -> bool:
        """Whether the file has been closed (published) or aborted."""
        return self._done

    def write(self, data: Any) -> int:
        """Write ``data`` (text or bytes, as the format expects)."""
        return self._stream.write(data)

    def writelines(self, lines: Iterable[Any]) -> None:
        """Write each item of ``lines``."""
        self._stream.writelines(lines)

    def flush(self) -> None:
        """Flush the format layers into the temporary copy (not to the final path)."""
        self._stream.flush()

    def close(self) -> None:
        """Finish writing and publish the content at the final path."""
        if self._done:
            return
        self._done = True
        self._raw.keep = True
        try:
            self._stream.close()
            self._raw.close()  # in case a format layer did not close what it wraps
        except BaseException:
            self._raw.staging.discard()
            raise
        self._raw.staging.publish()

    def abort(self) -> None:
        """Stop writing and remove the temporary copy; nothing is published."""
        if self._done:
            return
        self._done = True
        try:
            self._stream.close()
        finally:
            self._raw.close()
            self._raw.staging.discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in {"_stream", "_raw", "_done"}:
            raise AttributeError(name)
        return getattr(self._stream, name)


class Target(abc.ABC):
    """Something a task produces; it is complete when its targets exist."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Return whether the target exists."""


class FileSystem(abc.ABC):
    """The operations a :class:`FileSystemTarget` needs from where it lives."""

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Return whether ``path`` exists (as a file or a directory)."""

    @abc.abstractmethod
    def remove(self, path: str, recursive: bool = True) -> None:
        """Remove ``path``; with ``recursive``, a directory and its content."""

    def mkdir(
        self, path: str, parents: bool = True, raise_if_exists: bool = False
    ) -> None:
        """Create the directory ``path``."""
        del parents, raise_if_exists  # the signature subclasses implement
        raise UnsupportedOperationError(path, f"{type(self).__name__}.mkdir")

    def isdir(self, path: str) -> bool:
        """Return whether ``path`` is a directory."""
        raise UnsupportedOperationError(path, f"{type(self).__name__}.isdir")

    def listdir(self, path: str) -> Iterator[str]:
        """Yield the paths of the files under ``path``, recursively."""
        raise UnsupportedOperationError(path, f"{type(self).__name__}.listdir")

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:  # noqa: ARG002
        """Move ``path`` to ``dest``."""
        raise UnsupportedOperationError(path, f"{type(self).__name__}.move")

    def copy(self, path: str, dest: str, raise_if_exists: bool = False) -> None:  # noqa: ARG002
        """Copy ``path`` to ``dest``."""
        raise UnsupportedOperationError(path, f"{type(self).__name__}.copy")

    def rename(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        """Move ``path`` to ``dest`` (Luigi's alias of :meth:`move`)."""
        self.move(path, dest, raise_if_exists=raise_if_exists)

    def rename_dont_move(self, path: str, dest: str) -> None:
        """Move ``path`` to ``dest``, raising :class:`FileAlreadyExists` if taken."""
        self.move(path, dest, raise_if_exists=True)


class FileSystemTarget(Target):
    """A target at a path on a :class:`FileSystem`.

    Subclasses provide :attr:`fs` and, for :meth:`open`, the hooks ``_open_reader``
    (raw bytes) and ``_stage`` (a :class:`Staging` for one write). ``format`` is how
    :meth:`open` turns bytes into what ``run()`` handles; ``None`` means text
    (:func:`~nbflow.core.format.get_default_format`), and then ``"b"`` means bytes.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: Format | None = None,  # noqa: A002 - Luigi's name
    ) -> None:
        #: The path, as given.
        self.path = os.fspath(path)
        #: The format :meth:`open` uses.
        self.format = format if format is not None else get_default_format()
        self._format_given = format is not None

    @property
    @abc.abstractmethod
    def fs(self) -> FileSystem:
        """The file system the target lives on."""

    #: Whether ``exists()`` cleans up after dead runs in the target's folder.
    sweeps_leftovers: bool = False

    def exists(self) -> bool:
        """Return whether something exists at :attr:`path` (one lookup).

        While a rerun replaces this output, the previous version is still at the path
        but counts as missing until the rerun publishes the new one.
        """
        path = self.path
        replacing = REPLACING.get()
        if replacing is not None and replacing.hides(path):
            return False
        if self.sweeps_leftovers and path.rpartition("/")[0] not in SWEPT:
            sweep_folder_of(self.fs, path)  # once per folder (local fsspec targets)
        return self.fs.exists(path)

    def remove(self) -> None:
        """Remove the target (recursively, if it is a directory)."""
        self.fs.remove(self.path)

    def open(self, mode: str = "r") -> Any:
        """Open the target for reading (``"r"``) or atomic writing (``"w"``).

        In write mode the result is an :class:`AtomicFile`: the content appears at
        :attr:`path` only on a clean close. Other modes raise
        :class:`InvalidModeError` (``r``, ``w``, ``rb``, ``wb``; ``t`` is allowed).
        """
        writing, binary = _parse_mode(f"{type(self).__name__}.open", mode)
        file_format = Nop if binary and not self._format_given else self.format
        if not writing:
            return file_format.pipe_reader(self._open_reader())
        return AtomicFile(self._stage(), file_format)

    def open_atomic(self, mode: str = "w") -> Any:
        """Open for writing: the same as ``open(mode)``, as every write is atomic."""
        if "w" not in mode:
            raise InvalidModeError(f"{type(self).__name__}.open_atomic", mode)
        return self.open(mode)

    def open_raw(self, mode: str = "rb") -> Any:
        """Open the target's bytes, ignoring :attr:`format`; writes stay atomic."""
        writing, _ = _parse_mode(f"{type(self).__name__}.open_raw", mode)
        if not writing:
            return self._open_reader()
        return AtomicFile(self._stage(), Nop)

    @contextlib.contextmanager
    def temporary_path(self) -> Iterator[str]:
        """Yield a temporary path next to the target, to write a file or directory at.

        A clean exit moves it to :attr:`path` (:class:`FileAlreadyExists` if taken,
        as in Luigi, unless a rerun replaces it); an exception removes it.
        """
        self._make_parent_dirs()
        temporary = temporary_sibling(self.path)
        try:
            yield temporary
            replacing = REPLACING.get()
            if replacing is not None and replacing.hides(self.path):
                replacing.publish(self.fs, temporary, self.path)
            else:
                self.fs.rename_dont_move(temporary, self.path)
                note_commit(self.path)
        except BaseException:
            if self.fs.exists(temporary):
                self.fs.remove(temporary, recursive=True)
            raise

    def read_dataframe(self, **kwargs: Any) -> Any:
        """Read the target into a pandas DataFrame; see :mod:`nbflow.core.dataframe`."""
        from nbflow.core import dataframe  # noqa: PLC0415 - pandas is optional

        return dataframe.read_dataframe(self, **kwargs)

    def write_dataframe(self, frame: Any, **kwargs: Any) -> None:
        """Write a pandas DataFrame atomically; see :mod:`nbflow.core.dataframe`."""
        from nbflow.core import dataframe  # noqa: PLC0415 - pandas is optional

        dataframe.write_dataframe(self, frame, **kwargs)

    def _open_reader(self) -> IO[bytes]:
        raise UnsupportedOperationError(self.path, f"{type(self).__name__}.open")

    def _stage(self) -> Staging:
        raise UnsupportedOperationError(self.path, f"{type(self).__name__}.open")

    def _make_parent_dirs(self) -> None:
        """Create what a write at :attr:`path` needs; nothing by default."""

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


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
            Path(path).replace(dest)
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

    def _make_parent_dirs(self) -> None:
        self.makedirs()

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
