"""Suite-wide test settings."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from nbflow.core.logging_setup import DaemonLogging, InterfaceLogging

if TYPE_CHECKING:
    from collections.abc import Iterator

# CI machines are small and shared: judge properties, not the speed of data generation.
settings.register_profile(
    "nbflow", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("nbflow")


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """Undo a command-line run's logging set-up (once per process) after each test."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    flags = InterfaceLogging._configured, DaemonLogging._configured
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    root.setLevel(level)
    InterfaceLogging._configured, DaemonLogging._configured = flags


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep nbflow's per-user data (the server's token file, its default database)
    out of the real home folder: a token left there by a local server must not
    leak into tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build this checkout's wheel once per session (the build runs jlpm: 1-2 min)."""
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(Path(__file__).resolve().parents[1])],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("nbflow-*.whl")
    return wheel
