"""execute(): a rerun replaces outputs in place and puts them back when it fails."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import fsspec
import pytest

from nbflow.core.execution import execute
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.parameter_descriptor import Parameter
from nbflow.core.target import LocalTarget
from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Iterator


class Rewrite(Task):
    """Write "new" into each output, or do what ``how`` says instead."""

    folder = Parameter()
    names = Parameter(default="a.txt,b.txt")
    how = Parameter(default="write")
    #: Whether run() saw any of its outputs as existing, run by run.
    seen: ClassVar[list[bool]] = []

    def output(self) -> list[Any]:
        kind = FsspecTarget if "://" in self.folder else LocalTarget
        return [kind(f"{self.folder}/{name}") for name in self.names.split(",")]

    def run(self) -> Any:
        outputs = self.output()
        Rewrite.seen.append(any(out.exists() for out in outputs))
        if self.how == "suspend":
            yield Missing()
        for number, out in enumerate(outputs):
            if number and self.how in {"fail", "interrupt"}:
                raise (
                    RuntimeError("broken") if self.how == "fail" else KeyboardInterrupt
                )
            if self.how == "in place":
                Path(out.path).write_text("new")  # not through the target
            elif self.how == "temporary path":
                with out.temporary_path() as path:
                    Path(path).write_text("new")
            elif self.how != "nothing":
                with out.open("w") as stream:
                    stream.write("new")


class Missing(Task):
    def complete(self) -> bool:
        return False


def make(folder: Path, names: str = "a.txt,b.txt", how: str = "write") -> Rewrite:
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text("old")
    return Rewrite(folder=str(folder), names=names, how=how)


def contents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("how", ["write", "temporary path", "in place"])
def test_execute_rerun_replaces_outputs_that_run_sees_as_missing(
    tmp_path: Path, how: str
) -> None:
    Rewrite.seen.clear()

    outcome = execute(make(tmp_path, how=how))

    assert outcome.status == "done", outcome.error
    assert Rewrite.seen == [False]
    assert contents(tmp_path) == {"a.txt": "new", "b.txt": "new"}


@pytest.mark.parametrize("how", ["fail", "interrupt", "suspend", "nothing"])
def test_execute_rerun_that_does_not_finish_keeps_the_previous_outputs(
    tmp_path: Path, how: str
) -> None:
    task = make(tmp_path, how=how)

    if how == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            execute(task)
    else:
        outcome = execute(task)
        assert outcome.status == ("suspended" if how == "suspend" else "failed")

    assert contents(tmp_path) == {"a.txt": "old", "b.txt": "old"}


def test_execute_rerun_that_writes_nothing_reports_the_output_missing(
    tmp_path: Path,
) -> None:
    outcome = execute(make(tmp_path, "a.txt", "nothing"))

    assert outcome.status == "failed"
    assert "OutputMissingError" in outcome.error
    assert "a.txt" in outcome.error


def test_execute_failed_rerun_removes_outputs_that_did_not_exist_before(
    tmp_path: Path,
) -> None:
    task = make(tmp_path, "c.txt,a.txt", "fail")

    outcome = execute(task)

    assert outcome.status == "failed"
    assert contents(tmp_path) == {"a.txt": "old", "b.txt": "old"}


def test_execute_rerun_of_a_directory_output_replaces_it(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "part").write_text("old")

    outcome = execute(Folder(folder=str(tmp_path)))

    assert outcome.status == "done", outcome.error
    assert contents(tmp_path / "d") == {"part": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


class Folder(Task):
    folder = Parameter()

    def output(self) -> LocalTarget:
        return LocalTarget(f"{self.folder}/d")

    def run(self) -> None:
        with self.output().temporary_path() as path:
            Path(path).mkdir()
            (Path(path) / "part").write_text("new")


def test_execute_rerun_of_a_long_name_keeps_and_restores_it(tmp_path: Path) -> None:
    name = "n" * 246 + ".txt"
    (tmp_path / name).write_text("old")

    outcome = execute(Rewrite(folder=str(tmp_path), names=f"{name},c.txt", how="fail"))

    assert outcome.status == "failed"
    assert contents(tmp_path) == {name: "old"}


def test_execute_rerun_on_fsspec_memory_restores_a_copy(memory_folder: str) -> None:
    task = Rewrite(folder=memory_folder, how="fail")
    for out in task.output():
        with out.open("w") as stream:
            stream.write("old")

    outcome = execute(task)

    assert outcome.status == "failed"
    assert [out.open("r").read() for out in task.output()] == ["old", "old"]
    listed = task.output()[0].fs.filesystem.ls(memory_folder, detail=False)
    assert [name.rpartition("/")[2] for name in sorted(listed)] == ["a.txt", "b.txt"]


@pytest.fixture
def memory_folder() -> Iterator[str]:
    folder = f"memory://nbflow-execution-{uuid.uuid4().hex}"
    yield folder
    memory = fsspec.filesystem("memory")
    if memory.exists(folder):
        memory.rm(folder, recursive=True)
