"""``nbflow server`` as a real process: start, print, serve, stop; refusals and exit codes."""

# ruff: noqa: S310  (urlopen of the server's own http:// URL)

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING

import pytest

from tests.server.test_store import NEXT, migrations_with_next

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.server

#: Runs `nbflow` with the server's migrations taken from $NBFLOW_TEST_MIGRATIONS, so a
#: test can play "this nbflow expects a newer schema than the database has".
LAUNCHER = """
import os, sys
from pathlib import Path
folder = os.environ.get("NBFLOW_TEST_MIGRATIONS")
if folder:
    from nbflow.server import store
    store.Store.open.__func__.__kwdefaults__ = {"migrations": Path(folder)}
    store.upgrade.__kwdefaults__ = {"migrations": Path(folder)}
from nbflow.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NBFLOW_TOKEN"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _nbflow(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path, **env),
        check=False,
    )


class Running:
    def __init__(self, tmp_path: Path, *args: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "server", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(tmp_path, **env),
        )
        assert self.process.stdout is not None
        self.lines = [self.process.stdout.readline()]
        if "listening on" not in self.lines[0]:
            self.process.kill()
            raise AssertionError(self.lines[0] + self.process.stderr.read())  # type: ignore[union-attr]
        self.url = self.lines[0].split("listening on ", 1)[1].strip()

    def read_line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.lines.append(line)
        return line

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process.stdout.close()  # type: ignore[union-attr]
        self.process.stderr.close()  # type: ignore[union-attr]
        return code


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    server = Running(tmp_path, "--db", f"sqlite:///{tmp_path / 'cli.db'}")
    yield server
    if server.process.poll() is None:
        server.stop()


def test_server_cli_starts_prints_url_and_token_and_stops_cleanly(
    running: Running, tmp_path: Path
) -> None:
    token_line = running.read_line()
    file_line = running.read_line()
    token = token_line.split("token ", 1)[1].strip()
    token_file = tmp_path / "data" / "nbflow" / "server-token"

    with urllib.request.urlopen(running.url + "healthz", timeout=30) as reply:
        health = json.loads(reply.read())
    request = urllib.request.Request(
        running.url + "api/v1/scheduler/pause",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        paused = json.loads(reply.read())
    code = running.stop()

    assert running.url.startswith("http://127.0.0.1:")
    assert health == {"status": "ok"}
    assert paused["paused"] is True
    assert str(token_file) in file_line
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert code == 0


def test_server_cli_keeps_its_generated_token_across_restarts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    first = Running(tmp_path, "--db", db)
    token = first.read_line().split("token ", 1)[1].strip()
    first.stop()
    second = Running(tmp_path, "--db", db)
    said = second.read_line()
    second.stop()
    token_file = tmp_path / "data" / "nbflow" / "server-token"
    token_file.chmod(0o644)  # readable by others: not trusted, a new one is made
    third = Running(tmp_path, "--db", db)
    new_token = third.read_line().split("token ", 1)[1].strip()
    third.stop()

    assert "the token is the one in" in said
    assert token not in said
    assert new_token != token
    assert token_file.read_text().strip() == new_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_server_cli_keeps_state_across_a_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'again.db'}"
    first = Running(tmp_path, "--db", db, "--token", "tok-1")
    request = urllib.request.Request(
        first.url + "api/v1/scheduler/pause",
        method="POST",
        headers={"Authorization": "Bearer tok-1"},
    )
    urllib.request.urlopen(request, timeout=30).close()
    assert first.stop() == 0

    second = Running(tmp_path, "--db", db, "--token", "tok-1")
    with urllib.request.urlopen(second.url + "api/v1/scheduler", timeout=30) as reply:
        state = json.loads(reply.read())
    second.stop()

    assert state["paused"] is True
    assert len(second.lines) == 1  # a given token is never printed


def test_server_cli_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = _nbflow(
        tmp_path,
        "server",
        "--host",
        "0.0.0.0",  # noqa: S104
        "--port",
        "0",
    )

    assert result.returncode == 2
    assert "listening beyond this machine needs a token" in result.stderr
    assert "--token-file" in result.stderr
    assert result.stdout == ""


def test_server_cli_refuses_an_outdated_schema_naming_the_upgrade(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'old.db'}"
    assert _nbflow(tmp_path, "server", "db", "upgrade", "--db", db).returncode == 0
    newer = str(migrations_with_next(tmp_path))

    refused = _nbflow(tmp_path, "server", "--port", "0", "--db", db,
                      NBFLOW_TEST_MIGRATIONS=newer)  # fmt: skip
    upgraded = _nbflow(tmp_path, "server", "db", "upgrade", "--db", db,
                       NBFLOW_TEST_MIGRATIONS=newer)  # fmt: skip

    assert refused.returncode == 2
    assert f"nbflow server db upgrade --db {db}" in refused.stderr
    assert refused.stderr.startswith("nbflow: error:")
    assert upgraded.returncode == 0
    assert f"revision {NEXT}" in upgraded.stdout


def test_server_cli_port_in_use_and_bad_options_exit_2(
    running: Running, tmp_path: Path
) -> None:
    port = running.url.rsplit(":", 1)[1].strip("/")

    taken = _nbflow(tmp_path, "server", "--port", port, "--token", "t",
                    "--db", f"sqlite:///{tmp_path / 'other.db'}")  # fmt: skip
    both = _nbflow(tmp_path, "server", "--token", "a", "--token-file", "b")
    resource = _nbflow(tmp_path, "server", "--resource", "gpu")
    missing_file = _nbflow(tmp_path, "server", "--token-file", str(tmp_path / "nope"))
    unknown_db_command = _nbflow(tmp_path, "server", "db", "downgrade")

    assert taken.returncode == 2
    assert "cannot listen on" in taken.stderr
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
    assert resource.returncode == 2
    assert "--resource gpu=2" in resource.stderr
    assert missing_file.returncode == 2
    assert "cannot read the token file" in missing_file.stderr
    assert unknown_db_command.returncode == 2


def test_server_cli_help_lists_the_options(tmp_path: Path) -> None:
    result = _nbflow(tmp_path, "server", "--help")
    top = _nbflow(tmp_path, "--help")

    assert result.returncode == 0
    for option in ("--host", "--port", "--db", "--token", "--token-file",
                   "--worker-disconnect-delay", "--cors-origin", "--max-body-size"):  # fmt: skip
        assert option in result.stdout
    assert "server" in top.stdout


def test_server_settings_come_from_options_else_luigids_config(
    tmp_path, monkeypatch
) -> None:
    from nbflow.cli import server

    (tmp_path / "luigi.cfg").write_text(
        "[scheduler]\nworker_disconnect_delay = 7\nremove_delay = 0\n"
        "[resources]\ngpu = 2\n"
    )
    monkeypatch.chdir(tmp_path)
    parser = server._server_parser()

    from_config = server._scheduler_settings(parser.parse_args([]))
    from_options = server._scheduler_settings(
        parser.parse_args(["--remove-delay", "30", "--resource", "db=3"])
    )

    assert from_config == {
        "worker_disconnect_delay": 7.0,
        "remove_delay": None,
        "resources": {"gpu": 2},
        "schedules": (),  # no [schedule.NAME] section
        "schedule_log_dir": "",
        "read_only_schedules": False,
    }
    assert from_options["remove_delay"] == 30.0
    assert from_options["resources"] == {"db": 3}
