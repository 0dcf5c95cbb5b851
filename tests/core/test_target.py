from __future__ import annotations

import errno
import gc
import io
import pickle
import warnings
import weakref
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from nbflow.core.errors import NbflowError
from nbflow.core.format import UTF8, Format, Gzip, Nop
from nbflow.core.target import (
    AtomicFile,
    FileAlreadyExists,
    FileSystem,
    FileSystemException,
    FileSystemTarget,
    InvalidModeError,
    LocalFileSystem,
    LocalTarget,
    MemoryFileSystem,
    MemoryTarget,
    MissingParentDirectory,
    MissingPathError,
    NotADirectory,
    Target,
    UnsupportedOperationError,
    temporary_sibling,
)

if TYPE_CHECKING:
    from types import ModuleType


@pytest.fixture(scope="module")
def luigi() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # luigi's import warns
        return pytest.importorskip("luigi")


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def write_then_fail(target: FileSystemTarget, data: Any, error: Exception) -> None:
    with target.open("w") as out:
        out.write(data)
        raise error


# --- LocalTarget: reading and writing -------------------------------------------


def test_local_target_writes_then_reads_text(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    with target.open("w") as out:
        out.write("héllo\n")

    with target.open("r") as text:
        assert text.read() == "héllo\n"
    assert target.exists()


def test_local_target_content_is_invisible_until_close(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    with target.open("w") as out:
        out.write("partial")
        out.flush()

        assert not target.exists()
        assert not (tmp_path / "out.txt").exists()
        [temporary] = names(tmp_path)
        assert temporary.startswith(".nbflow-tmp-")
        assert temporary.endswith("-out.txt")

    assert names(tmp_path) == ["out.txt"]


def test_local_target_exception_in_with_leaves_nothing(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail(target, "partial", RuntimeError("boom"))

    assert not target.exists()
    assert names(tmp_path) == []


def test_local_target_exception_keeps_previous_content(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")
    with target.open("w") as out:
        out.write("old")

    with pytest.raises(RuntimeError):
        write_then_fail(target, "new", RuntimeError())

    assert (tmp_path / "out.txt").read_text() == "old"
    assert names(tmp_path) == ["out.txt"]


def test_local_target_unclosed_writer_leaves_nothing(tmp_path: Path) -> None:
    out = LocalTarget(tmp_path / "out.txt").open("w")
    out.write("partial")

    del out
    gc.collect()

    assert names(tmp_path) == []


def test_local_target_wrong_data_type_leaves_nothing(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.gz", format=Gzip)

    with pytest.raises(TypeError), target.open("w") as out:
        out.write("text where bytes are expected")

    assert names(tmp_path) == []


def test_local_target_format_failing_at_close_leaves_nothing(tmp_path: Path) -> None:
    class FailingClose(io.BufferedWriter):
        def close(self) -> None:
            super().close()
            raise OSError("disk full")

    class FailingFormat(Format):
        def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
            return FailingClose(output_pipe)  # type: ignore[arg-type]

    target = LocalTarget(tmp_path / "out.bin", format=FailingFormat())

    with pytest.raises(OSError, match="disk full"), target.open("w") as out:
        out.write(b"data")

    assert names(tmp_path) == []


def test_local_target_creates_parent_directories(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "a" / "b" / "out.txt")

    with target.open("w") as out:
        out.write("x")

    assert (tmp_path / "a" / "b" / "out.txt").read_text() == "x"


def test_local_target_binary_modes_give_bytes(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.bin")

    with target.open("wb") as out:
        out.write(b"\x00\xff")

    with target.open("rb") as data:
        assert data.read() == b"\x00\xff"


def test_local_target_explicit_format_wins_over_b_like_luigi(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt", format=UTF8)

    with target.open("wb") as out:
        out.write("still text")

    with target.open("rb") as text:
        assert text.read() == "still text"


def test_local_target_gzip_format_is_binary(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.gz", format=Gzip)

    with target.open("w") as out:
        out.write(b"zipped")

    with target.open("r") as data:
        assert data.read() == b"zipped"


def test_local_target_nop_format_is_binary(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.bin", format=Nop)

    with target.open("w") as out:
        out.write(b"raw")

    assert (tmp_path / "out.bin").read_bytes() == b"raw"


@pytest.mark.parametrize("mode", ["a", "r+", "x", "rw", "rbt", "", "rr"])
def test_local_target_open_rejects_other_modes(tmp_path: Path, mode: str) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    with pytest.raises(InvalidModeError) as info:
        target.open(mode)

    message = str(info.value)
    assert message.startswith(f"LocalTarget.open: unsupported mode (got {mode!r}).")
    assert "Expected one of 'r', 'w', 'rb', 'wb'" in message
    assert "Fix: open with 'r'" in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("mode", ["rt", "wt", "br", "bw"])
def test_local_target_open_accepts_python_spellings(tmp_path: Path, mode: str) -> None:
    target = LocalTarget(tmp_path / "out.txt")
    target.open("w").close()

    target.open(mode).close()

    assert target.exists()


def test_local_target_read_missing_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalTarget(tmp_path / "missing").open("r")


def test_local_target_open_atomic_is_open_for_writing(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    out = target.open("w")

    assert isinstance(out, AtomicFile)
    assert out.writable()
    assert not out.closed
    out.writelines(["a\n", "b\n"])
    out.close()
    out.close()
    assert out.closed
    assert (tmp_path / "out.txt").read_text() == "a\nb\n"


def test_local_target_abort_discards(tmp_path: Path) -> None:
    out = LocalTarget(tmp_path / "out.txt").open("w")
    out.write("x")

    out.abort()
    out.abort()

    assert out.closed
    assert names(tmp_path) == []


# --- LocalTarget: compared with Luigi -------------------------------------------


@pytest.mark.parametrize(
    "stored", [b"1\r\n2\r3\n", b"plain\n", "é\n".encode(), b"no newline"]
)
def test_local_target_reads_like_luigi(
    tmp_path: Path, luigi: ModuleType, stored: bytes
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(stored)

    with luigi.LocalTarget(str(path)).open("r") as theirs:
        expected = theirs.read()
    with LocalTarget(path).open("r") as ours:
        got = ours.read()

    assert got == expected


def test_local_target_reads_luigi_written_text(
    tmp_path: Path, luigi: ModuleType
) -> None:
    path = str(tmp_path / "luigi.txt")
    with luigi.LocalTarget(path).open("w") as out:
        out.write("a\r\nb\nc\r")

    with (
        LocalTarget(path).open("r") as ours,
        luigi.LocalTarget(path).open("r") as theirs,
    ):
        assert ours.read() == theirs.read()
    with LocalTarget(path).open("r") as ours:
        assert list(ours) == ["a\n", "b\n", "c\n"]


def test_local_target_writes_what_luigi_writes(
    tmp_path: Path, luigi: ModuleType
) -> None:
    text = "x\r\ny\nz\r é"
    with luigi.LocalTarget(str(tmp_path / "theirs.txt")).open("w") as out:
        out.write(text)

    with LocalTarget(tmp_path / "ours.txt").open("w") as out:
        out.write(text)

    assert (tmp_path / "ours.txt").read_bytes() == (
        tmp_path / "theirs.txt"
    ).read_bytes()


def test_local_target_gzip_interoperates_with_luigi(
    tmp_path: Path, luigi: ModuleType
) -> None:
    ours = LocalTarget(tmp_path / "ours.gz", format=UTF8 >> Gzip)
    with ours.open("w") as out:
        out.write("from nbflow\n")

    theirs = luigi.LocalTarget(ours.path, format=luigi.format.UTF8 >> luigi.format.Gzip)
    with theirs.open("r") as text:
        assert text.read() == "from nbflow\n"


# --- LocalTarget: paths, tmp, move, copy, remove ----------------------------------


def test_local_target_path_str_repr_fn(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "a.txt")

    assert target.path == str(tmp_path / "a.txt")
    assert target.fn == target.path
    assert str(target) == target.path
    assert repr(target) == f"LocalTarget({target.path!r})"


def test_local_target_without_path_raises() -> None:
    with pytest.raises(MissingPathError) as info:
        LocalTarget()

    message = str(info.value)
    assert message.startswith("LocalTarget: no path given (got path=None")
    assert "Expected a path, or is_tmp=True" in message
    assert "Fix: pass LocalTarget('data/out.csv')" in message


def test_local_target_is_tmp_is_removed_when_collected() -> None:
    target = LocalTarget(is_tmp=True)
    with target.open("w") as out:
        out.write("temporary")
    path = Path(target.path)
    target.cycle = target  # only the cyclic garbage collector can free it
    alive = weakref.ref(target)
    del target
    before = path.read_text()

    gc.collect()

    assert before == "temporary"
    assert alive() is None
    assert not path.exists()
    assert path.name.startswith("nbflow-tmp-")


def test_local_target_writes_a_name_near_the_file_system_limit(tmp_path: Path) -> None:
    first, second = "n" * 246 + ".csv", "m" * 255
    target = LocalTarget(tmp_path / first)

    with target.open("w") as out:
        out.write("fits")
    with LocalTarget(tmp_path / second).temporary_path() as path:
        Path(path).write_text("fits too")

    assert target.exists()
    assert names(tmp_path) == [second, first]


def test_local_target_is_tmp_with_path_and_directory(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "scratch", is_tmp=True)
    target.fs.mkdir(target.path)
    (tmp_path / "scratch" / "f").write_text("x")

    del target
    gc.collect()

    assert names(tmp_path) == []


def test_local_target_is_tmp_never_written_is_fine() -> None:
    target = LocalTarget(is_tmp=True)

    del target
    gc.collect()


def test_local_target_construction_touches_nothing(tmp_path: Path) -> None:
    LocalTarget(tmp_path / "a" / "b.txt")

    assert names(tmp_path) == []


def test_local_target_move(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "a.txt")
    target.open("w").close()

    target.move(str(tmp_path / "sub" / "b.txt"))

    assert not target.exists()
    assert (tmp_path / "sub" / "b.txt").exists()


def test_local_target_move_overwrites_unless_raise_if_exists(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    target = LocalTarget(tmp_path / "a.txt")

    with pytest.raises(FileAlreadyExists) as info:
        target.move(str(tmp_path / "b.txt"), raise_if_exists=True)

    assert (tmp_path / "b.txt").read_text() == "b"
    assert "rename_dont_move: the destination already exists" in str(info.value)
    target.move(str(tmp_path / "b.txt"))
    assert (tmp_path / "b.txt").read_text() == "a"
    assert names(tmp_path) == ["b.txt"]


def test_local_target_move_dir(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")

    LocalTarget(tmp_path / "d").move_dir(str(tmp_path / "e"))

    assert (tmp_path / "e" / "f").read_text() == "x"
    assert not (tmp_path / "d").exists()


def test_local_target_copy(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    target = LocalTarget(tmp_path / "a.txt")

    with pytest.raises(FileAlreadyExists):
        target.copy(str(tmp_path / "b.txt"), raise_if_exists=True)
    target.copy(str(tmp_path / "new" / "c.txt"))
    target.copy(str(tmp_path / "b.txt"))

    assert (tmp_path / "new" / "c.txt").read_text() == "a"
    assert (tmp_path / "b.txt").read_text() == "a"
    assert target.exists()
    assert names(tmp_path) == ["a.txt", "b.txt", "new"]


def test_local_target_copy_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")

    LocalTarget(tmp_path / "d").copy(str(tmp_path / "e"))

    assert (tmp_path / "e" / "f").read_text() == "x"
    assert (tmp_path / "d" / "f").exists()


def test_local_target_copy_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalTarget(tmp_path / "missing").copy(str(tmp_path / "out" / "c"))

    assert names(tmp_path / "out") == []


def test_local_target_remove_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "d" / "e").mkdir(parents=True)

    LocalTarget(tmp_path / "f").remove()
    LocalTarget(tmp_path / "d").remove()

    assert names(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        LocalTarget(tmp_path / "f").remove()


def test_local_target_makedirs(tmp_path: Path) -> None:
    LocalTarget(tmp_path / "x" / "y" / "z.txt").makedirs()

    assert (tmp_path / "x" / "y").is_dir()
    assert not (tmp_path / "x" / "y" / "z.txt").exists()


def test_local_target_temporary_path_publishes(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "sub" / "out.csv")

    with target.temporary_path() as temporary:
        assert temporary.endswith("-out.csv")
        Path(temporary).write_text("done")
        assert not target.exists()

    assert Path(target.path).read_text() == "done"
    assert names(tmp_path / "sub") == ["out.csv"]


def test_local_target_temporary_path_removes_on_error(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out")

    def fill_then_fail() -> None:
        with target.temporary_path() as temporary:
            Path(temporary).mkdir()
            (Path(temporary) / "part").write_text("x")
            raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        fill_then_fail()

    assert names(tmp_path) == []


def test_local_target_temporary_path_refuses_to_overwrite(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out")
    (tmp_path / "out").write_text("old")

    with pytest.raises(FileAlreadyExists), target.temporary_path() as temporary:
        Path(temporary).write_text("new")

    assert (tmp_path / "out").read_text() == "old"
    assert names(tmp_path) == ["out"]


def test_local_target_temporary_path_publishes_directory(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out")

    with target.temporary_path() as temporary:
        Path(temporary).mkdir()
        (Path(temporary) / "part-0").write_text("x")

    assert (tmp_path / "out" / "part-0").read_text() == "x"


def test_local_target_concurrent_writers_use_distinct_temporaries(
    tmp_path: Path,
) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    first, second = target.open("w"), target.open("w")
    first.write("first")
    second.write("second")
    first.close()
    second.close()

    assert (tmp_path / "out.txt").read_text() == "second"
    assert names(tmp_path) == ["out.txt"]


# --- LocalFileSystem -----------------------------------------------------------


def test_local_file_system_mkdir(tmp_path: Path) -> None:
    fs = LocalFileSystem()

    fs.mkdir(str(tmp_path / "a" / "b"))
    fs.mkdir(str(tmp_path / "a" / "b"))

    assert fs.isdir(str(tmp_path / "a" / "b"))
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(tmp_path / "a"), raise_if_exists=True)


def test_local_file_system_mkdir_without_parents(tmp_path: Path) -> None:
    fs = LocalFileSystem()

    with pytest.raises(MissingParentDirectory) as info:
        fs.mkdir(str(tmp_path / "x" / "y"), parents=False)

    message = str(info.value)
    assert message.startswith("mkdir: the parent directory does not exist (got ")
    assert "Expected an existing parent directory." in message
    assert "Fix: create the parent first, or pass parents=True." in message
    fs.mkdir(str(tmp_path / "x"), parents=False)
    assert fs.isdir(str(tmp_path / "x"))


def test_local_file_system_mkdir_through_a_file(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "f").write_text("x")

    with pytest.raises(NotADirectory) as info:
        fs.mkdir(str(tmp_path / "f" / "d"))
    with pytest.raises(FileAlreadyExists):
        fs.mkdir(str(tmp_path / "f"))

    assert "a part of the path is a file" in str(info.value)


def test_local_file_system_listdir_is_recursive(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "g").write_text("")
    (tmp_path / "d" / "e" / "f").write_text("")

    found = sorted(fs.listdir(str(tmp_path / "d")))

    assert found == [str(tmp_path / "d" / "e" / "f"), str(tmp_path / "d" / "g")]


def test_local_file_system_remove_non_recursive_directory(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "d").mkdir()

    with pytest.raises(OSError):  # the OS picks the exact error
        fs.remove(str(tmp_path / "d"), recursive=False)

    assert (tmp_path / "d").exists()


def test_local_file_system_rename_dont_move(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")

    with pytest.raises(FileAlreadyExists):
        fs.rename_dont_move(str(tmp_path / "a"), str(tmp_path / "b"))
    fs.rename_dont_move(str(tmp_path / "a"), str(tmp_path / "c"))
    fs.rename(str(tmp_path / "c"), str(tmp_path / "d"))

    assert names(tmp_path) == ["b", "d"]


def test_local_file_system_rename_dont_move_directory(tmp_path: Path) -> None:
    fs = LocalFileSystem()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    with pytest.raises(FileAlreadyExists):
        fs.rename_dont_move(str(tmp_path / "a"), str(tmp_path / "b"))
    fs.rename_dont_move(str(tmp_path / "a"), str(tmp_path / "c"))

    assert names(tmp_path) == ["b", "c"]


# --- errors and abstract bases ---------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [FileSystemException, FileAlreadyExists, MissingParentDirectory, NotADirectory],
)
def test_file_system_errors_are_nbflow_errors_and_pickle(
    error: type[FileSystemException],
) -> None:
    raised = error("/data/x", "move")

    copy = pickle.loads(pickle.dumps(raised))

    assert isinstance(raised, NbflowError)
    assert str(copy) == str(raised)
    assert str(raised).startswith("move: ")
    assert "(got '/data/x'). Expected " in str(raised)
    assert ". Fix: " in str(raised)


def test_target_is_abstract() -> None:
    with pytest.raises(TypeError):
        Target()  # type: ignore[abstract]


class BareFileSystem(FileSystem):
    def exists(self, path: str) -> bool:
        return False

    def remove(self, path: str, recursive: bool = True) -> None:
        pass


class BareTarget(FileSystemTarget):
    @property
    def fs(self) -> FileSystem:
        return BareFileSystem()


def test_file_system_unsupported_operations_say_so() -> None:
    fs = BareFileSystem()

    calls = [
        lambda: fs.mkdir("p"),
        lambda: fs.isdir("p"),
        lambda: list(fs.listdir("p")),
        lambda: fs.move("p", "q"),
        lambda: fs.copy("p", "q"),
        lambda: fs.rename_dont_move("p", "q"),
    ]

    for call in calls:
        with pytest.raises(UnsupportedOperationError) as info:
            call()
        assert str(info.value).startswith("BareFileSystem.")
        assert isinstance(info.value, NotImplementedError)


def test_file_system_target_without_hooks_cannot_open() -> None:
    target = BareTarget("p")

    assert not target.exists()
    with pytest.raises(UnsupportedOperationError, match=r"BareTarget\.open"):
        target.open("r")
    with pytest.raises(UnsupportedOperationError):
        target.open("w")
    assert repr(target) == "BareTarget('p')"


def test_temporary_sibling_is_unique_hidden_and_keeps_name() -> None:
    first, second = temporary_sibling("d/x.csv"), temporary_sibling("d/x.csv")

    assert first != second
    assert first.startswith("d/.nbflow-tmp-")
    assert temporary_sibling("x.csv").startswith(".nbflow-tmp-")


# --- MemoryTarget --------------------------------------------------------------


@pytest.fixture
def store() -> MemoryFileSystem:
    return MemoryFileSystem()


def test_memory_target_round_trips_text_and_bytes(store: MemoryFileSystem) -> None:
    text, data = MemoryTarget("a.txt", store), MemoryTarget("b.bin", store)

    with text.open("w") as out:
        out.write("héllo")
    with data.open("wb") as out:
        out.write(b"\x00")

    with text.open("r") as stream:
        assert stream.read() == "héllo"
    with data.open("rb") as stream:
        assert stream.read() == b"\x00"
    assert store.get_bytes("a.txt") == "héllo".encode()


def test_memory_target_is_invisible_until_close(store: MemoryFileSystem) -> None:
    target = MemoryTarget("a.txt", store)

    with target.open("w") as out:
        out.write("x")
        assert not target.exists()

    assert target.exists()


def test_memory_target_exception_leaves_nothing(store: MemoryFileSystem) -> None:
    target = MemoryTarget("a.txt", store)

    with pytest.raises(KeyError):
        write_then_fail(target, "x", KeyError())

    assert not target.exists()
    assert list(store.listdir("")) == []


def test_memory_target_default_store_is_shared_and_clearable() -> None:
    MemoryTarget.default_store.clear()
    with MemoryTarget("shared.txt").open("w") as out:
        out.write("x")

    assert MemoryTarget("shared.txt").exists()
    MemoryTarget.default_store.clear()
    assert not MemoryTarget("shared.txt").exists()


def test_memory_target_read_missing_raises(store: MemoryFileSystem) -> None:
    with pytest.raises(FileNotFoundError):
        MemoryTarget("missing", store).open("r")


def test_memory_target_gzip_format(store: MemoryFileSystem) -> None:
    target = MemoryTarget("a.gz", store, format=UTF8 >> Gzip)

    with target.open("w") as out:
        out.write("zipped")

    with target.open("r") as text:
        assert text.read() == "zipped"
    assert store.get_bytes("a.gz")[:2] == b"\x1f\x8b"


def test_memory_target_temporary_path(store: MemoryFileSystem) -> None:
    target = MemoryTarget("dir/out", store)

    with target.temporary_path() as temporary:
        store.put_bytes(temporary, b"x")

    assert store.get_bytes("dir/out") == b"x"
    assert list(store.listdir("dir")) == ["dir/out"]


def test_memory_target_temporary_path_error_leaves_nothing(
    store: MemoryFileSystem,
) -> None:
    target = MemoryTarget("dir/out", store)

    def fill_then_fail() -> None:
        with target.temporary_path() as temporary:
            with MemoryTarget(temporary, store).open("w") as out:
                out.write("x")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fill_then_fail()

    assert not store.exists("dir")


def test_memory_file_system_operations(store: MemoryFileSystem) -> None:
    store.put_bytes("d/a", b"a")
    store.put_bytes("d/e/b", b"b")

    store.copy("d", "c")
    store.move("c/a", "m")
    with pytest.raises(FileAlreadyExists):
        store.move("m", "d/a", raise_if_exists=True)
    with pytest.raises(FileAlreadyExists):
        store.mkdir("d", raise_if_exists=True)
    store.mkdir("anything")

    assert list(store.listdir("c")) == ["c/e/b"]
    assert store.isdir("d/e")
    assert not store.isdir("m")
    assert store.get_bytes("m") == b"a"
    store.remove("d")
    assert not store.exists("d/a")
    with pytest.raises(FileNotFoundError):
        store.remove("d")
    with pytest.raises(FileNotFoundError):
        store.move("nothing", "x")
    with pytest.raises(FileNotFoundError):
        store.remove("c", recursive=False)


def test_memory_file_system_pickles_content(store: MemoryFileSystem) -> None:
    store.put_bytes("a", b"x")

    copy = pickle.loads(pickle.dumps(store))

    assert copy.get_bytes("a") == b"x"
    copy.move("a", "b")
    assert store.exists("a")


def test_local_target_publish_failure_removes_temporary(tmp_path: Path) -> None:
    (tmp_path / "out" / "inside").mkdir(parents=True)
    out = LocalTarget(tmp_path / "out").open("w")
    out.write("cannot replace a directory")

    with pytest.raises(OSError):  # the OS picks the exact error
        out.close()

    assert names(tmp_path) == ["out"]
    assert names(tmp_path / "out") == ["inside"]


def test_local_target_failing_format_leaves_nothing(tmp_path: Path) -> None:
    class BrokenFormat(Format):
        def pipe_writer(self, output_pipe: IO[Any]) -> IO[Any]:
            raise LookupError("no codec")

    target = LocalTarget(tmp_path / "out", format=BrokenFormat())

    with pytest.raises(LookupError, match="no codec"):
        target.open("w")

    assert names(tmp_path) == []


def test_local_target_write_after_close_raises(tmp_path: Path) -> None:
    out = LocalTarget(tmp_path / "out").open("wb")
    out.close()

    with pytest.raises(ValueError, match="closed file"):
        out.write(b"late")

    assert (tmp_path / "out").read_bytes() == b""


def test_local_file_system_move_across_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").write_text("x")

    def cross_device(self: Path, target: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(Path, "replace", cross_device)
    LocalFileSystem().move(str(tmp_path / "a"), str(tmp_path / "b"))

    assert names(tmp_path) == ["b"]


def test_local_file_system_move_other_os_errors_propagate(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalFileSystem().move(str(tmp_path / "missing"), str(tmp_path / "b"))


def test_local_target_open_atomic_writes_and_refuses_reading(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.txt")

    with target.open_atomic() as out:
        out.write("x")
        assert not target.exists()

    assert target.exists()
    with pytest.raises(InvalidModeError, match=r"LocalTarget\.open_atomic"):
        target.open_atomic("r")


def test_local_target_open_raw_ignores_format(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "out.gz", format=UTF8 >> Gzip)

    with target.open_raw("wb") as out:
        out.write(b"plain")

    with target.open_raw() as data:
        assert data.read() == b"plain"


def test_memory_file_system_lists_everything_from_the_root(
    store: MemoryFileSystem,
) -> None:
    store.put_bytes("b", b"")
    store.put_bytes("a/c", b"")

    assert list(store.listdir("")) == ["a/c", "b"]
