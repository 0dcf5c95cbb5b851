"""%nbflow graph: the whole graph after a run, --stop-at-complete for the short walk."""

from __future__ import annotations

import pytest

from nbflow.kernel.display import widget_classes

pytestmark = pytest.mark.kernel

TASKS = """
class GraphMagicRaw(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, "raw.txt"))
    def run(self):
        with self.output().open("w") as out:
            out.write(str(SCALE))

class GraphMagicClean(nbflow.Task):
    def requires(self):
        return GraphMagicRaw()
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, "clean.txt"))
    def run(self):
        with self.output().open("w") as out:
            out.write("clean")

class GraphMagicReport(nbflow.Task):
    def requires(self):
        return GraphMagicClean()
    def output(self):
        return nbflow.LocalTarget(os.path.join(workdir, "report.txt"))
    def run(self):
        with self.output().open("w") as out:
            out.write("report")
"""


@pytest.fixture
def complete_pipeline(shell, capsys):
    shell.run_cell("SCALE = 1")
    shell.run_cell(TASKS)
    shell.run_cell("%nbflow run GraphMagicReport")
    capsys.readouterr()
    return shell


def test_graph_magic_complete_root_draws_every_task(complete_pipeline, capsys) -> None:
    complete_pipeline.run_cell("%nbflow graph GraphMagicReport")

    out = capsys.readouterr().out
    assert "nbflow graph: 3 tasks, 3 complete, 0 to run" in out
    assert "complete    GraphMagicReport()" in out
    assert "complete      GraphMagicClean()" in out
    assert "complete        GraphMagicRaw()" in out


def test_graph_magic_stop_at_complete_draws_only_the_root(
    complete_pipeline, capsys
) -> None:
    complete_pipeline.run_cell("%nbflow graph GraphMagicReport --stop-at-complete")

    out = capsys.readouterr().out
    assert "nbflow graph: 1 tasks, 1 complete, 0 to run" in out
    assert "GraphMagicClean" not in out


def test_graph_magic_dot_has_every_node_and_edge(complete_pipeline, capsys) -> None:
    complete_pipeline.run_cell("%nbflow graph GraphMagicReport --dot")

    out = capsys.readouterr().out
    assert out.count('class="complete"') == 3
    assert out.count(" -> ") == 2


def test_graph_magic_dot_with_stop_at_complete_has_no_dangling_edge(
    complete_pipeline, capsys
) -> None:
    complete_pipeline.run_cell(
        "%nbflow graph GraphMagicReport --dot --stop-at-complete"
    )

    out = capsys.readouterr().out
    assert out.count('class="complete"') == 1
    assert " -> " not in out


def test_graph_magic_shows_stale_after_a_code_change(complete_pipeline, capsys) -> None:
    complete_pipeline.run_cell("SCALE = 2")  # GraphMagicRaw.run reads it

    complete_pipeline.run_cell("%nbflow graph GraphMagicReport")

    out = capsys.readouterr().out
    assert "stale       GraphMagicReport()" in out
    assert "stale           GraphMagicRaw()" in out


def test_graph_magic_task_only_complete_tasks_need_is_not_needed(
    complete_pipeline, tmp_path, capsys
) -> None:
    (tmp_path / "clean.txt").unlink()

    complete_pipeline.run_cell("%nbflow graph GraphMagicReport")

    out = capsys.readouterr().out
    assert "3 tasks, 2 complete, 0 to run, 1 not needed" in out
    assert "not needed    GraphMagicClean()" in out


def test_graph_magic_widget_view_has_every_task(complete_pipeline) -> None:
    classes = widget_classes()
    assert classes is not None
    complete_pipeline.run_cell(
        "graph = nbflow.kernel.current_session().graph("
        "GraphMagicReport(), display='widgets')"
    )
    graph = complete_pipeline.user_ns["graph"]

    view = classes[1](graph.nodes)

    assert sorted(view.states.values()) == ["complete"] * 3


def test_graph_magic_help_documents_stop_at_complete(shell, capsys) -> None:
    shell.run_cell("%nbflow graph --help")

    out = capsys.readouterr().out
    assert "--stop-at-complete" in out
