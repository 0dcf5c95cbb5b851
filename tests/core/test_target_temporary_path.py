"""``temporary_path()``: directory targets, parent folders, and Luigi's file helpers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nbflow.core.file_system import FileSystem, FileSystemTarget
from nbflow.core.target import FileAlreadyExists, LocalFileSystem, LocalTarget

if TYPE_CHECKING:
    from collections.abc import Iterator


class RecordingFileSystem(FileSystem):
    """A file system that records the calls ``temporary_path()`` makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.paths: set[str] = set()

    def exists(self, path: str) -> bool:
        return path in self.paths

    def remove(self, path: str, recursive: bool = True) -> None:
        del recursive
        self.paths.discard(path)

    def mkdir(
        self, path: str, parents: bool = True, raise_if_exists: bool = False
    ) -> None:
        self.calls.append(("mkdir", path, str(parents), str(raise_if_exists)))

    def move(self, path: str, dest: str, raise_if_exists: bool = False) -> None:
        self.calls.append(("move", path, dest, str(raise_if_exists)))


class FlatFileSystem(RecordingFileSystem):
    """A store without folders: it keeps FileSystem's default ``mkdir``."""

    mkdir = FileSystem.mkdir


class RecordingTarget(FileSystemTarget):
    def __init__(self, path: str, fs: FileSystem) -> None:
        super().__init__(path)
        self._fs = fs

    @property
    def fs(self) -> FileSystem:
        return self._fs


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


@pytest.mark.usefixtures("in_tmp")
def test_temporary_path_of_a_directory_target_is_a_sibling_and_the_rename_works() -> (
    None
):
    target = LocalTarget("data/out/")

    with target.temporary_path() as temporary:
        assert temporary.endswith("/")
        assert temporary.startswith("data/")
        assert not temporary.startswith("data/out/")
        Path(temporary).mkdir()
        (Path(temporary) / "part-0").write_text("rows")

    assert Path("data/out/part-0").read_text() == "rows"
    assert sorted(p.name for p in Path("data").iterdir()) == ["out"]


@pytest.mark.usefixtures("in_tmp")
def test_temporary_path_of_an_existing_directory_target_is_already_there() -> None:
    Path("done").mkdir()
    target = LocalTarget("done/")

    with pytest.raises(FileAlreadyExists), target.temporary_path() as temporary:
        Path(temporary).mkdir()

    assert sorted(p.name for p in Path().iterdir()) == ["done"]


def test_temporary_path_creates_the_parent_through_the_file_system() -> None:
    fs = RecordingFileSystem()

    with RecordingTarget("/data/day/report.txt", fs).temporary_path() as file_tmp:
        pass
    with RecordingTarget("/data/day/parts/", fs).temporary_path() as dir_tmp:
        pass

    assert fs.calls == [
        ("mkdir", "/data/day", "True", "False"),
        ("move", file_tmp, "/data/day/report.txt", "True"),
        ("mkdir", "/data/day", "True", "False"),
        ("move", dir_tmp, "/data/day/parts/", "True"),
    ]
    assert dir_tmp.startswith("/data/day/")
    assert dir_tmp.endswith("-parts/")


def test_temporary_path_in_the_current_folder_creates_no_folder() -> None:
    fs = RecordingFileSystem()

    with RecordingTarget("report.txt", fs).temporary_path() as temporary:
        pass

    assert fs.calls == [("move", temporary, "report.txt", "True")]


def test_temporary_path_on_a_file_system_without_folders_skips_mkdir() -> None:
    fs = FlatFileSystem()

    with RecordingTarget("bucket/report.txt", fs).temporary_path() as temporary:
        pass

    assert fs.calls == [("move", temporary, "bucket/report.txt", "True")]


def test_touchz_creates_an_empty_target(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "flag")

    target._touchz()

    assert target.exists()
    assert (tmp_path / "flag").read_bytes() == b""


def test_local_move_accepts_the_paths_as_given(tmp_path: Path) -> None:
    source, dest = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    source.write_text("x")

    LocalFileSystem().move(str(source), str(dest))

    assert dest.read_text() == "x"
    assert not source.exists()
