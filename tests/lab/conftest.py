"""A real ``jupyter server`` with nbflow's extension, and a real kernel it started.

The server runs on a free port of 127.0.0.1 with a random token, a temporary root
directory and a temporary runtime directory (``JUPYTER_RUNTIME_DIR``, where kernels
write their run boards); the extension is enabled by the checkout's own
``jupyter-config`` (``JUPYTER_CONFIG_PATH``), as the installed wheel enables it. A
notebook session (``work/pipeline.ipynb``) gives a kernel with ``%load_ext nbflow``,
driven over its connection file with jupyter_client. The server is stopped by its PID.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.lab.lab_server import (
    REPOSITORY,
    Jupyter,
    Kernel,
    free_port,
    open_kernel,
    wait_ready,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jupyter]:
    """Start ``jupyter server`` with nbflow's extension for the session."""
    base = tmp_path_factory.mktemp("lab-server")
    root, runtime = base / "root", base / "runtime"
    (root / "work").mkdir(parents=True)
    runtime.mkdir()
    server = Jupyter(free_port(), secrets.token_hex(16), root, runtime, base / "log")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NBFLOW_DISPLAY", "NBFLOW_SERVER_URL", "NBFLOW_TOKEN")
    }
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    env["JUPYTER_CONFIG_PATH"] = str(REPOSITORY / "jupyter-config")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH", "")])
    )
    command = [
        sys.executable, "-m", "jupyter", "server",
        "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={server.port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={server.token}",
        f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env
        )
    try:
        wait_ready(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def kernel(jupyter: Jupyter) -> Iterator[Kernel]:
    """A kernel of ``work/pipeline.ipynb``, started by the server, nbflow loaded."""
    with open_kernel(jupyter, "work/pipeline.ipynb") as live:
        yield live
