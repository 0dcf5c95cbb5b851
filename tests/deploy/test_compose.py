"""docker-compose.yml and deploy/prometheus.yml: they parse and name what exists.

No container runtime: the compose file is read as YAML (anchors and merge keys as
Compose reads them, ``${VAR}`` interpolated here), each nbflow command is parsed by
nbflow's real argument parsers, bind-mounted files and the workers' module exist, and
every metric the Prometheus rules use is one the server really exports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from nbflow.cli import server as server_cli
from nbflow.cli import worker as worker_cli
from nbflow.core.events import TasksDiscovered, TaskSpec
from nbflow.server.host import SchedulerHost
from nbflow.server.metrics import ServerMetrics
from tests.deploy.manifests import ROOT, load_yaml

COMPOSE = ROOT / "docker-compose.yml"
#: Public images the compose file pulls, each tag checked by hand on its registry
#: (Docker Hub: library/postgres, prom/prometheus); no registry is reachable here.
PUBLISHED = {"postgres:16-bookworm", "prom/prometheus:v2.53.0"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Replace ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` as Compose does."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            assert "?" not in match.group(0), f"{name} is required: {match.group(0)}"
            return default or ""

        return _VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = _interpolate(load_yaml(COMPOSE), {"NBFLOW_TOKEN": "t" * 32})
    found: dict[str, Any] = compose["services"]
    return found


def _nbflow_services(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if "build" in s}


def test_compose_runs_server_postgres_two_workers_and_prometheus(
    services: dict[str, Any],
) -> None:
    workers = [s for s in services.values() if s.get("command", [""])[0] == "worker"]

    assert {"server", "postgres", "prometheus", "migrate"} <= set(services)
    assert len(workers) == 2


def test_compose_images_are_built_here_or_published_and_pinned(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        if "build" in service:
            context = ROOT / service["build"]["context"]
            assert (context / "Dockerfile").is_file(), name
            extras = set(service["build"]["args"]["EXTRAS"].split(","))
            declared = set(load_pyproject()["project"]["optional-dependencies"])
            assert {"server", "dask"} <= extras <= declared, name
        else:
            assert service["image"] in PUBLISHED, name
            assert not service["image"].endswith(":latest"), name


def load_pyproject() -> dict[str, Any]:
    import tomllib  # 3.11+, as the test machines

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_compose_commands_are_nbflow_commands_with_real_options(
    services: dict[str, Any],
) -> None:
    commands = _help_commands()
    seen = set()

    for name, service in _nbflow_services(services).items():
        command = service["command"]
        assert command[0] in commands, name
        if command[:3] == ["server", "db", "upgrade"]:
            seen.add("upgrade")
            assert server_cli._db_parser().parse_args(command[3:]).db
        elif command[0] == "server":
            seen.add("server")
            options = server_cli._server_parser().parse_args(command[1:])
            assert options.host == "0.0.0.0"  # noqa: S104  (in a container: on purpose)
            assert options.db.startswith("postgresql://")
            assert f"/run/secrets/{service['secrets'][0]}" == str(options.token_file)
        else:
            seen.add(command[0])
            options = worker_cli._parser().parse_args(command[1:])
            grace = _seconds(service["stop_grace_period"])
            assert grace >= options.grace_period + worker_cli.UNWIND_SECONDS + 5, name
            assert options.scheduler_url == "http://server:8082"

    assert seen == {"upgrade", "server", "worker"}


def test_compose_database_url_is_the_same_for_migrations_and_server(
    services: dict[str, Any],
) -> None:
    upgrade = server_cli._db_parser().parse_args(services["migrate"]["command"][3:])
    serve = server_cli._server_parser().parse_args(services["server"]["command"][1:])
    postgres = services["postgres"]["environment"]

    assert upgrade.db == serve.db
    assert serve.db == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )


def _help_commands() -> set[str]:
    """Return the commands `nbflow --help` lists."""
    shown = subprocess.run(
        [sys.executable, "-m", "nbflow", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    listing = shown.split("commands:", 1)[1]
    return set(re.findall(r"^ {4}(\w+) ", listing, flags=re.MULTILINE))


def _seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+)s", text)
    assert match, text
    return float(match.group(1))


def test_compose_mounted_files_and_the_workers_module_exist(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
    for service in _nbflow_services(services).values():
        if service["command"][0] != "worker":
            continue
        options = worker_cli._parser().parse_args(service["command"][1:])
        path = service["environment"]["PYTHONPATH"]
        mounts = dict(v.split(":")[1::-1] for v in service["volumes"])  # target->source
        for module in options.module:
            package = module.split(".")[0]
            source = mounts[f"{path}/{package}"]
            assert (ROOT / source / f"{module.split('.', 1)[1]}.py").is_file(), module


def _exported_metrics() -> set[str]:
    """Return the sample names the server's /metrics has once something happened."""

    class Writer:
        queued = 0
        dropped = 0

    host = SchedulerHost()
    host.start()
    try:
        host.call(None, [TasksDiscovered((TaskSpec("ComposeProbe__1", "Probe"),))])
        metrics = ServerMetrics(host, Writer())
        metrics._durations.labels("FAILED").observe(1.0)
        text = metrics.render().decode()
        metrics.close()
    finally:
        host.stop()
    return {
        re.split(r"[{ ]", line)[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_compose_prometheus_scrapes_the_server_with_its_token(
    services: dict[str, Any],
) -> None:
    config = load_yaml(ROOT / "deploy" / "prometheus.yml")
    prometheus = services["prometheus"]
    mounts = dict(v.split(":")[1::-1] for v in prometheus["volumes"])  # target->source

    (job,) = config["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    serve = server_cli._server_parser().parse_args(services["server"]["command"][1:])

    assert target == f"server:{serve.port}"
    assert job["metrics_path"] == "/metrics"
    secret = job["authorization"]["credentials_file"]
    assert secret == f"/run/secrets/{prometheus['secrets'][0]}"
    assert services["server"]["secrets"] == prometheus["secrets"]
    assert mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    for rules in config["rule_files"]:
        assert (ROOT / mounts[rules]).is_file()


def test_compose_alert_rules_use_metrics_the_server_exports() -> None:
    rules = load_yaml(ROOT / "deploy" / "alerts.yml")
    exported = _exported_metrics()
    job = load_yaml(ROOT / "deploy" / "prometheus.yml")["scrape_configs"][0]["job_name"]

    for group in rules["groups"]:
        for rule in group["rules"]:
            names = set(re.findall(r"\bnbflow_\w+", rule["expr"]))
            names -= {job.replace("-", "_")}
            assert names <= exported, (rule["alert"], names - exported)
            if "up{" in rule["expr"]:
                assert f'job="{job}"' in rule["expr"]
