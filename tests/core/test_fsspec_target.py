from __future__ import annotations

import pickle
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

import fsspec
import pytest

from nbflow.core.format import UTF8, Gzip
from nbflow.core.fsspec_target import FsspecFileSystem, FsspecTarget
from nbflow.core.target import FileAlreadyExists, MissingParentDirectory
from nbflow.core.temporary import current_owner
from tests.core.test_temporary import dead_pid

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh folder in fsspec's process-wide memory file system."""
    folder = f"memory://nbflow-test-{uuid.uuid4().hex}"
    yield folder
    memory = fsspec.filesystem("memory")
    if memory.exists(folder):
        memory.rm(folder, recursive=True)


def listing(url: str) -> list[str]:
    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(path):
        return []
    return sorted(entry.rsplit("/", 1)[-1] for entry in fs.find(path))


def write_then_fail(target: FsspecTarget, data: Any) -> None:
    with target.open("w") as out:
        out.write(data)
        raise RuntimeError("boom")


# --- memory:// ---------------------------------------------------------------


def test_fsspec_target_memory_round_trip(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")

    with target.open("w") as out:
        out.write("héllo\r\n")

    with target.open("r") as text:
        assert text.read() == "héllo\n"
    assert target.exists()
    assert listing(memory_url) == ["a.txt"]


def test_fsspec_target_memory_invisible_until_close(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")

    with target.open("w") as out:
        out.write("partial")
        out.flush()
        assert not target.exists()

    assert target.exists()


def test_fsspec_target_memory_exception_leaves_nothing(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail(target, "partial")

    assert not target.exists()
    assert listing(memory_url) == []


def test_fsspec_target_memory_binary_and_gzip(memory_url: str) -> None:
    binary = FsspecTarget(f"{memory_url}/a.bin")
    zipped = FsspecTarget(f"{memory_url}/a.gz", format=Gzip >> UTF8)

    with binary.open("wb") as out:
        out.write(b"\x00\x01")
    with zipped.open("w") as out:
        out.write("zipped")

    with binary.open("rb") as data:
        assert data.read() == b"\x00\x01"
    with zipped.open("r") as text:
        assert text.read() == "zipped"


def test_fsspec_target_memory_overwrite_keeps_old_until_close(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")
    with target.open("w") as out:
        out.write("old")

    with target.open("w") as out:
        out.write("new")
        with target.open("r") as text:
            assert text.read() == "old"

    with target.open("r") as text:
        assert text.read() == "new"


def test_fsspec_target_memory_temporary_path(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/out.txt")

    with target.temporary_path() as temporary:
        assert temporary.startswith(f"{memory_url}/.nbflow-tmp-")
        with fsspec.open(temporary, "wb") as out:
            out.write(b"x")
        assert not target.exists()

    assert listing(memory_url) == ["out.txt"]


def test_fsspec_target_temporary_path_error_leaves_nothing(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/out.txt")

    def fill_then_fail() -> None:
        with target.temporary_path() as temporary:
            with fsspec.open(temporary, "wb") as out:
                out.write(b"x")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fill_then_fail()

    assert listing(memory_url) == []


def test_fsspec_target_remove(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")
    target.open("w").close()

    target.remove()

    assert not target.exists()


# --- file:// and plain paths ---------------------------------------------------


@pytest.mark.parametrize("prefix", ["file://", ""])
def test_fsspec_target_local_round_trip(tmp_path: Path, prefix: str) -> None:
    target = FsspecTarget(f"{prefix}{tmp_path}/sub/a.txt")

    with target.open("w") as out:
        out.write("local")

    assert (tmp_path / "sub" / "a.txt").read_text() == "local"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.txt"]


def test_fsspec_target_local_invisible_until_close(tmp_path: Path) -> None:
    target = FsspecTarget(f"file://{tmp_path}/a.txt")

    with target.open("w") as out:
        out.write("partial")
        out.flush()
        assert not (tmp_path / "a.txt").exists()
        [temporary] = [p.name for p in tmp_path.iterdir()]
        assert temporary.startswith(".nbflow-tmp-")

    assert (tmp_path / "a.txt").read_text() == "partial"


def test_fsspec_target_local_exception_leaves_nothing(tmp_path: Path) -> None:
    target = FsspecTarget(f"file://{tmp_path}/a.txt")

    with pytest.raises(RuntimeError):
        write_then_fail(target, "partial")

    assert list(tmp_path.iterdir()) == []


# --- construction, pickling, imports ---------------------------------------------


def test_fsspec_target_construction_is_lazy(tmp_path: Path) -> None:
    target = FsspecTarget(f"file://{tmp_path}/never/a.txt", anon=True)

    assert target._filesystem is None
    assert target.storage_options == {"anon": True}
    assert str(target) == f"file://{tmp_path}/never/a.txt"
    assert repr(target) == f"FsspecTarget('file://{tmp_path}/never/a.txt')"
    assert list(tmp_path.iterdir()) == []


def test_fsspec_target_pickles_without_its_file_system(memory_url: str) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")
    assert not target.exists()

    copy = pickle.loads(pickle.dumps(target))

    assert copy._filesystem is None
    assert target._filesystem is not None
    assert not copy.exists()


def test_fsspec_target_import_loads_no_fsspec_or_pandas() -> None:
    code = (
        "import sys\n"
        "from nbflow.core.fsspec_target import FsspecTarget\n"
        "from nbflow.core.target import LocalTarget\n"
        "FsspecTarget('memory://x'); LocalTarget('x')\n"
        "heavy = {'fsspec', 'pandas', 'pyarrow'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )

    subprocess.run([sys.executable, "-c", code], check=True)


# --- FsspecFileSystem ---------------------------------------------------------


def test_fsspec_file_system_operations(memory_url: str) -> None:
    fs = FsspecFileSystem(fsspec.filesystem("memory"))
    FsspecTarget(f"{memory_url}/d/a").open("w").close()

    fs.copy(f"{memory_url}/d/a", f"{memory_url}/d/b")
    fs.move(f"{memory_url}/d/b", f"{memory_url}/e/c")
    with pytest.raises(FileAlreadyExists):
        fs.move(f"{memory_url}/d/a", f"{memory_url}/e/c", raise_if_exists=True)
    with pytest.raises(FileAlreadyExists):
        fs.copy(f"{memory_url}/d/a", f"{memory_url}/e/c", raise_if_exists=True)
    with pytest.raises(FileAlreadyExists):
        fs.rename_dont_move(f"{memory_url}/d/a", f"{memory_url}/e/c")

    assert listing(memory_url) == ["a", "c"]
    assert fs.isdir(f"{memory_url}/d")
    assert len(list(fs.listdir(memory_url))) == 2
    assert not fs.is_local
    fs.remove(f"{memory_url}/d")
    assert not fs.exists(f"{memory_url}/d/a")


def test_fsspec_file_system_mkdir(tmp_path: Path) -> None:
    fs = FsspecFileSystem(fsspec.filesystem("file"))

    fs.mkdir(f"{tmp_path}/a/b")
    fs.mkdir(f"{tmp_path}/a/b")

    assert fs.is_local
    assert (tmp_path / "a" / "b").is_dir()
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(f"{tmp_path}/a", raise_if_exists=True)
    with pytest.raises(MissingParentDirectory):
        fs.mkdir(f"{tmp_path}/x/y", parents=False)


def test_fsspec_file_system_local_move_creates_parents(tmp_path: Path) -> None:
    fs = FsspecFileSystem(fsspec.filesystem("file"))
    (tmp_path / "a").write_text("x")

    fs.move(f"{tmp_path}/a", f"{tmp_path}/new/dir/a")

    assert (tmp_path / "new" / "dir" / "a").read_text() == "x"


def test_fsspec_target_failed_move_removes_temporary(
    memory_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = FsspecTarget(f"{memory_url}/a.txt")
    out = target.open("w")
    out.write("x")

    def failing_move(path: str, dest: str) -> None:
        raise PermissionError(dest)

    monkeypatch.setattr(target.fs.filesystem, "mv", failing_move)

    with pytest.raises(PermissionError):
        out.close()

    assert listing(memory_url) == []


def test_fsspec_target_local_name_near_the_limit_is_written(tmp_path: Path) -> None:
    name = "n" * 246 + ".txt"
    target = FsspecTarget(f"file://{tmp_path}/{name}")

    with target.open("w") as out:
        out.write("fits")

    assert target.exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_fsspec_target_local_exists_removes_a_dead_runs_temporary(
    tmp_path: Path,
) -> None:
    owner = f"{current_owner().host}.{dead_pid()}.0"
    (tmp_path / f".nbflow-tmp-{owner}-00-out.txt").write_text("partial")
    (tmp_path / "out.txt").write_text("whole")

    found = FsspecTarget(f"file://{tmp_path}/out.txt").exists()

    assert found
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
