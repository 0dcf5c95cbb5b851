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
import queue
import secrets
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from tests.lab.lab_server import (
    REPOSITORY,
    Jupyter,
    Kernel,
    free_port,
    wait_for,
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
    reply = jupyter.request(
        "POST",
        "/api/sessions",
        {
            "path": "work/pipeline.ipynb",
            "type": "notebook",
            "kernel": {"name": "python3"},
        },
    )
    assert reply.status == 201, reply.body
    kernel_id = reply.json()["kernel"]["id"]
    connection = jupyter.runtime / f"kernel-{kernel_id}.json"
    wait_for("the kernel's connection file", connection.exists)
    client = BlockingKernelClient()
    client.load_connection_file(str(connection))
    client.start_channels()
    try:
        wait_for("the kernel to answer", lambda: _answers(client))
        live = Kernel(kernel_id, client, jupyter.runtime / "nbflow" / connection.name)
        setup = live.execute("%load_ext nbflow\nimport nbflow, os, pathlib, time")
        assert setup["status"] == "ok", setup
        yield live
    finally:
        client.stop_channels()


def _answers(client: BlockingKernelClient) -> bool:
    """Ask for the kernel's info; return whether it answered within 2 s.

    (``wait_for_ready`` takes a heartbeat not yet beating for a dead kernel.)
    """
    asked = client.kernel_info()
    try:
        while True:
            reply = client.get_shell_msg(timeout=2)
            if reply["parent_header"].get("msg_id") == asked:
                return True
    except queue.Empty:
        return False
