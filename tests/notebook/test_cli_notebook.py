from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.cli import main
from nbflow.cli.graph import GraphvizNotFoundError
from nbflow.cli.notebook import notebook_index

from .conftest import PIPELINE_CELLS

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

TASK_CELLS: list[Any] = [
    ("day: str\nupstream = None\nproduct = None", ["parameters"]),
    "from pathlib import Path\nPath(product['output']).write_text('partial')",
    "1 / 0",
]


def pipeline_with_notebook_task(notebook: str, params: str = "") -> list[Any]:
    """A pipeline notebook whose Clean task runs ``notebook``."""
    return [
        "import nbflow",
        f"""\
class Clean(nbflow.NotebookTask):
    notebook = {notebook!r}
    day = nbflow.Parameter(default="d1")
    {params}

    def output(self):
        return nbflow.LocalTarget(f"data/clean-{{self.day}}.txt")


class Ping(nbflow.NotebookTask):
    notebook = {notebook!r}

    def requires(self):
        return Pong()


class Pong(nbflow.NotebookTask):
    notebook = {notebook!r}

    def requires(self):
        return Ping()""",
    ]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["p.ipynb", "T"], 0),
        (["--workers", "2", "p.ipynb", "T"], 2),
        (["--workers=2", "p.ipynb"], 1),
        (["--module", "m", "T"], None),
        (["T", "--path", "x.ipynb"], None),
        ([], None),
    ],
)
def test_notebook_index_finds_the_notebook_before_the_task(
    argv: list[str], expected: int | None
) -> None:
    assert notebook_index(argv) == expected


def test_top_level_help_lists_the_notebook_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "--help")

    assert code == 0
    assert "export" in out
    assert "graph" in out


# --- run NOTEBOOK.ipynb -----------------------------------------------------------------


def test_run_pipeline_notebook_runs_its_definitions_only(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    code, out, err = run_cli(capsys, "run", "pipeline.ipynb", "Report", "--date", "d9")

    assert code == 0, err
    assert "2 ran successfully" in out
    assert (tmp_path / "out" / "report-d9.txt").read_text() == 2 * "0\n1\n4\n9\n16"
    assert "DONE" in err  # plain progress lines: stderr is not a terminal


def test_run_pipeline_notebook_task_help(
    write_notebook: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    code, out, _ = run_cli(capsys, "run", "pipeline.ipynb", "Report", "--help")

    assert code == 0
    assert "usage: nbflow run Report" in out


def test_run_missing_pipeline_notebook_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(capsys, "run", "missing.ipynb", "Report")

    assert code == 2
    assert "nbflow: error: notebook: notebook not found (got 'missing.ipynb')" in err


def test_run_pipeline_notebook_whose_cell_raises_exits_2(
    write_notebook: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_notebook("broken.ipynb", ["import nbflow", "X = undefined_name"])

    code, _, err = run_cli(capsys, "run", "broken.ipynb", "Report")

    assert code == 2
    assert "broken.ipynb cell 1, line 1: running the definition cell failed" in err
    assert "NameError" in err


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ("missing", "notebook not found (got 'tasks/task.ipynb')"),
        ("text", "not a notebook: the file is not valid JSON"),
        ("v3", "unsupported nbformat version (got nbformat 3)"),
        ("noparams", "the notebook has no cell tagged 'parameters'"),
        ("nokernel", "kernel not installed (got 'no-such-kernel'"),
        ("unknown", "parameter 'extra' is not in the notebook's parameters cell"),
    ],
)
def test_run_bad_notebook_task_input_exits_2_before_anything_runs(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    setup: str,
    fragment: str,
) -> None:
    params = 'extra = nbflow.Parameter(default="e")' if setup == "unknown" else ""
    write_notebook(
        "pipe.ipynb", pipeline_with_notebook_task("tasks/task.ipynb", params)
    )
    (tmp_path / "tasks").mkdir()
    if setup == "text":
        (tmp_path / "tasks" / "task.ipynb").write_text("<html>not a notebook</html>")
    elif setup == "v3":
        write_notebook("tasks/task.ipynb", TASK_CELLS, nbformat=3)
    elif setup == "noparams":
        write_notebook("tasks/task.ipynb", ["x = 1"])
    elif setup == "nokernel":
        write_notebook("tasks/task.ipynb", TASK_CELLS, kernel="no-such-kernel")
    elif setup == "unknown":
        write_notebook("tasks/task.ipynb", TASK_CELLS)

    code, out, err = run_cli(capsys, "run", "pipe.ipynb", "Clean")

    assert code == 2, err
    assert fragment in err
    assert "Fix:" in err
    assert out == ""  # no summary: nothing was scheduled
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "executed").exists()


def test_run_cycle_between_notebook_tasks_names_it_and_runs_nothing(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipe.ipynb", pipeline_with_notebook_task("tasks/task.ipynb"))
    write_notebook("tasks/task.ipynb", TASK_CELLS)

    code, out, err = run_cli(capsys, "run", "pipe.ipynb", "Ping")

    assert code == 1  # a scheduling error, as for cycles between any tasks
    assert "dependency cycle: Ping() -> Pong() -> Ping()" in out
    assert "FAILED  Ping(): dependency cycle" in err
    assert not (tmp_path / "executed").exists()


@pytest.mark.notebook
def test_run_failing_notebook_cell_exits_1_keeps_marked_notebook_and_no_product(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipe.ipynb", pipeline_with_notebook_task("tasks/task.ipynb"))
    write_notebook("tasks/task.ipynb", TASK_CELLS)

    code, out, err = run_cli(capsys, "run", "pipe.ipynb", "Clean")

    assert code == 1
    assert "1 failed" in out
    assert "cell 2 failed (got ZeroDivisionError: division by zero, in `1 / 0`)" in err
    assert not (tmp_path / "data" / "clean-d1.txt").exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == []  # no temporary left
    kept = list((tmp_path / "executed" / "Clean").iterdir())
    assert len(kept) == 1
    assert ".failed-" in kept[0].name
    assert f"The failed run is kept at executed/Clean/{kept[0].name}" in err
    notebook = json.loads(kept[0].read_text())
    assert notebook["metadata"]["nbflow"]["status"] == "failed"
    assert notebook["metadata"]["papermill"]["exception"] is True


# --- export -----------------------------------------------------------------------------


def test_export_command_writes_the_module(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    code, out, _ = run_cli(capsys, "export", "pipeline.ipynb", "-o", "exported.py")
    default_code, default_out, _ = run_cli(capsys, "export", "pipeline.ipynb")

    assert (code, default_code) == (0, 0)
    assert out.startswith("wrote exported.py: 5 definition cell(s) (inferred)")
    assert default_out.startswith("wrote pipeline.py:")
    code_of = [
        (tmp_path / n).read_text().split('"""')[2]
        for n in ("exported.py", "pipeline.py")
    ]
    assert code_of[0] == code_of[1]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "export needs one notebook"),
        (["a.py"], "export needs one notebook"),
        (["p.ipynb", "-o"], "-o needs a value"),
        (["p.ipynb", "--overwrite"], "unknown option (got '--overwrite')"),
    ],
)
def test_export_command_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, _, err = run_cli(capsys, "export", *argv)

    assert code == 2
    assert fragment in err


def test_export_command_help_documents_the_definition_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "export", "--help")

    assert code == 0
    assert "tagged `nbflow`" in out
    assert "UPPER_CASE" in out


def test_export_command_bad_notebook_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "bad.ipynb").write_text("nope")

    code, _, err = run_cli(capsys, "export", "bad.ipynb", "-o", "out.py")

    assert code == 2
    assert "not valid JSON" in err
    assert not (tmp_path / "out.py").exists()


# --- graph ------------------------------------------------------------------------------


def test_graph_json_lists_nodes_with_state_and_deps(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "raw-d1.txt").write_text("done")

    code, out, _ = run_cli(
        capsys, "graph", "pipeline.ipynb", "Report", "--date", "d1", "--format", "json"
    )

    assert code == 0
    graph = json.loads(out)
    nodes = {node["family"]: node for node in graph["nodes"]}
    assert graph["root"] == nodes["Report"]["id"]
    assert nodes["Report"]["params"] == {"date": "d1"}
    assert nodes["Report"]["deps"] == [nodes["Raw"]["id"]]
    assert (nodes["Report"]["state"], nodes["Raw"]["state"]) == ("pending", "complete")
    assert not (tmp_path / "out" / "report-d1.txt").exists()  # nothing ran


def test_graph_dot_from_a_module(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)
    main(["export", "pipeline.ipynb", "-o", "nbtest_graph_mod.py"])
    capsys.readouterr()

    code, out, _ = run_cli(
        capsys, "graph", "--module", "nbtest_graph_mod", "Report", "--date", "d1",
        "-o", "graph.dot",
    )  # fmt: skip

    assert code == 0
    assert out == "wrote graph.dot (2 tasks)\n"
    text = (tmp_path / "graph.dot").read_text()
    assert text.startswith("digraph nbflow {")
    assert '"Raw_d1_' in text
    assert 'label="Report(date=d1)"' in text


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="graphviz's dot is not installed"
)
@pytest.mark.parametrize(("name", "magic"), [("g.svg", b"<svg"), ("g.png", b"\x89PNG")])
def test_graph_svg_and_png_with_graphviz(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    magic: bytes,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    code, _, err = run_cli(
        capsys, "graph", "pipeline.ipynb", "Report", "--date", "d", "-o", name
    )

    assert code == 0, err
    assert magic in (tmp_path / name).read_bytes()[:300]


def test_graph_without_graphviz_says_how_to_get_it(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))

    code, _, err = run_cli(
        capsys, "graph", "pipeline.ipynb", "Report", "--date", "d", "--format", "svg"
    )

    assert code == 2
    assert str(GraphvizNotFoundError("svg")) in err
    assert "apt-get install graphviz" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (
            ["pipeline.ipynb", "Report", "--format", "gif"],
            "unknown graph format (got 'gif')",
        ),
        (["pipeline.ipynb", "Report", "-o"], "-o needs a value"),
        (["pipeline.ipynb", "Nope"], "unknown task 'Nope'"),
    ],
)
def test_graph_usage_errors_exit_2(
    write_notebook: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    fragment: str,
) -> None:
    write_notebook("pipeline.ipynb", PIPELINE_CELLS)

    code, _, err = run_cli(capsys, "graph", *argv)

    assert code == 2
    assert fragment in err


def test_graph_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "graph", "--help")

    assert code == 0
    assert "usage: nbflow graph" in out
