"""Luigi's ``luigi.mock``: :class:`MockTarget` and :class:`MockFileSystem` for tests.

A :class:`MockTarget` is a :class:`~nbflow.core.target.MemoryTarget` whose files live in
one store shared by every :class:`MockFileSystem` of the process, as Luigi's do: a
test writes through ``MockTarget("/tmp/a")`` and reads back with
``MockTarget.fs.get_data("/tmp/a")`` or any ``MockFileSystem()``. Writes are atomic,
like every nbflow target. Call ``MockTarget.fs.clear()`` between tests.

The store is this process's memory: tasks that run in other processes (a process
executor, Dask) write into their own copy, so use threads with mock targets.

Imports: stdlib, nbflow.core.{format, target, temporary}.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from nbflow.core.target import MemoryFileSystem, MemoryTarget, _MemoryStaging

if TYPE_CHECKING:
    from nbflow.core.format import Format
    from nbflow.core.target import Staging

__all__ = ["MockFileSystem", "MockTarget"]


class MockFileSystem(MemoryFileSystem):
    """An in-memory file system whose files every instance shares.

    Examples
    --------
    >>> one, other = MockFileSystem(), MockFileSystem()
    >>> one.put_bytes("/tmp/mock-doc", b"x")
    >>> other.get_data("/tmp/mock-doc"), other.exists("/tmp/mock-doc")
    (b'x', True)
    >>> other.remove("/tmp/mock-doc")
    """

    #: path -> bytes, for every instance (Luigi's MockFileSystem shares one store).
    _shared: ClassVar[dict[str, bytes]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._files = MockFileSystem._shared

    def __reduce__(self) -> tuple[type[MockFileSystem], tuple[()]]:
        return (MockFileSystem, ())  # a copy stays bound to the shared store

    def get_all_data(self) -> dict[str, bytes]:
        """Return the shared ``{path: bytes}`` store itself (changes write through)."""
        return self._files

    def get_data(self, fn: str) -> bytes:
        """Return the bytes at ``fn``; ``FileNotFoundError`` if there are none."""
        return self.get_bytes(fn)

    def remove(
        self,
        path: str,
        recursive: bool = True,
        skip_trash: bool = True,  # noqa: ARG002 - Luigi's signature; there is no trash
    ) -> None:
        """Remove a file, or everything under ``path`` when ``recursive``."""
        super().remove(path, recursive=recursive)


class MockTarget(MemoryTarget):
    """A target in the process-wide :class:`MockFileSystem` (Luigi's test target).

    Parameters
    ----------
    fn
        The path, a key of the shared store.
    is_tmp
        Accepted for Luigi's signature; a mock target is never removed on its own.
    mirror_on_stderr
        Also echo what is written to standard error, each line prefixed by the path.
    format
        How :meth:`open` turns bytes into what ``run()`` handles (text by default).

    Examples
    --------
    >>> with MockTarget("/tmp/mock-doc-target").open("w") as out:
    ...     _ = out.write("hello")
    >>> MockTarget.fs.get_data("/tmp/mock-doc-target")
    b'hello'
    >>> MockTarget.fs.remove("/tmp/mock-doc-target")
    """

    #: The store every mock target uses, reachable from the class as in Luigi.
    fs: ClassVar[MockFileSystem] = MockFileSystem()

    def __init__(
        self,
        fn: str,
        is_tmp: bool | None = None,  # noqa: ARG002 - Luigi's signature
        mirror_on_stderr: bool = False,
        format: Format | None = None,  # noqa: A002 - Luigi's name
    ) -> None:
        super().__init__(fn, MockTarget.fs, format)
        self.mirror_on_stderr = mirror_on_stderr

    def move(self, path: str, raise_if_exists: bool = False) -> None:
        """Move this target's file to ``path``."""
        self.fs.move(self.path, path, raise_if_exists=raise_if_exists)

    def rename(self, path: str, raise_if_exists: bool = False) -> None:
        """Move this target's file to ``path`` (Luigi's alias of :meth:`move`)."""
        self.move(path, raise_if_exists=raise_if_exists)

    def _stage(self) -> Staging:
        if self.mirror_on_stderr:
            return _MirroredStaging(self.fs, self.path)
        return super()._stage()


class _StderrEcho(io.BytesIO):
    """A buffer that also writes what it receives to stderr, lines prefixed by a path."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._at_line_start = True

    def write(self, data: Any, /) -> int:
        text = bytes(data).decode("utf-8", errors="replace")
        for line in text.splitlines(keepends=True):
            if self._at_line_start:
                sys.stderr.write(f"{self.path}: ")
            sys.stderr.write(line)
            self._at_line_start = line.endswith("\n")
        return super().write(data)


class _MirroredStaging(_MemoryStaging):
    """A mock write that echoes to stderr, stored under the final path on publish."""

    def __init__(self, store: MockFileSystem, final: str) -> None:
        super().__init__(store, final)
        self._buffer = _StderrEcho(final)
        self.stream = self._buffer
