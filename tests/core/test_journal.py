"""The rerun journal: what the next run does after a rerun's process died."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from nbflow.core import temporary
from nbflow.core.journal import Rerun, sweep
from nbflow.core.target import LocalFileSystem, LocalTarget
from nbflow.core.temporary import REPLACING, Owner, current_owner, forget_sweeps
from tests.core.test_temporary import dead_pid

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def pair(tmp_path: Path) -> dict[str, LocalTarget]:
    targets = {name: LocalTarget(tmp_path / f"{name}.txt") for name in "ab"}
    for name, target in targets.items():
        with target.open("w") as out:
            out.write(f"old {name}")
    return targets


@pytest.fixture
def dead_owner(monkeypatch: pytest.MonkeyPatch) -> Owner:
    """Make the temporaries of this test look made by a process that has exited."""
    owner = Owner(current_owner().host, dead_pid(), 0)
    monkeypatch.setattr(temporary, "current_owner", lambda: owner)
    return owner


def killed_rerun(targets: dict[str, LocalTarget], *writes: str) -> None:
    """Begin a rerun, publish ``writes``, then stop as a killed process would."""
    rerun = Rerun.begin("Pair()", list(targets.values()))
    assert rerun is not None
    token = REPLACING.set(rerun.replacing)
    try:
        for name in writes:
            with targets[name].open("w") as out:
                out.write(f"new {name}")
    finally:
        REPLACING.reset(token)


def contents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


@pytest.mark.usefixtures("dead_owner")
def test_sweep_restores_the_previous_set_when_a_killed_rerun_left_it_mixed(
    pair: dict[str, LocalTarget], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    killed_rerun(pair, "a")

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path) == {"a.txt": "old a", "b.txt": "old b"}
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "Pair()" in record.getMessage()
    assert "a.txt (previous version restored)" in record.getMessage()
    assert "restored the previous set" in record.getMessage()


@pytest.mark.usefixtures("dead_owner")
def test_sweep_keeps_a_killed_reruns_outputs_when_all_were_replaced(
    pair: dict[str, LocalTarget], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    killed_rerun(pair, "a", "b")

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path) == {"a.txt": "new a", "b.txt": "new b"}
    assert "Pair(): a killed run had replaced all its outputs" in caplog.text


@pytest.mark.usefixtures("dead_owner")
def test_sweep_cleans_up_silently_when_a_killed_rerun_changed_nothing(
    pair: dict[str, LocalTarget], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    killed_rerun(pair)

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path) == {"a.txt": "old a", "b.txt": "old b"}
    assert caplog.records == []


@pytest.mark.usefixtures("dead_owner")
def test_sweep_removes_an_output_a_killed_rerun_added_to_an_old_set(
    pair: dict[str, LocalTarget], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "b.txt").unlink()
    killed_rerun(pair, "b")

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path) == {"a.txt": "old a"}
    assert "b.txt (removed: it did not exist before)" in caplog.text


@pytest.mark.usefixtures("dead_owner")
def test_exists_in_a_folder_recovers_a_killed_rerun_first(
    pair: dict[str, LocalTarget], tmp_path: Path
) -> None:
    killed_rerun(pair, "b")
    forget_sweeps()

    found = LocalTarget(tmp_path / "a.txt").exists()

    assert found
    assert contents(tmp_path) == {"a.txt": "old a", "b.txt": "old b"}


def test_sweep_leaves_a_live_reruns_journal_and_backups_alone(
    pair: dict[str, LocalTarget], tmp_path: Path
) -> None:
    rerun = Rerun.begin("Pair()", list(pair.values()))
    assert rerun is not None
    during = contents(tmp_path)

    sweep(LocalFileSystem(), str(tmp_path))
    after = contents(tmp_path)
    rerun.finish()

    assert len(during) == 5  # two outputs, two backups, the journal
    assert after == during
    assert contents(tmp_path) == {"a.txt": "old a", "b.txt": "old b"}


@pytest.mark.usefixtures("dead_owner")
def test_sweep_removes_a_dead_runs_temporaries_and_cut_journal(tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("kept")
    (tmp_path / temporary.temporary_sibling("out.txt")).write_text("partial")
    (tmp_path / temporary.temporary_sibling("out.txt", ".journal")).write_text('{"ta')
    folder = tmp_path / temporary.temporary_sibling("out")
    folder.mkdir()
    (folder / "part-0").write_text("partial")

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path) == {"out.txt": "kept"}


@pytest.mark.usefixtures("dead_owner")
def test_sweep_restores_a_directory_output_moved_aside(tmp_path: Path) -> None:
    output = LocalTarget(tmp_path / "folder")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "part").write_text("old")
    rerun = Rerun.begin("Dir()", [output])
    assert rerun is not None
    (tmp_path / "folder").rename(rerun.replacing.backups[output.path])  # then killed

    sweep(LocalFileSystem(), str(tmp_path))

    assert contents(tmp_path / "folder") == {"part": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["folder"]


def test_sweep_reports_leftovers_it_cannot_judge_with_the_commands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / ".nbflow-tmp-0123456789ab-out.txt.previous"
    old.write_text("the only copy")
    elsewhere = tmp_path / ".nbflow-tmp-ffffff.1.1-00-b.txt"  # sorts after the other
    elsewhere.write_text("another host's")

    sweep(LocalFileSystem(), str(tmp_path))

    assert old.exists()
    assert elsewhere.exists()
    assert "2 leftover temporaries" in caplog.text
    assert f"rm -rf -- {old} {elsewhere}" in caplog.text
    assert f"mv -- {old} {tmp_path / 'out.txt'}" in caplog.text
