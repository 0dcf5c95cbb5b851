r"""File formats: layers between a target's raw bytes and what ``run()`` handles.

A :class:`Format` wraps a binary stream with :meth:`Format.pipe_reader` (for reading)
and :meth:`Format.pipe_writer` (for writing). Formats chain with ``>>``: in Luigi's
order the first format faces the user and the last one faces the file, so
``UTF8 >> Gzip`` means "text, encoded as UTF-8, then gzip-compressed". nbflow also
accepts the reverse spelling ``Gzip >> UTF8`` (Luigi rejects it), because its meaning
is unambiguous: when a chain does not type-check in Luigi's order but does reversed,
the reversed order is used.

Each format declares what it takes from the user side (``input``) and what it hands to
the file side (``output``): ``"unicode"``, ``"bytes"`` or ``None`` (either).

Closing a stream returned by ``pipe_reader``/``pipe_writer`` closes the stream it wraps,
so closing the outermost layer of a chain closes the file.

Imports: the standard library and :mod:`nbflow.core.errors`.

Examples
--------
>>> import gzip, io
>>> stored = io.BytesIO(gzip.compress("héllo\r\n".encode()))
>>> with (UTF8 >> Gzip).pipe_reader(stored) as reader:
...     reader.read()
'héllo\n'
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import re
from typing import IO, Any, Literal, cast

from nbflow.core.errors import DefinitionError

__all__ = [
    "UTF8",
    "Bzip2",
    "Bzip2Format",
    "ChainFormat",
    "Format",
    "FormatChainError",
    "Gzip",
    "GzipFormat",
    "NewlineFormat",
    "NewlineOptionError",
    "Nop",
    "NopFormat",
    "SysNewLine",
    "Text",
    "TextFormat",
    "get_default_format",
]

#: What a format consumes or produces: text, bytes, or ``None`` for either.
DataKind = Literal["unicode", "bytes"] | None


class FormatChainError(DefinitionError, TypeError):
    """Two formats were chained whose data kinds do not fit together."""

    def __init__(self, chain: str, left: str, produced: str, right: str) -> None:
        super().__init__(chain, left, produced, right)
        self.chain, self.left, self.produced, self.right = chain, left, produced, right

    def __str__(self) -> str:
        return (
            f"format chain {self.chain}: {self.left} hands {self.produced} to "
            f"{self.right}, which cannot take it (got {self.chain}). Expected each "
            "format to accept what the previous one produces. Fix: put the text "
            "format first and compressors after it, e.g. UTF8 >> Gzip."
        )


class Format:
    """Base of every format: wrap a binary stream for reading or writing.

    Subclasses set ``input`` and ``output`` and override :meth:`pipe_reader` and
    :meth:`pipe_writer`. Chain formats with ``>>``.
    """

    #: What the user side reads and writes: ``"unicode"``, ``"bytes"`` or ``None``.
    input: DataKind = None
    #: What the file side holds: ``"unicode"``, ``"bytes"`` or ``None``.
    output: DataKind = None

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return a stream that reads through this format from ``input_pipe``."""
        raise NotImplementedError

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a stream that writes through this format into ``output_pipe``."""
        raise NotImplementedError

    def __rshift__(self, other: Format) -> ChainFormat:
        return ChainFormat(self, other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NopFormat(Format):
    """Pass bytes through unchanged: the binary format."""

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return ``input_pipe`` itself."""
        return input_pipe

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return ``output_pipe`` itself."""
        return output_pipe


class TextFormat(Format):
    r"""Decode bytes to text on read and encode text to bytes on write.

    Parameters
    ----------
    encoding
        The text encoding; ``None`` means UTF-8 (Luigi uses the locale's encoding,
        nbflow picks UTF-8 so a pipeline reads the same on every machine).
    errors
        How encoding errors are handled, as for :func:`open`.
    newline
        Newline handling, as for :func:`open`. The default ``None`` reads ``\r\n``
        and ``\r`` as ``\n`` and writes ``\n`` as the platform's line separator,
        which is what Luigi's default text format does.
    """

    input = "unicode"
    output = "bytes"

    def __init__(
        self,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> None:
        self.encoding = encoding or "utf-8"
        self.errors = errors
        self.newline = newline

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return a text stream decoding ``input_pipe``."""
        return self._wrap(input_pipe)

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a text stream encoding into ``output_pipe``."""
        return self._wrap(output_pipe)

    def _wrap(self, pipe: IO[Any]) -> IO[Any]:
        return io.TextIOWrapper(
            pipe, encoding=self.encoding, errors=self.errors, newline=self.newline
        )

    def __repr__(self) -> str:
        return f"TextFormat(encoding={self.encoding!r})"


class _OwningGzipFile(gzip.GzipFile):
    """A GzipFile that also closes the stream it wraps."""

    def __init__(self, fileobj: IO[Any], mode: str, compresslevel: int) -> None:
        super().__init__(
            filename="", mode=mode, compresslevel=compresslevel, fileobj=fileobj
        )
        self._owned = fileobj

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


class _OwningBZ2File(bz2.BZ2File):
    """A BZ2File that also closes the stream it wraps."""

    def __init__(self, fileobj: IO[Any], mode: Literal["rb", "wb"]) -> None:
        super().__init__(fileobj, mode)
        self._owned = fileobj

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._owned.close()


class GzipFormat(Format):
    """Compress with gzip on write and decompress on read (bytes on both sides).

    Parameters
    ----------
    compression_level
        1 (fastest) to 9 (smallest); ``None`` means 9, as :mod:`gzip` does.
    """

    input = "bytes"
    output = "bytes"

    def __init__(self, compression_level: int | None = None) -> None:
        self.compression_level = compression_level

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return a stream decompressing ``input_pipe``."""
        return cast("IO[Any]", _OwningGzipFile(input_pipe, "rb", 9))

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a stream compressing into ``output_pipe``."""
        level = 9 if self.compression_level is None else self.compression_level
        return cast("IO[Any]", _OwningGzipFile(output_pipe, "wb", level))


class Bzip2Format(Format):
    """Compress with bzip2 on write and decompress on read (bytes on both sides)."""

    input = "bytes"
    output = "bytes"

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return a stream decompressing ``input_pipe``."""
        return _OwningBZ2File(input_pipe, "rb")

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a stream compressing into ``output_pipe``."""
        return _OwningBZ2File(output_pipe, "wb")


#: The line endings a :class:`NewlineFormat` recognises.
_LINE_END = re.compile(rb"\r\n|\r|\n")
_NEWLINES = (None, "", "\r\n", "\n", "\r")


class NewlineOptionError(DefinitionError, ValueError):
    """A :class:`NewlineFormat` was given a newline that is not a line ending."""

    def __init__(self, got: object) -> None:
        super().__init__(got)
        self.got = got

    def __str__(self) -> str:
        return (
            f"NewlineFormat: invalid newline (got {self.got!r}). Expected one of "
            f"{_NEWLINES!r}. Fix: pass newline='\\n', '\\r\\n', '\\r', '' (keep "
            "endings) or None (the platform's, os.linesep)."
        )


class NewlineFormat(Format):
    r"""Rewrite line endings in bytes: to ``\n`` on read, to ``newline`` on write.

    Parameters
    ----------
    newline
        The ending written for every ``\n``, ``\r\n`` or ``\r``: one of ``"\n"``,
        ``"\r\n"``, ``"\r"``, or ``None``/``""`` for the platform's
        (``os.linesep`` at write time). With ``""`` reads keep endings as stored.

    Examples
    --------
    >>> stored = io.BytesIO()
    >>> out = NewlineFormat("\r\n").pipe_writer(stored)
    >>> _ = out.write(b"a\nb\r")  # the \r waits: it may start a \r\n
    >>> stored.getvalue()
    b'a\r\nb'
    >>> _ = out.write(b"\nc")
    >>> stored.getvalue()
    b'a\r\nb\r\nc'
    >>> NewlineFormat().pipe_reader(io.BytesIO(b"a\r\nb\rc")).read()
    b'a\nb\nc'
    """

    input = "bytes"
    output = "bytes"

    def __init__(self, newline: str | None = None) -> None:
        if newline not in _NEWLINES:
            raise NewlineOptionError(newline)
        self.newline = newline

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        r"""Return a stream reading ``input_pipe`` with ``\n`` line endings."""
        return cast("IO[Any]", _NewlineStream(input_pipe, self.newline))

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a stream writing into ``output_pipe`` with ``newline`` endings."""
        return cast("IO[Any]", _NewlineStream(output_pipe, self.newline))

    def __repr__(self) -> str:
        return f"NewlineFormat(newline={self.newline!r})"


class _NewlineStream(io.BufferedIOBase):
    r"""Bytes whose line endings are rewritten; closing it closes the wrapped stream.

    A chunk ending in ``\r`` may be half of a ``\r\n`` split across two calls: a write
    holds it back until the next write (or close); a read looks one byte ahead.
    """

    def __init__(self, pipe: IO[bytes], newline: str | None) -> None:
        super().__init__()
        self._pipe, self._newline = pipe, newline
        self._held_write = b""  # a trailing \r not written yet
        self._held_read = b""  # a byte read ahead, returned by the next read

    def readable(self) -> bool:
        return self._pipe.readable()

    def writable(self) -> bool:
        return self._pipe.writable()

    def read(self, size: int | None = -1, /) -> bytes:
        whole = size is None or size < 0
        wanted = -1 if size is None or whole else size - len(self._held_read)
        data = self._held_read + self._pipe.read(wanted)
        self._held_read = b""
        if self._newline == "":
            return data
        if data.endswith(b"\r") and not whole:
            ahead = self._pipe.read(1)
            if ahead == b"\n":
                data += ahead
            else:
                self._held_read = ahead
        return _LINE_END.sub(b"\n", data)

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size)

    def write(self, data: Any, /) -> int:
        chunk = self._held_write + bytes(data)
        self._held_write = b""
        if chunk.endswith(b"\r"):
            chunk, self._held_write = chunk[:-1], b"\r"
        self._pipe.write(_LINE_END.sub(self._ending(), chunk))
        return len(data)

    def flush(self) -> None:
        if not self.closed:
            self._pipe.flush()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._held_write:
                self._pipe.write(self._ending())
            super().close()
        finally:
            self._pipe.close()

    def _ending(self) -> bytes:
        return (self._newline or os.linesep).encode("ascii")


def _fits(formats: tuple[Format, ...]) -> int | None:
    """Return the index of the first format that cannot take its neighbour's output."""
    kind: DataKind = None
    for index, fmt in enumerate(formats):
        if kind is not None and fmt.input is not None and fmt.input != kind:
            return index
        kind = fmt.output or kind
    return None


class ChainFormat(Format):
    """Several formats applied in turn; build it with ``a >> b``.

    Examples
    --------
    >>> UTF8 >> Gzip
    ChainFormat(TextFormat(encoding='utf-8'), GzipFormat())
    >>> (Gzip >> UTF8).formats == (UTF8 >> Gzip).formats
    True
    """

    def __init__(self, *formats: Format) -> None:
        flat: list[Format] = []
        for fmt in formats:
            flat.extend(fmt.formats if isinstance(fmt, ChainFormat) else [fmt])
        ordered = tuple(flat)
        if _fits(ordered) is not None and _fits(ordered[::-1]) is None:
            ordered = ordered[::-1]  # Gzip >> UTF8 spelled outside-in: same meaning
        bad = _fits(ordered)
        if bad is not None:
            left, right = ordered[bad - 1], ordered[bad]
            chain = " >> ".join(repr(f) for f in flat)
            produced = str(left.output)
            raise FormatChainError(chain, repr(left), produced, repr(right))
        #: The formats from the user side to the file side.
        self.formats: tuple[Format, ...] = ordered
        self.input = next((f.input for f in ordered if f.input), None)
        self.output = next((f.output for f in ordered[::-1] if f.output), None)

    def pipe_reader(self, input_pipe: IO[Any]) -> IO[Any]:
        """Return a stream reading through every format, file side first."""
        stream = input_pipe
        for fmt in reversed(self.formats):
            stream = fmt.pipe_reader(stream)
        return stream

    def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
        """Return a stream writing through every format, user side first."""
        stream = output_pipe
        for fmt in reversed(self.formats):
            stream = fmt.pipe_writer(stream)
        return stream

    def __repr__(self) -> str:
        return f"ChainFormat({', '.join(repr(f) for f in self.formats)})"


#: Bytes in, bytes out.
Nop = NopFormat()
#: UTF-8 text with universal newlines on read (the default format).
Text = TextFormat()
#: UTF-8 text, spelled out.
UTF8 = TextFormat(encoding="utf-8")
#: gzip compression.
Gzip = GzipFormat()
#: bzip2 compression.
Bzip2 = Bzip2Format()
#: Bytes with the platform's line endings when written, ``\n`` when read.
SysNewLine = NewlineFormat()


def get_default_format() -> Format:
    """Return the format targets use when none is given: :data:`Text`.

    Examples
    --------
    >>> get_default_format() is Text
    True
    """
    return Text
