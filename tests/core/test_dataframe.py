from __future__ import annotations

import gzip
import uuid
from typing import TYPE_CHECKING

import fsspec
import pandas as pd
import pytest

from nbflow.core.dataframe import (
    DataFrameFormatError,
    infer_file_format,
    read_dataframe,
    write_dataframe,
)
from nbflow.core.errors import NbflowError
from nbflow.core.format import UTF8
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.target import LocalTarget, MemoryFileSystem, MemoryTarget

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SUFFIXES = ["parquet", "pq", "csv", "csv.gz", "CSV"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"day": [1, 2, 3], "amount": [1.5, 2.0, -3.25], "who": list("abc")}
    )


@pytest.fixture
def memory_url() -> Iterator[str]:
    folder = f"memory://nbflow-test-{uuid.uuid4().hex}"
    yield folder
    memory = fsspec.filesystem("memory")
    if memory.exists(folder):
        memory.rm(folder, recursive=True)


class Unconvertible:
    """A value pyarrow cannot store, so to_parquet fails part way."""


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_dataframe_local_round_trip(
    tmp_path: Path, frame: pd.DataFrame, suffix: str
) -> None:
    target = LocalTarget(tmp_path / "out" / f"sales.{suffix}")

    target.write_dataframe(frame)

    pd.testing.assert_frame_equal(target.read_dataframe(), frame)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"sales.{suffix}"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_dataframe_memory_url_round_trip(
    memory_url: str, frame: pd.DataFrame, suffix: str
) -> None:
    target = FsspecTarget(f"{memory_url}/sales.{suffix}")

    write_dataframe(target, frame)

    pd.testing.assert_frame_equal(read_dataframe(target), frame)


def test_dataframe_memory_target_round_trip(frame: pd.DataFrame) -> None:
    target = MemoryTarget("sales.parquet", MemoryFileSystem())

    target.write_dataframe(frame)

    pd.testing.assert_frame_equal(target.read_dataframe(), frame)


def test_dataframe_parquet_keeps_index(tmp_path: Path, frame: pd.DataFrame) -> None:
    indexed = frame.set_index("who")
    target = LocalTarget(tmp_path / "sales.parquet")

    target.write_dataframe(indexed)

    pd.testing.assert_frame_equal(target.read_dataframe(), indexed)


def test_dataframe_csv_gz_is_gzip_compressed(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.csv.gz")

    target.write_dataframe(frame)

    text = gzip.decompress((tmp_path / "sales.csv.gz").read_bytes()).decode()
    assert text.splitlines()[0] == "day,amount,who"


def test_dataframe_failing_parquet_write_leaves_nothing(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "sales.parquet")
    bad = pd.DataFrame({"x": [Unconvertible()]})

    with pytest.raises(Exception, match="Unconvertible"):
        target.write_dataframe(bad)

    assert list(tmp_path.iterdir()) == []


def test_dataframe_failing_write_keeps_old_output(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.parquet")
    target.write_dataframe(frame)

    with pytest.raises(Exception, match="Unconvertible"):
        target.write_dataframe(pd.DataFrame({"x": [Unconvertible()]}))

    pd.testing.assert_frame_equal(target.read_dataframe(), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["sales.parquet"]


def test_dataframe_failing_memory_write_leaves_nothing(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/sales.parquet")

    with pytest.raises(Exception, match="Unconvertible"):
        target.write_dataframe(pd.DataFrame({"x": [Unconvertible()]}))

    assert not target.exists()
    assert not fsspec.filesystem("memory").exists(memory_url)


def test_dataframe_explicit_file_format_overrides_suffix(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.data")

    target.write_dataframe(frame, file_format="csv")

    assert (tmp_path / "sales.data").read_text().startswith("day,amount,who")
    pd.testing.assert_frame_equal(target.read_dataframe(file_format="csv"), frame)


def test_dataframe_passes_keyword_arguments(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.csv")

    target.write_dataframe(frame, sep=";")

    assert (tmp_path / "sales.csv").read_text().startswith("day;amount;who")
    assert list(target.read_dataframe(sep=";", usecols=["who"]).columns) == ["who"]


def test_dataframe_ignores_text_format_of_target(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.parquet", format=UTF8)

    target.write_dataframe(frame)

    pd.testing.assert_frame_equal(target.read_dataframe(), frame)


def test_dataframe_unknown_suffix_names_path_and_formats(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    target = LocalTarget(tmp_path / "sales.xlsx")

    with pytest.raises(DataFrameFormatError) as info:
        target.write_dataframe(frame)

    message = str(info.value)
    assert isinstance(info.value, NbflowError)
    assert isinstance(info.value, ValueError)
    assert message.startswith(f"{target.path}: cannot tell the DataFrame file format")
    assert "(got suffix '.xlsx')" in message
    assert "Expected a path ending in one of .parquet, .csv.gz, .pq, .csv." in message
    assert "Fix: rename the target, or pass file_format='parquet' or 'csv'." in message
    assert list(tmp_path.iterdir()) == []


def test_dataframe_unknown_file_format_is_rejected() -> None:
    with pytest.raises(DataFrameFormatError) as info:
        infer_file_format("a.csv", "feather")

    message = str(info.value)
    assert "unknown DataFrame file format (got 'feather')" in message
    assert "Expected one of 'csv', 'parquet'." in message
    assert "Fix: pass file_format=" in message
