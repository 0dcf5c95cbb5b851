"""nbflow graph: the whole graph by default, --stop-at-complete for a run's short walk."""

from __future__ import annotations

import json
import sys

import pytest

from nbflow.cli import main

PIPELINE = """
import nbflow

OUT = {out!r}


class GraphCliRaw(nbflow.Task):
    def output(self):
        return nbflow.LocalTarget(OUT + "/raw.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("raw")


class GraphCliClean(nbflow.Task):
    def requires(self):
        return GraphCliRaw()

    def output(self):
        return nbflow.LocalTarget(OUT + "/clean.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("clean")


class GraphCliReport(nbflow.Task):
    def requires(self):
        return GraphCliClean()

    def output(self):
        return nbflow.LocalTarget(OUT + "/report.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write("report")
"""


@pytest.fixture
def pipeline(tmp_path, monkeypatch, request):
    name = f"graph_pipeline_{request.node.name}"
    (tmp_path / f"{name}.py").write_text(PIPELINE.format(out=str(tmp_path)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path, name
    sys.modules.pop(name, None)


def _graph(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["graph", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def _complete_run(capsys, name: str) -> None:
    assert main(["run", "--module", name, "GraphCliReport", "--no-progress"]) == 0
    capsys.readouterr()


def test_graph_of_a_complete_root_draws_every_task_complete(pipeline, capsys) -> None:
    _, name = pipeline
    _complete_run(capsys, name)

    code, graph = _graph(capsys, "--module", name, "GraphCliReport")

    assert code == 0
    nodes = {node["family"]: node for node in graph["nodes"]}
    assert set(nodes) == {"GraphCliReport", "GraphCliClean", "GraphCliRaw"}
    assert {node["state"] for node in nodes.values()} == {"complete"}
    assert nodes["GraphCliReport"]["deps"] == [nodes["GraphCliClean"]["id"]]
    assert nodes["GraphCliClean"]["deps"] == [nodes["GraphCliRaw"]["id"]]
    assert all(node["needed"] for node in nodes.values())


def test_graph_stop_at_complete_draws_only_the_complete_root(pipeline, capsys) -> None:
    _, name = pipeline
    _complete_run(capsys, name)

    code, graph = _graph(
        capsys, "--module", name, "GraphCliReport", "--stop-at-complete"
    )

    assert code == 0
    assert [(n["family"], n["state"], n["deps"]) for n in graph["nodes"]] == [
        ("GraphCliReport", "complete", [])
    ]


def test_graph_task_only_complete_tasks_need_is_not_needed(pipeline, capsys) -> None:
    folder, name = pipeline
    _complete_run(capsys, name)
    (folder / "clean.txt").unlink()

    code, graph = _graph(capsys, "--module", name, "GraphCliReport")

    assert code == 0
    nodes = {node["family"]: node for node in graph["nodes"]}
    assert (nodes["GraphCliClean"]["state"], nodes["GraphCliClean"]["needed"]) == (
        "pending",
        False,
    )
    assert nodes["GraphCliRaw"]["state"] == "complete"


def test_graph_dot_of_a_complete_root_has_every_edge(pipeline, capsys) -> None:
    _, name = pipeline
    _complete_run(capsys, name)

    code = main(["graph", "--module", name, "GraphCliReport"])

    text = capsys.readouterr().out
    assert code == 0
    assert text.count('class="complete"') == 3
    assert text.count(" -> ") == 2


def test_graph_help_documents_stop_at_complete(capsys) -> None:
    assert main(["graph", "--help"]) == 0

    out = capsys.readouterr().out
    assert "--stop-at-complete" in out
    assert "do not expand complete tasks" in out
