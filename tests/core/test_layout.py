"""Graph layout: graphviz `dot` when present, the pure-Python layered layout otherwise."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from nbflow.core import layout
from nbflow.core.dot import DotNode
from nbflow.core.layout import (
    group_by_family,
    lay_out,
    layered_svg,
    rank_nodes,
    share_widths,
)

if TYPE_CHECKING:
    from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
NODES = [
    DotNode("a", "A()", "DONE", ()),
    DotNode("b", 'B(x=<script>alert("1")</script>)', "RUNNING", ("a",)),
    DotNode("c", "C()", "complete", ("a",)),
    DotNode("d", "D()", "PENDING", ("b", "c")),
]


def drawn_nodes(svg: str) -> dict[str, str]:
    """Return node id -> state class of every node in an SVG drawing."""
    root = ET.fromstring(svg)  # noqa: S314  (our own drawing)
    found = {}
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if classes[:1] == ["node"]:
            found[group.find(f"{SVG}title").text] = classes[1]
    return found


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `dot` missing: a PATH without graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path))


def test_lay_out_uses_dot_and_keeps_a_class_per_state() -> None:
    made = lay_out(NODES)

    assert made.engine == "dot"
    assert drawn_nodes(made.svg) == {
        "a": "DONE",
        "b": "RUNNING",
        "c": "complete",
        "d": "PENDING",
    }
    assert made.node_of == {"a": "a", "b": "b", "c": "c", "d": "d"}
    assert "<script>" not in made.svg
    assert "<?xml" not in made.svg


@pytest.mark.usefixtures("no_dot")
def test_lay_out_without_dot_falls_back_to_the_layered_layout() -> None:
    made = lay_out(NODES)

    assert made.engine == "fallback"
    assert drawn_nodes(made.svg) == {
        "a": "DONE",
        "b": "RUNNING",
        "c": "complete",
        "d": "PENDING",
    }
    assert made.svg.count('class="edge"') == 4
    assert "&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;" in made.svg


def test_lay_out_when_dot_fails_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'dot: out of memory' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    made = lay_out(NODES)

    assert made.engine == "fallback"
    assert len(drawn_nodes(made.svg)) == 4


def test_layered_layout_places_dependencies_left_of_dependents() -> None:
    svg = layered_svg(NODES)

    root = ET.fromstring(svg)  # noqa: S314
    x = {
        group.find(f"{SVG}title").text: float(group.find(f"{SVG}rect").get("x"))
        for group in root.iter(f"{SVG}g")
        if group.get("class", "").startswith("node")
    }
    assert x["a"] < x["b"] == x["c"] < x["d"]


def test_rank_nodes_ignores_unknown_dependencies() -> None:
    ranks = rank_nodes([DotNode("a", "A", "DONE", ("elsewhere",))])

    assert ranks == {"a": 0}


def test_lay_out_groups_by_family_above_the_threshold() -> None:
    nodes = [DotNode(f"A_{i}", f"A(i={i})", "DONE", ()) for i in range(5)]
    nodes += [
        DotNode(f"B_{i}", f"B(i={i})", "FAILED" if i == 0 else "DONE", (f"A_{i}",))
        for i in range(5)
    ]

    made = lay_out(nodes, group_above=4)

    assert drawn_nodes(made.svg) == {"family:A": "DONE", "family:B": "FAILED"}
    assert made.node_of["B_3"] == "family:B"
    assert "A \N{MULTIPLICATION SIGN}5" in made.svg


def test_group_by_family_uses_given_families_and_drops_self_edges() -> None:
    nodes = [
        DotNode("x1", "odd label", "DONE", ()),
        DotNode("x2", "other", "DONE", ("x1",)),
    ]

    grouped, node_of = group_by_family(nodes, {"x1": "X", "x2": "X"})

    assert grouped == [DotNode("family:X", "X \N{MULTIPLICATION SIGN}2", "DONE", ())]
    assert node_of == {"x1": "family:X", "x2": "family:X"}


def test_lay_out_cuts_long_labels() -> None:
    made = lay_out([DotNode("a", "A(" + "x" * 200 + ")", "DONE", ())])

    assert "x" * 200 not in made.svg
    assert "…" in made.svg


def test_large_group_graph_skips_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "dot_svg", lambda nodes: pytest.fail("dot called"))
    nodes = [DotNode(f"F{i}_1", f"F{i}()", "DONE", ()) for i in range(12)]

    made = lay_out(nodes, group_above=5)

    assert made.engine == "fallback"
    assert len(drawn_nodes(made.svg)) == 12


def test_lay_out_elides_the_family_not_the_parameters() -> None:
    label = "DownloadDailySalesExportFromTheWarehouse" * 2 + "(day=2024-06-03)"

    made = lay_out([DotNode("a", label, "RUNNING", ())])

    assert "…" in made.svg
    assert ">DownloadDaily" not in made.svg
    assert "(day=2024&#45;06&#45;03)</text>" in made.svg


@pytest.mark.parametrize("engine", ["dot", "fallback"])
def test_lay_out_draws_a_group_neutral_with_the_share_of_each_state(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "fallback":
        monkeypatch.setenv("PATH", str(tmp_path))
    nodes = [
        DotNode(f"Leaf_{i}", f"Leaf(i={i})", "FAILED" if i == 7 else "DONE", ())
        for i in range(2000)
    ]

    made = lay_out(nodes, group_above=100)

    assert made.engine == engine
    assert made.shares == {"family:Leaf": {"DONE": 1999, "FAILED": 1}}
    root = ET.fromstring(made.svg)  # noqa: S314  (our own drawing)
    group = next(
        g for g in root.iter(f"{SVG}g") if "nbflow-group" in g.get("class", "")
    )
    shape = next(child for child in group if child.tag in {f"{SVG}path", f"{SVG}rect"})
    assert shape.get("fill") == "#ffffff"  # not painted red by one failure
    bar = {
        rect.get("class"): float(rect.get("width"))
        for rect in group.iter(f"{SVG}rect")
        if "nbflow-share" in rect.get("class", "")
    }
    assert set(bar) == {"nbflow-share DONE", "nbflow-share FAILED"}
    assert bar["nbflow-share FAILED"] == 3.0


def test_share_widths_keep_every_state_visible_and_the_bar_its_length() -> None:
    widths = share_widths({"DONE": 5, "FAILED": 0, "RUNNING": 1, "PENDING": 994}, 60.0)

    assert [state for state, _ in widths] == ["DONE", "RUNNING", "PENDING"]
    assert all(width >= 3.0 for _, width in widths)
    assert sum(width for _, width in widths) == pytest.approx(60.0)
