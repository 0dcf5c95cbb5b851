"""nbflow why, --dry-run, --accept, --force and --completeness on the command line."""

from __future__ import annotations

import sys

import pytest

from nbflow.cli import main

PIPELINE = """
import nbflow

OUT = {out!r}


def double(x):
    return 2 * x


class Base(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(OUT + "/base.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(str(double(1)))


class Top(nbflow.Task):
    def requires(self):
        return Base()

    def output(self):
        return nbflow.LocalTarget(OUT + "/top.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("top")
"""


@pytest.fixture
def pipeline(tmp_path, monkeypatch, request):
    name = f"why_pipeline_{request.node.name}"
    (tmp_path / f"{name}.py").write_text(PIPELINE.format(out=str(tmp_path)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path, name
    sys.modules.pop(name, None)


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_why_before_and_after_a_fingerprinted_run(pipeline, capsys) -> None:
    folder, name = pipeline

    code, before = _run(
        capsys, "why", "--module", name, "Top", "--completeness", "fingerprint"
    )
    assert code == 0
    assert "RUN   Top()" in before
    assert "output missing" in before
    assert "2 of 2 tasks would run" in before

    assert (
        _run(
            capsys,
            "run",
            "--module",
            name,
            "Top",
            "--completeness",
            "fingerprint",
            "--no-progress",
        )[0]
        == 0
    )
    source = (folder / f"{name}.py").read_text().replace("2 * x", "3 * x")
    (folder / f"{name}.py").write_text(source)
    sys.modules.pop(name, None)

    code, after = _run(
        capsys, "why", "--module", name, "Top", "--completeness", "fingerprint"
    )
    assert "RUN   Base()  stale: code changed in double" in after
    assert "upstream Base() changed" in after


def test_dry_run_lists_and_runs_nothing(pipeline, capsys) -> None:
    folder, name = pipeline

    code, out = _run(capsys, "run", "--module", name, "Top", "--dry-run")

    assert code == 0
    assert "2 tasks would run (dry run" in out
    assert not (folder / "top.txt").exists()


def test_force_reruns_task_and_downstream(pipeline, capsys) -> None:
    folder, name = pipeline
    _run(capsys, "run", "--module", name, "Top", "--no-progress")
    (folder / "top.txt").write_text("old")

    code, out = _run(
        capsys, "run", "--module", name, "Top", "--force", "Base", "--no-progress"
    )

    assert code == 0
    assert "2 ran successfully" in out
    assert (folder / "top.txt").read_text() == "top"


def test_accept_with_dry_run_plans_as_if_accepted(pipeline, capsys) -> None:
    folder, name = pipeline
    _run(
        capsys,
        "run",
        "--module",
        name,
        "Top",
        "--completeness",
        "fingerprint",
        "--no-progress",
    )
    source = (folder / f"{name}.py").read_text().replace("2 * x", "x + x")
    (folder / f"{name}.py").write_text(source)
    sys.modules.pop(name, None)

    code, out = _run(
        capsys,
        "run",
        "--module",
        name,
        "Top",
        "--completeness",
        "fingerprint",
        "--accept",
        "Base",
        "--dry-run",
    )

    assert code == 0
    assert "would accept  Base()" in out
    assert "would accept  Top()" in out
    assert "0 tasks would run" in out


def _sidecars(folder) -> set[str]:
    return {path.name for path in folder.glob(".*.nbflow.json")}


def test_accept_with_dry_run_writes_nothing(pipeline, capsys) -> None:
    folder, name = pipeline
    _run(capsys, "run", "--module", name, "Top", "--no-progress")  # exists: no sidecars

    code, out = _run(
        capsys, "run", "--module", name, "Top", "--accept", "Base", "--dry-run"
    )

    assert code == 0
    assert "would accept  Base()" in out
    assert _sidecars(folder) == set()


def test_accept_without_dry_run_records_then_runs(pipeline, capsys) -> None:
    folder, name = pipeline
    _run(capsys, "run", "--module", name, "Top", "--no-progress")

    code, out = _run(
        capsys, "run", "--module", name, "Top", "--accept", "Top", "--no-progress"
    )

    assert code == 0
    assert "accepted  Top()" in out
    assert {path.split(".")[1] for path in _sidecars(folder)} == {"top"}


def test_why_after_an_exists_mode_run_says_unversioned_and_the_fix(
    pipeline, capsys
) -> None:
    folder, name = pipeline
    _run(capsys, "run", "--module", name, "Top", "--no-progress")
    source = (folder / f"{name}.py").read_text().replace("2 * x", "3 * x")
    (folder / f"{name}.py").write_text(source)
    sys.modules.pop(name, None)

    code, out = _run(
        capsys, "why", "--module", name, "Top", "--completeness", "fingerprint"
    )

    assert code == 0
    line = next(line for line in out.splitlines() if "Top()" in line)
    assert line.startswith("skip  Top()   unversioned")
    assert "--accept Top" in line
    assert "--force Top" in line
    assert "up to date" not in out


def test_unknown_completeness_mode_is_a_usage_error(pipeline, capsys) -> None:
    _, name = pipeline

    code = main(["run", "--module", name, "Top", "--completeness", "hash"])

    assert code == 2
    assert "exists or fingerprint" in capsys.readouterr().err


def test_force_of_unknown_task_says_did_you_mean(pipeline, capsys) -> None:
    _, name = pipeline

    code = main(["run", "--module", name, "Top", "--force", "Bsae"])

    assert code == 2
    assert "Did you mean: Base?" in capsys.readouterr().err
