"""``NewlineFormat`` and ``SysNewLine``: line endings rewritten in bytes."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import pytest

from nbflow.core.format import UTF8, NewlineFormat, NewlineOptionError, SysNewLine
from nbflow.core.target import LocalTarget

if TYPE_CHECKING:
    from pathlib import Path


def test_sys_newline_writes_the_platform_ending_and_reads_newlines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "linesep", "\r\n")  # as on Windows
    target = LocalTarget(tmp_path / "lines", SysNewLine)

    with target.open("w") as out:
        out.write(b"a\rb\nc\r\nd")
    with target.open("r") as lines:
        read = lines.read()

    assert (tmp_path / "lines").read_bytes() == b"a\r\nb\r\nc\r\nd"
    assert read == b"a\nb\nc\nd"


class KeptBytes(io.BytesIO):
    """A BytesIO whose content stays readable after close."""

    def close(self) -> None:
        self.kept = self.getvalue()
        super().close()


def test_newline_closing_the_format_closes_the_wrapped_stream() -> None:
    stored = KeptBytes()
    out = NewlineFormat("\n").pipe_writer(stored)

    out.write(b"a\r")
    out.close()

    assert out.closed
    assert stored.closed
    assert stored.kept == b"a\n"


def test_newline_split_across_reads_is_one_line_ending() -> None:
    reader = NewlineFormat().pipe_reader(io.BytesIO(b"ab\r\ncd\rx"))

    chunks = [reader.read(3), reader.read(3), reader.read()]

    assert b"".join(chunks) == b"ab\ncd\nx"


def test_newline_split_across_two_writes_is_one_line_ending() -> None:
    stored = KeptBytes()
    out = NewlineFormat("\r\n").pipe_writer(stored)

    out.write(b"a\r")
    out.write(b"\nb\r")
    out.flush()
    before_close = stored.getvalue()
    out.close()

    assert before_close == b"a\r\nb"
    assert stored.kept == b"a\r\nb\r\n"


def test_newline_empty_keeps_endings_on_read() -> None:
    reader = NewlineFormat("").pipe_reader(io.BytesIO(b"a\r\nb\rc"))

    assert reader.read() == b"a\r\nb\rc"


def test_newline_chains_under_a_text_format(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "text", UTF8 >> NewlineFormat("\r\n"))

    with target.open("w") as out:
        out.write("é\nz")

    assert (tmp_path / "text").read_bytes() == "é\r\nz".encode()


def test_newline_option_error_says_what_is_allowed() -> None:
    with pytest.raises(NewlineOptionError) as caught:
        NewlineFormat("\t")

    message = str(caught.value)
    assert message.startswith("NewlineFormat: invalid newline (got '\\t').")
    assert "Expected one of" in message
    assert "Fix: pass newline=" in message
