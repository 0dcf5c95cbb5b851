from __future__ import annotations

import pickle

import pytest

import nbflow
from nbflow.core.format import Nop
from nbflow.core.mock import MockFileSystem, MockTarget


@pytest.fixture(autouse=True)
def _empty_store() -> None:
    MockTarget.fs.clear()


def test_mock_target_writes_text_and_reads_lines() -> None:
    target = MockTarget("/mock/text")

    with target.open("w") as out:
        print("first", file=out)
        out.write("second")
    with target.open() as lines:
        read = list(lines)

    assert read == ["first\n", "second"]
    assert MockTarget.fs.get_data("/mock/text") == b"first\nsecond"


def test_mock_target_bytes_with_nop_format() -> None:
    target = MockTarget("/mock/bytes", format=Nop)

    with target.open("wb") as out:
        out.write(b"\x00raw")
    with target.open("rb") as raw:
        assert raw.read() == b"\x00raw"


def test_mock_target_write_is_atomic() -> None:
    target = MockTarget("/mock/atomic")

    def write_half_then_fail() -> None:
        with target.open("w") as out:
            out.write("half")
            seen.append(target.exists())
            raise RuntimeError

    seen: list[bool] = []
    with pytest.raises(RuntimeError):
        write_half_then_fail()

    assert seen == [False]
    assert not target.exists()


def test_mock_target_open_without_mode_string_is_type_error() -> None:
    with pytest.raises(TypeError):
        MockTarget("/mock/none").open(None)  # type: ignore[arg-type]


def test_mock_file_systems_share_one_store() -> None:
    mine, other = MockFileSystem(), MockFileSystem()

    with MockTarget("/tmp/a").open("w"):
        pass

    assert mine.exists("/tmp/a")
    assert other.get_all_data() is MockTarget.fs.get_all_data()
    assert pickle.loads(pickle.dumps(mine)).exists("/tmp/a")


def test_mock_file_system_copy_move_remove_listdir() -> None:
    fs = MockFileSystem()
    for path in ("/tmp/a", "/tmp/b", "/other/c"):
        fs.put_bytes(path, b"x")

    fs.copy("/tmp/a", "/tmp/a2")
    fs.rename("/tmp/b", "/tmp/b2")
    listed = sorted(fs.listdir("/tmp"))
    fs.remove("/tmp", recursive=True)

    assert listed == ["/tmp/a", "/tmp/a2", "/tmp/b2"]
    assert sorted(fs.get_all_data()) == ["/other/c"]


def test_mock_target_move_and_rename() -> None:
    target = MockTarget("/mock/from")
    with target.open("w") as out:
        out.write("x")

    target.move("/mock/to")
    MockTarget("/mock/to").rename("/mock/final")

    assert sorted(MockTarget.fs.get_all_data()) == ["/mock/final"]


def test_mock_target_mirror_on_stderr_prefixes_lines(capsys) -> None:
    with MockTarget("/mock/loud", mirror_on_stderr=True).open("w") as out:
        out.write("one\ntw")
        out.write("o\n")

    assert capsys.readouterr().err == "/mock/loud: one\n/mock/loud: two\n"
    assert MockTarget.fs.get_data("/mock/loud") == b"one\ntwo\n"


def test_mock_target_as_task_output_in_a_build() -> None:
    class MockWriter(nbflow.Task):
        def output(self):
            return MockTarget("/mock/built")

        def run(self):
            with self.output().open("w") as out:
                out.write("built")

    assert nbflow.build([MockWriter()], local_scheduler=True, workers=3)

    assert MockTarget.fs.get_data("/mock/built") == b"built"
