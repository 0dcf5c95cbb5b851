"""File systems and the targets on them: ``Target``, ``FileSystem``, ``FileSystemTarget``.

A :class:`Target` answers one question, :meth:`Target.exists`; a task is complete when
all of its output targets exist. A :class:`FileSystemTarget` is a target at a path on
a :class:`FileSystem`; the implementations (:class:`~nbflow.core.target.LocalTarget`,
:class:`~nbflow.core.target.MemoryTarget`, ...) live in :mod:`nbflow.core.target`,
which re-exports everything here.

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

Imports: the standard library, :mod:`nbflow.core.file_system_errors`,
:mod:`nbflow.core.format` and :mod:`nbflow.core.temporary`; pandas only lazily,
through :mod:`nbflow.core.dataframe`.
"""

from __future__ import annotations

import abc
import contextlib
import io
import os
from typing import IO, TYPE_CHECKING, Any, Protocol

from nbflow.core.file_system_errors import InvalidModeError, UnsupportedOperationError
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
    "FileSystem",
    "FileSystemTarget",
    "Staging",
    "Target",
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


def _parent_folder(path: str) -> str:
    """Return the folder holding ``path`` (a directory's, if it ends in a separator).

    Examples
    --------
    >>> _parent_folder("out/day/"), _parent_folder("out/a.txt"), _parent_folder("a")
    ('out', 'out', '')
    """
    return os.path.dirname(path.rstrip("/\\"))  # noqa: PTH120  (any URL, not a Path)


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

        The parent folder is created first (``fs.mkdir``). For a directory target
        (a path ending in ``/``) the temporary is a sibling of the directory, also
        ending in ``/``. A clean exit moves it to :attr:`path`
        (:class:`FileAlreadyExists` if taken, as in Luigi, unless a rerun replaces
        it); an exception removes it.
        """
        self._make_parent_dirs()
        bare = self.path.rstrip("/\\")
        temporary = temporary_sibling(bare) + self.path[len(bare) :]
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

    def _touchz(self) -> None:
        """Create the target empty (Luigi's helper); atomic like every write."""
        self.open("w").close()

    def _open_reader(self) -> IO[bytes]:
        raise UnsupportedOperationError(self.path, f"{type(self).__name__}.open")

    def _stage(self) -> Staging:
        raise UnsupportedOperationError(self.path, f"{type(self).__name__}.open")

    def _make_parent_dirs(self) -> None:
        """Create the folder holding :attr:`path` (Luigi's ``fs.mkdir`` call).

        Skipped on a file system without ``mkdir`` (a flat store needs no folders).
        """
        parent = _parent_folder(self.path)
        if parent and getattr(type(self.fs), "mkdir", None) is not FileSystem.mkdir:
            self.fs.mkdir(parent, parents=True, raise_if_exists=False)

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"
