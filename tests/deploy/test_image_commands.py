"""The image's commands run from the project's wheel, installed as the Dockerfile does.

No container runtime here: the Dockerfile's build stage is repeated on this machine
(the wheel of this checkout, built once a session by ``project_wheel``, installed with
the ``server`` and ``dask`` extras into a fresh virtual environment), then the image's
entry commands run from that environment, outside the checkout: ``nbflow server
--help``, ``nbflow worker --help``, ``nbflow server db upgrade``, and the image's
default command (on every interface, with a token from the environment, as in a
container) answering the HEALTHCHECK's command.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import venv
from typing import TYPE_CHECKING

import pytest

from tests.deploy.manifests import ROOT

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

TOKEN = "image-commands-token-0123456789"  # noqa: S105  (a test server's)


class Environment:
    """A fresh virtual environment holding the wheel; runs commands outside the checkout."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "venv" / "bin"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "NBFLOW_", "VIRTUAL_ENV"))
        }
        self.env["XDG_DATA_HOME"] = str(folder / "data")
        self.env["PATH"] = f"{self.bin}{os.pathsep}{self.env.get('PATH', '')}"

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=self.folder, env=self.env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def image(project_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    folder = tmp_path_factory.mktemp("image")
    venv.create(folder / "venv", with_pip=True)
    environment = Environment(folder)
    extras = _dockerfile_arg("EXTRAS")
    installed = subprocess.run(
        [str(environment.bin / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "--no-compile", f"{project_wheel}[{extras}]"],
        cwd=folder, env=environment.env, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    return environment


def _dockerfile_arg(name: str) -> str:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(rf"^ARG {name}=(\S+)$", text, flags=re.MULTILINE)
    assert match, name
    return match.group(1)


def _dockerfile_exec(keyword: str) -> list[str]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    match = re.search(rf"^{keyword} (?:.*? CMD )?(\[.*\])$", text, flags=re.MULTILINE)
    assert match, keyword
    found: list[str] = json.loads(match.group(1))
    return found


def test_image_nbflow_comes_from_the_wheel_not_the_checkout(image: Environment) -> None:
    shown = image.run("python", "-c", "import nbflow; print(nbflow.__file__)")

    assert shown.returncode == 0, shown.stderr
    assert str(image.folder / "venv") in shown.stdout
    assert str(ROOT) not in shown.stdout


@pytest.mark.parametrize("command", ["server", "worker"])
def test_image_entry_commands_answer_help(image: Environment, command: str) -> None:
    (entrypoint,) = _dockerfile_exec("ENTRYPOINT")

    shown = image.run(entrypoint, command, "--help")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: nbflow {command}")
    assert "--grace-period" in shown.stdout or "--token-file" in shown.stdout


def test_image_database_upgrade_runs(image: Environment) -> None:
    url = f"sqlite:///{image.folder / 'upgrade.db'}"

    done = image.run("nbflow", "server", "db", "upgrade", "--db", url)

    assert done.returncode == 0, done.stderr
    assert "the database is at revision" in done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_image_default_command_serves_and_passes_its_healthcheck(
    image: Environment,
) -> None:
    (entrypoint,) = _dockerfile_exec("ENTRYPOINT")
    command = _dockerfile_exec("CMD")
    port = str(_free_port())
    command[command.index("--port") + 1] = port  # 8082 may be taken on this machine
    env = dict(image.env, NBFLOW_TOKEN=TOKEN)
    url = f"http://127.0.0.1:{port}"
    with (image.folder / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [entrypoint, *command], cwd=image.folder, env=env, stdout=log, stderr=log
        )
    try:
        _wait_until_ready(url, server)
        check = _dockerfile_exec("HEALTHCHECK")
        healthy = subprocess.run(
            check, cwd=image.folder, timeout=60, check=False, capture_output=True,
            env=dict(env, NBFLOW_HEALTHCHECK_URL=f"{url}/healthz"),
        )  # fmt: skip
        unauthorised = _status(f"{url}/metrics")
        metrics = _status(f"{url}/metrics", token=TOKEN)
    finally:
        server.terminate()
        server.wait(60)

    assert healthy.returncode == 0, healthy.stderr
    assert unauthorised == 401  # bound beyond loopback: every read needs the token
    assert metrics == 200
    assert server.returncode == 0  # SIGTERM: a clean stop
    assert "listening on http://0.0.0.0:" in (image.folder / "server.log").read_text()


def _status(url: str, *, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    """Poll /readyz (as the Kubernetes readiness probe does) until it answers 200."""
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"the server ended ({server.returncode}) before it was ready")
        try:
            if _status(f"{url}/readyz") == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("gave up waiting for the server's /readyz")
        time.sleep(0.1)
