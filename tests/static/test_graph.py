"""nbflow/static: the graph renderer shared by the widget and the visualiser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nbflow.widgets.dag import DagWidget, bundle_css, bundle_esm, colour_css

STATIC = Path(__file__).resolve().parents[2] / "nbflow" / "static"


def test_graph_css_holds_the_state_colours_of_nbflow_core_dot() -> None:
    css = (STATIC / "graph.css").read_text(encoding="utf-8")

    assert colour_css() in css


def test_widget_bundle_is_the_renderer_then_the_glue_without_its_import() -> None:
    esm = bundle_esm()

    assert esm.startswith((STATIC / "graph.js").read_text(encoding="utf-8"))
    assert 'from "../../static/graph.js"' not in esm
    assert "export default { render }" in esm
    assert DagWidget._esm == esm
    assert bundle_css().startswith((STATIC / "graph.css").read_text(encoding="utf-8"))


def test_widget_bundle_parses_as_an_es_module(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    bundle = tmp_path / "bundle.mjs"
    bundle.write_text(bundle_esm(), encoding="utf-8")

    checked = subprocess.run(
        [node, "--check", str(bundle)], capture_output=True, text=True, check=False
    )

    assert checked.returncode == 0, checked.stderr
