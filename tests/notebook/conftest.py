from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.core.config import reset_settings_cache
from nbflow.core.registry import REGISTRY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook_json(
    cells: list[str | tuple[str, list[str]] | tuple[str, list[str], str]],
    *,
    kernel: str = "python3",
    nbformat: int = 4,
) -> dict[str, Any]:
    """Build an nbformat-4 notebook: each cell is source, (source, tags) or with type."""
    built = []
    for number, cell in enumerate(cells):
        source, tags, kind = (
            (cell, [], "code") if isinstance(cell, str) else (*cell, "code")[:3]
        )
        entry: dict[str, Any] = {
            "cell_type": kind,
            "id": f"cell-{number}",
            "metadata": {"tags": tags},
            "source": source,
        }
        if kind == "code":
            entry.update(execution_count=None, outputs=[])
        built.append(entry)
    spec = dict(KERNELSPEC, name=kernel)
    return {
        "cells": built,
        "metadata": {"kernelspec": spec, "language_info": {"name": "python"}},
        "nbformat": nbformat,
        "nbformat_minor": 5,
    }


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, cells: list[Any], **options: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook_json(cells, **options), indent=1), "utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in tmp_path with an empty registry; other tests' classes come back after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("LUIGI_CONFIG_PATH", "NBFLOW_CONFIG_PATH", "NBFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("JPY_SESSION_NAME", "JUPYTER_SERVER_URL", "NBFLOW_JUPYTER_URL"):
        monkeypatch.delenv(name, raising=False)
    saved = {family: dict(classes) for family, classes in REGISTRY._by_family.items()}
    namespaces = dict(REGISTRY._namespaces)
    REGISTRY.clear()
    modules = set(sys.modules)
    reset_settings_cache()
    yield
    reset_settings_cache()
    REGISTRY.clear()
    REGISTRY._by_family.update(saved)
    REGISTRY._namespaces.update(namespaces)
    for name in set(sys.modules) - modules:
        if name.startswith(("notebook_", "nbtest_")):
            del sys.modules[name]


#: A pipeline notebook: definitions mixed with exploration, magics and a parameters cell.
PIPELINE_CELLS: list[Any] = [
    ("# A pipeline\nMarkdown is ignored.", [], "markdown"),
    "import nbflow\nfrom pathlib import Path",
    ('date = "2024-06-01"', ["parameters"]),
    '''\
DATA = Path("out")


class Raw(nbflow.Task):
    """Make a day's raw numbers."""

    date = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(str(DATA / f"raw-{self.date}.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("\\n".join(str(n * n) for n in range(5)))''',
    "Raw(date=date).output().path  # exploration: shows a path",
    "%env PIPELINE_DEMO=1\ndef double(text):\n    return text + text",
    '''\
class Report(nbflow.Task):
    """Report on a day."""

    date = nbflow.Parameter()

    def requires(self):
        return Raw(date=self.date)

    def output(self):
        return nbflow.LocalTarget(str(DATA / f"report-{self.date}.txt"))

    def run(self):
        with self.input().open() as raw, self.output().open("w") as out:
            out.write(double(raw.read()))''',
    "%nbflow run Report --date {date}",
    "import os\nos.environ['PIPELINE_LOADED'] = '1'",
    "%%bash\necho hi",
]
