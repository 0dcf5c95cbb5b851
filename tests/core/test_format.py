from __future__ import annotations

import bz2
import gzip
import io
import os
from typing import Any

import pytest

from nbflow.core.errors import NbflowError
from nbflow.core.format import (
    UTF8,
    Bzip2,
    ChainFormat,
    Format,
    FormatChainError,
    Gzip,
    GzipFormat,
    Nop,
    Text,
    TextFormat,
    get_default_format,
)


class KeepingBytesIO(io.BytesIO):
    """A BytesIO that remembers its content when closed."""

    saved = b""

    def close(self) -> None:
        if not self.closed:
            self.saved = self.getvalue()
        super().close()


def write_through(file_format: Format, data: Any) -> bytes:
    sink = KeepingBytesIO()
    with file_format.pipe_writer(sink) as stream:
        stream.write(data)
    assert sink.closed
    return sink.saved


def read_through(file_format: Format, stored: bytes) -> Any:
    source = io.BytesIO(stored)
    with file_format.pipe_reader(source) as stream:
        data = stream.read()
    assert source.closed
    return data


TEXT_FORMATS = [Text, UTF8, UTF8 >> Gzip, Gzip >> UTF8, UTF8 >> Bzip2, Bzip2 >> Text]
BINARY_FORMATS = [Nop, Gzip, Bzip2, Gzip >> Bzip2, Nop >> Gzip, Gzip >> Nop]


@pytest.mark.parametrize("file_format", TEXT_FORMATS, ids=repr)
def test_format_text_chain_round_trips(file_format: Format) -> None:
    text = "héllo\nwörld\n"

    stored = write_through(file_format, text)

    assert read_through(file_format, stored) == text


@pytest.mark.parametrize("file_format", BINARY_FORMATS, ids=repr)
def test_format_binary_chain_round_trips(file_format: Format) -> None:
    data = bytes(range(256)) * 10

    stored = write_through(file_format, data)

    assert read_through(file_format, stored) == data


def test_format_gzip_writes_standard_gzip() -> None:
    stored = write_through(Gzip, b"payload")

    assert gzip.decompress(stored) == b"payload"
    assert read_through(Gzip, gzip.compress(b"other")) == b"other"


def test_format_bzip2_writes_standard_bzip2() -> None:
    stored = write_through(Bzip2, b"payload")

    assert bz2.decompress(stored) == b"payload"


def test_format_gzip_compression_level_is_used() -> None:
    data = b"abcdefgh" * 5000

    fast = write_through(GzipFormat(compression_level=1), data)
    small = write_through(GzipFormat(), data)

    assert gzip.decompress(fast) == data
    assert len(small) <= len(fast)


def test_format_utf8_gzip_stores_utf8_inside_gzip() -> None:
    stored = write_through(UTF8 >> Gzip, "é")

    assert gzip.decompress(stored) == "é".encode()


def test_chain_format_accepts_outside_in_spelling() -> None:
    luigi_order = UTF8 >> Gzip

    reversed_order = Gzip >> UTF8

    assert reversed_order.formats == luigi_order.formats
    assert (reversed_order.input, reversed_order.output) == ("unicode", "bytes")


def test_chain_format_flattens_nested_chains() -> None:
    chain = ChainFormat(UTF8 >> Gzip, Bzip2)

    assert chain.formats == (UTF8, Gzip, Bzip2)
    assert repr(chain).startswith("ChainFormat(TextFormat(")


def test_chain_format_rejects_text_after_text() -> None:
    with pytest.raises(FormatChainError) as info:
        UTF8 >> Text

    message = str(info.value)
    assert isinstance(info.value, NbflowError)
    assert isinstance(info.value, TypeError)
    assert message.startswith("format chain TextFormat(encoding='utf-8') >> ")
    assert "(got " in message
    assert "Expected each format to accept" in message
    assert "Fix: put the text format first" in message


def test_text_format_reads_universal_newlines() -> None:
    assert read_through(Text, b"1\r\n2\r3\n") == "1\n2\n3\n"


@pytest.mark.skipif(os.linesep != "\n", reason="newline translation on Windows")
def test_text_format_writes_newlines_unchanged_on_posix() -> None:
    assert write_through(Text, "a\nb\r\nc\r") == b"a\nb\r\nc\r"


def test_text_format_encoding_is_configurable() -> None:
    latin = TextFormat("latin-1")

    stored = write_through(latin, "é")

    assert stored == b"\xe9"
    assert read_through(latin, stored) == "é"
    assert repr(latin) == "TextFormat(encoding='latin-1')"


def test_text_format_defaults_to_utf8() -> None:
    assert Text.encoding == "utf-8"
    assert write_through(Text, "é") == "é".encode()


def test_format_get_default_format_is_text() -> None:
    assert get_default_format() is Text


def test_format_nop_returns_stream_itself() -> None:
    stream = io.BytesIO()

    assert Nop.pipe_reader(stream) is stream
    assert Nop.pipe_writer(stream) is stream
    assert repr(Nop) == "NopFormat()"


def test_format_base_requires_subclass_methods() -> None:
    with pytest.raises(NotImplementedError):
        Format().pipe_reader(io.BytesIO())
    with pytest.raises(NotImplementedError):
        Format().pipe_writer(io.BytesIO())


def test_format_compressor_close_closes_wrapped_stream() -> None:
    for file_format in (Gzip, Bzip2):
        sink = io.BytesIO()

        file_format.pipe_writer(sink).close()

        assert sink.closed
