"""In a notebook, completeness is code-aware: a redefined cell reruns only what it reaches."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel

CELL_A = """
class Source(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(workdir + "/source.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("data")
"""

CELL_B = """
def shape(text):
    return text.upper()


class Shaped(nbflow.Task):
    def requires(self):
        return Source()

    def output(self):
        return nbflow.LocalTarget(workdir + "/shaped.txt")

    def run(self):
        with self.input().open() as f:
            text = f.read()
        with self.output().open("w") as f:
            f.write(shape(text))
"""

CELL_C = """
class Final(nbflow.Task):
    def requires(self):
        return Shaped()

    def output(self):
        return nbflow.LocalTarget(workdir + "/final.txt")

    def run(self):
        with self.input().open() as f, self.output().open("w") as out:
            out.write(f.read() + "!")
"""


def _ran(output: str) -> list[str]:
    return [line.split()[2] for line in output.splitlines() if "] done" in line]


def test_redefining_a_cell_reruns_exactly_that_task_and_downstream(
    shell, tmp_path, capsys
) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final")
    assert sorted(_ran(capsys.readouterr().out)) == ["Final()", "Shaped()", "Source()"]

    shell.run_cell(CELL_B.replace("text.upper()", "text.title()"))
    shell.run_cell("%nbflow run Final")

    assert sorted(_ran(capsys.readouterr().out)) == ["Final()", "Shaped()"]
    assert (tmp_path / "final.txt").read_text() == "Data!"


def test_comment_only_edit_of_a_cell_reruns_nothing(shell, capsys) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final")
    capsys.readouterr()

    shell.run_cell(CELL_B.replace("def shape(text):", "def shape(text):  # tidy"))
    shell.run_cell("%nbflow run Final")

    assert "nothing to do" in capsys.readouterr().out


def test_why_magic_says_what_changed(shell, capsys) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final")
    shell.run_cell(CELL_B.replace("text.upper()", "text.lower()"))
    capsys.readouterr()

    shell.run_cell("%nbflow why Final")
    out = capsys.readouterr().out

    assert "RUN   Shaped()  stale: code changed in shape" in out
    assert "RUN   Final()   stale: upstream Shaped() changed" in out
    assert "skip  Source()  up to date" in out
    assert "2 of 3 tasks would run." in out


def test_dry_run_and_force_through_the_magic(shell, tmp_path, capsys) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final --dry-run")
    assert "3 tasks would run (dry run" in capsys.readouterr().out
    assert not (tmp_path / "final.txt").exists()

    shell.run_cell("%nbflow run Final")
    capsys.readouterr()
    shell.run_cell("%nbflow run Final --force Shaped")

    assert sorted(_ran(capsys.readouterr().out)) == ["Final()", "Shaped()"]


def _sidecars(folder) -> set[str]:
    return {path.name for path in folder.glob(".*.nbflow.json")}


def test_accept_with_dry_run_through_the_magic_writes_nothing(
    shell, tmp_path, capsys
) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final")
    shell.run_cell(CELL_B.replace("text.upper()", "text.lower()"))
    before = _sidecars(tmp_path)
    capsys.readouterr()

    shell.run_cell("%nbflow run Final --accept Shaped --dry-run")
    out = capsys.readouterr().out

    assert _sidecars(tmp_path) == before
    assert "would accept  Shaped()" in out
    assert "would accept  Final()" in out
    assert "0 tasks would run (dry run" in out


def test_why_magic_shows_an_output_without_sidecar_as_unversioned(
    shell, tmp_path, capsys
) -> None:
    for cell in (CELL_A, CELL_B, CELL_C):
        shell.run_cell(cell)
    shell.run_cell("%nbflow run Final")
    for sidecar in tmp_path.glob(".final.txt.*.nbflow.json"):
        sidecar.unlink()
    capsys.readouterr()

    shell.run_cell("%nbflow why Final")
    out = capsys.readouterr().out

    assert "skip  Final()   unversioned" in out
    assert "--accept Final to adopt" in out
    assert "up to date" not in out
