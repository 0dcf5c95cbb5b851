"""Fixtures for browser tests: real JupyterLab and Notebook 7 servers, Debian's chromium.

Each server runs on a free port of 127.0.0.1 with a random token and a temporary root
directory; it is stopped by its PID at the end of the session. Chromium is driven by
Playwright's sync API (never ``playwright install``: the system browser is used).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--headless",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: The checkout under test.
REPOSITORY = Path(__file__).resolve().parents[2]
#: Screenshots and logs a person can look at (git-ignored).
ARTIFACTS = REPOSITORY / "test-artifacts"


@dataclass(frozen=True)
class Server:
    """A running Jupyter server (JupyterLab or Notebook 7): URL, token, root, log."""

    url: str
    token: str
    root: Path
    log: Path

    def page_url(self, path: str) -> str:
        """Return the URL of ``path`` (e.g. ``lab/tree/x.ipynb``) with the token."""
        return f"{self.url}/{path}?token={self.token}"


#: The JupyterLab server of the ``lab`` fixture (kept as a name for the Lab test).
Lab = Server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(lab: Server, process: subprocess.Popen[bytes], timeout: float) -> None:
    request = urllib.request.Request(  # noqa: S310  (http on 127.0.0.1)
        f"{lab.url}/api/status", headers={"Authorization": f"token {lab.token}"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the jupyter server exited early:\n{lab.log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    pytest.fail(
        f"the jupyter server did not answer in {timeout} s:\n{lab.log.read_text()[-3000:]}"
    )


@contextmanager
def _serve(
    app: str, base: Path, app_options: list[str], settings_option: str
) -> Iterator[Server]:
    """Run ``jupyter <app>`` on a free port of 127.0.0.1 with a random token.

    ``app_options`` are the app's own options; ``settings_option`` names the trait
    holding the user settings directory. The server is stopped by its PID on exit.
    """
    if shutil.which("jupyter") is None:
        pytest.skip("jupyter is not installed")
    root = base / "root"
    root.mkdir()
    # no "get notified about Jupyter news?" toast over the screenshots (and no fetching)
    news = base / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = _free_port(), secrets.token_hex(16)
    server = Server(f"http://127.0.0.1:{port}", token, root, base / f"{app}.log")
    command = [
        sys.executable, "-m", "jupyter", app,
        "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{settings_option}={base / 'settings'}",
        *app_options,
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "NBFLOW_DISPLAY"}
    # the kernels import nbflow from this checkout, however nbflow is installed
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH", "")])
    )
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env
        )
    try:
        _wait_ready(server, process, timeout=60)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start JupyterLab for the session; stop it by its PID afterwards."""
    base = tmp_path_factory.mktemp("lab")
    options = [
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with _serve("lab", base, options, "LabApp.user_settings_dir") as server:
        yield server


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start Notebook 7 (``jupyter notebook``) for the session; stop it afterwards."""
    pytest.importorskip("notebook", minversion="7")
    base = tmp_path_factory.mktemp("notebook7")
    options = [
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--JupyterNotebookApp.workspaces_dir={base / 'workspaces'}",
    ]
    settings = "JupyterNotebookApp.user_settings_dir"
    with _serve("notebook", base, options, settings) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The directory for screenshots (created on demand; git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
