from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from nbflow.cli import main
from nbflow.core.registry import REGISTRY
from nbflow.notebook.export import export_notebook
from nbflow.notebook.params import NotebookFormatError, NotebookNotFoundError

from .conftest import PIPELINE_CELLS

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def test_export_writes_definitions_without_magics_or_exploration(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    result = export_notebook(path, tmp_path / "pipeline_mod.py")

    text = (tmp_path / "pipeline_mod.py").read_text()
    assert text.startswith(
        '"""Pipeline definitions exported from pipeline.ipynb by `nbflow'
    )
    assert "Definition cells (inferred, as no cell is tagged 'nbflow': imports," in text
    assert "  cell 4: exploration (line 1: an expression)" in text
    for marker in ("# %% [cell 1]", "# %% [cell 3]", "# %% [cell 6]"):
        assert marker in text
    for absent in (
        "%env",
        "%nbflow",
        "PIPELINE_LOADED",
        "%%bash",
        "Raw(date=date)",
    ):
        assert absent not in text
    assert result.summary == (
        f"wrote {tmp_path / 'pipeline_mod.py'}: 5 definition cell(s) (inferred), "
        "4 code cell(s) skipped"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_exported_module_imports_in_a_fresh_interpreter(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    export_notebook(
        write_notebook("pipeline.ipynb", PIPELINE_CELLS), tmp_path / "mod_a.py"
    )

    done = subprocess.run(
        [sys.executable, "-c", "import mod_a; print(mod_a.Report.__name__)"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Report"


def test_export_round_trip_gives_byte_identical_outputs(
    write_notebook: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notebook = write_notebook("pipeline.ipynb", PIPELINE_CELLS)
    (tmp_path / "from_notebook").mkdir()
    (tmp_path / "from_module").mkdir()

    monkeypatch.chdir(tmp_path / "from_notebook")
    ran = main(
        ["run", "--no-progress", str(notebook), "Report", "--date", "2024-06-02"]
    )
    REGISTRY.clear()
    exported = main(["export", str(notebook), "-o", str(tmp_path / "roundtrip_mod.py")])
    monkeypatch.chdir(tmp_path / "from_module")
    ran_module = main(["run", "--no-progress", "--module", "roundtrip_mod", "Report",
                       "--date", "2024-06-02"])  # fmt: skip

    assert (ran, exported, ran_module) == (0, 0, 0), capsys.readouterr()
    left = sorted((tmp_path / "from_notebook" / "out").iterdir())
    right = sorted((tmp_path / "from_module" / "out").iterdir())
    assert [p.name for p in left] == ["raw-2024-06-02.txt", "report-2024-06-02.txt"]
    assert [p.name for p in right] == [p.name for p in left]
    for one, other in zip(left, right):
        assert one.read_bytes() == other.read_bytes()


def test_export_failure_leaves_the_old_module_whole(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    target = tmp_path / "kept.py"
    target.write_text("OLD = 1\n")
    cells = [("X = 1", ["nbflow"]), ("from __future__ import annotations", ["nbflow"])]

    with pytest.raises(NotebookFormatError) as caught:
        export_notebook(write_notebook("late_future.ipynb", cells), target, force=True)

    assert "the exported definitions do not compile as one module" in str(caught.value)
    assert "Fix: move `from __future__` imports into the first definition cell" in str(
        caught.value
    )
    assert target.read_text() == "OLD = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".py") == [
        "kept.py"
    ]


def test_export_missing_notebook(tmp_path: Path) -> None:
    with pytest.raises(NotebookNotFoundError):
        export_notebook(tmp_path / "none.ipynb", tmp_path / "x.py")

    assert not (tmp_path / "x.py").exists()


# --- an existing file is never overwritten without --force --------------------------


def test_export_refuses_to_overwrite_a_hand_written_module(
    write_notebook: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notebook = write_notebook("nb.ipynb", PIPELINE_CELLS)
    (tmp_path / "nb.py").write_text("HAND_WRITTEN = True\n")

    code = main(["export", str(notebook)])

    err = capsys.readouterr().err
    assert code == 2
    assert f"(got {str(tmp_path / 'nb.py')!r})" in err
    assert "already exists and would be overwritten" in err
    assert "Fix: add --force to replace it" in err
    assert (tmp_path / "nb.py").read_text() == "HAND_WRITTEN = True\n"


def test_export_force_replaces_an_existing_module(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    notebook = write_notebook("nb.ipynb", PIPELINE_CELLS)
    (tmp_path / "nb.py").write_text("OLD = 1\n")

    code = main(["export", str(notebook), "--force"])

    text = (tmp_path / "nb.py").read_text()
    assert code == 0
    assert text.startswith('"""Pipeline definitions exported from nb.ipynb')
    assert "(nbflow export nb.ipynb -o nb.py --force)" in text


def test_export_help_documents_force(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--help"])

    out = capsys.readouterr().out
    assert code == 0
    assert "[--force]" in out
    assert "--force                 replace MODULE.py if it exists" in out


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        (".", "-o names a folder (got '.')"),
        ("missing/sub/nb.py", "the folder of the module file does not exist"),
    ],
)
def test_export_to_a_folder_or_a_missing_folder_is_a_usage_error(
    write_notebook: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    output: str,
    problem: str,
) -> None:
    notebook = write_notebook("nb.ipynb", PIPELINE_CELLS)

    code = main(["export", str(notebook), "-o", output])

    err = capsys.readouterr().err
    assert code == 2
    assert problem in err
    assert "Fix: " in err
    assert "nbflow-tmp" not in err
    assert not (tmp_path / "missing").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
