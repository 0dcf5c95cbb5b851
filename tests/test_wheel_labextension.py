"""The wheel ships the JupyterLab extension prebuilt (hatch-jupyter-builder, shared-data).

Builds a wheel of this checkout with ``pip wheel --no-deps`` into a temporary directory
(the session fixture ``project_wheel`` in tests/conftest.py, shared with tests/deploy;
the build hook runs ``jlpm`` in ``labextension/`` unless the bundle in
``nbflow/labextension`` is newer than every file there) and lists what it holds.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from fnmatch import fnmatch
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

LABEXTENSION = "share/jupyter/labextensions/@nbflow/labextension"


@pytest.fixture(scope="module")
def wheel_names(project_wheel: Path) -> list[str]:
    """Return the names of the files the wheel (built once a session) holds."""
    wheel = project_wheel
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        data = next(
            name for name in names if name.endswith(f"{LABEXTENSION}/package.json")
        )
        package = json.loads(archive.read(data))
    assert package["name"] == "@nbflow/labextension"
    assert package["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    return names


def _shipped(names: list[str]) -> list[str]:
    """The labextension's files, relative to its directory."""
    marker = f".data/data/{LABEXTENSION}/"
    return sorted(name.split(marker, 1)[1] for name in names if marker in name)


def test_wheel_labextension_ships_the_prebuilt_assets(wheel_names: list[str]) -> None:
    shipped = _shipped(wheel_names)

    assert "package.json" in shipped
    assert any(fnmatch(name, "static/remoteEntry.*.js") for name in shipped), shipped
    assert "static/style.js" in shipped
    assert "schemas/@nbflow/labextension/plugin.json" in shipped
    # the shared renderer is bundled, not fetched at run time
    assert sum(fnmatch(name, "static/*.js") for name in shipped) >= 3


def test_wheel_labextension_ships_it_once(wheel_names: list[str]) -> None:
    inside_package = [
        name for name in wheel_names if name.startswith("nbflow/labextension/")
    ]

    assert inside_package == []


def test_wheel_labextension_is_enabled_in_this_environment() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)  # no colours

    assert re.search(r"@nbflow/labextension v\S+ enabled OK", text), text
