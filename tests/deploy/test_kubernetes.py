"""deploy/kubernetes: every kustomization renders, every object validates offline.

Kubernetes' own kinds validate with kubernetes-validate (strict: unknown fields fail).
It does not know the two custom resources used, so they validate against schemas
written here for the fields the manifests use (tests/deploy/schemas/), whose pod and
service specs point into Kubernetes' own definitions. The commands the containers run
are parsed by nbflow's real argument parsers, so a renamed option fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from kubernetes_validate import utils
from referencing import Registry, Resource

from nbflow.cli import server as server_cli
from nbflow.cli import worker as worker_cli
from nbflow.core.config_keys import KNOWN_KEYS
from tests.deploy.manifests import (
    KUBERNETES,
    OVERLAYS,
    container,
    find,
    kubectl,
    render,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMAS = Path(__file__).parent / "schemas"
#: custom resources -> the schema written for them
CUSTOM = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("kubernetes.dask.org/v1", "DaskCluster"): "daskcluster-kubernetes-v1.json",
}
SERVER_LABELS = {
    "app.kubernetes.io/name": "nbflow",
    "app.kubernetes.io/component": "server",
}
WORKER_LABELS = {
    "app.kubernetes.io/name": "nbflow",
    "app.kubernetes.io/component": "worker",
}


def _validate_custom(resource: dict[str, Any]) -> None:
    name = CUSTOM[resource["apiVersion"], resource["kind"]]
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    version = utils.latest_version()
    definitions = utils.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )
    registry = Resource.from_contents(definitions) @ Registry()
    jsonschema.Draft202012Validator(schema, registry=registry).validate(resource)


def _validate(resource: dict[str, Any]) -> None:
    if (resource["apiVersion"], resource["kind"]) in CUSTOM:
        _validate_custom(resource)
    else:
        kubernetes_validate.validate(resource, utils.latest_version(), strict=True)


def _args(spec: dict[str, Any], env: dict[str, str]) -> list[str]:
    """Return a container's args with $(VAR) expanded as the kubelet does."""
    args = []
    for written in spec["args"]:
        arg = written
        for name, value in env.items():
            arg = arg.replace(f"$({name})", value)
        args.append(arg)
    return args


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_kubernetes_every_rendered_object_validates(kustomization: str) -> None:
    objects = render(kustomization)

    for resource in objects:
        _validate(resource)

    assert objects


@pytest.mark.parametrize(
    ("kustomization", "kinds"),
    [
        ("overlays/sqlite", {"PersistentVolumeClaim"}),
        ("overlays/postgresql", set()),
        ("overlays/dask", {"DaskCluster"}),
    ],
)
def test_kubernetes_overlay_has_the_base_and_its_own(
    kustomization: str, kinds: set[str]
) -> None:
    base = {
        "ConfigMap", "Deployment", "Service", "NetworkPolicy", "ServiceMonitor",
        "PodDisruptionBudget",
    }  # fmt: skip

    found = {o["kind"] for o in render(kustomization)}

    assert found == base | kinds
    assert {o["metadata"].get("namespace") for o in render(kustomization)} == {"nbflow"}


def test_kubernetes_custom_resource_schema_refuses_a_typo() -> None:
    monitor = find(render("overlays/postgresql"), "ServiceMonitor", "nbflow-server")
    broken = json.loads(json.dumps(monitor))
    broken["spec"]["endpoints"][0]["intervall"] = "30s"

    with pytest.raises(jsonschema.ValidationError, match="intervall"):
        _validate(broken)


@pytest.mark.parametrize("kustomization", OVERLAYS[:3])
def test_kubernetes_server_is_one_replica_with_probes_and_limits(
    kustomization: str,
) -> None:
    server = find(render(kustomization), "Deployment", "nbflow-server")
    spec = server["spec"]
    main = container(server, "server")

    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"  # never two schedulers at once
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert set(main["resources"]) == {"requests", "limits"}
    assert (
        spec["template"]["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    )


def _env(spec: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", f"<from {e['name']}>") for e in spec["env"]}


@pytest.mark.parametrize("kustomization", OVERLAYS[:3])
def test_kubernetes_server_command_is_nbflow_server_on_all_interfaces(
    kustomization: str,
) -> None:
    server = find(render(kustomization), "Deployment", "nbflow-server")
    main = container(server, "server")
    migrate = container(server, "migrate")

    args = _args(main, _env(main))
    options = server_cli._server_parser().parse_args(args[1:])
    upgrade = _args(migrate, _env(migrate))

    assert args[0] == "server"
    assert options.host == "0.0.0.0"  # noqa: S104  (in a container: on purpose)
    assert options.token_file == Path("/var/run/secrets/nbflow/token")
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert mounts["/var/run/secrets/nbflow"] == "token"
    assert upgrade[:3] == ["server", "db", "upgrade"]
    assert server_cli._db_parser().parse_args(upgrade[3:]).db == options.db


def test_kubernetes_sqlite_keeps_the_database_on_the_claim() -> None:
    objects = render("overlays/sqlite")
    server = find(objects, "Deployment", "nbflow-server")
    claim = find(objects, "PersistentVolumeClaim", "nbflow-server-data")
    main = container(server, "server")

    volumes = {v["name"]: v for v in server["spec"]["template"]["spec"]["volumes"]}
    db = server_cli._server_parser().parse_args(_args(main, _env(main))[1:]).db
    mounted = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}

    assert volumes["data"] == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]},
    }
    assert db == f"sqlite:///{mounted['data']}/server.db"


@pytest.mark.parametrize("kustomization", ["overlays/postgresql", "overlays/dask"])
def test_kubernetes_postgresql_url_comes_from_a_secret(kustomization: str) -> None:
    server = find(render(kustomization), "Deployment", "nbflow-server")

    for name in ("migrate", "server"):
        (url,) = [
            e for e in container(server, name)["env"] if e["name"] == "NBFLOW_DB_URL"
        ]
        assert url == {
            "name": "NBFLOW_DB_URL",
            "valueFrom": {"secretKeyRef": {"name": "nbflow-database", "key": "url"}},
        }


@pytest.mark.parametrize("kustomization", OVERLAYS[:3])
def test_kubernetes_workers_stop_gracefully_within_the_pod_grace(
    kustomization: str,
) -> None:
    objects = render(kustomization)
    workers = find(objects, "Deployment", "nbflow-worker")
    budget = find(objects, "PodDisruptionBudget", "nbflow-worker")
    main = container(workers, "worker")

    args = _args(main, {})
    options = worker_cli._parser().parse_args(args[1:])
    pod = workers["spec"]["template"]["spec"]

    assert args[0] == "worker"
    assert options.scheduler_url == "http://nbflow-server:8082"
    # SIGTERM: the grace, then interrupted tasks' unwind, then the hand-back call
    assert pod["terminationGracePeriodSeconds"] >= (
        options.grace_period + worker_cli.UNWIND_SECONDS + 10
    )
    token = next(e for e in main["env"] if e["name"] == "NBFLOW_TOKEN")
    assert token["valueFrom"]["secretKeyRef"] == {
        "name": "nbflow-token",
        "key": "token",
    }
    assert budget["spec"]["selector"]["matchLabels"] == WORKER_LABELS
    assert (
        WORKER_LABELS.items()
        <= workers["spec"]["template"]["metadata"]["labels"].items()
    )


def test_kubernetes_service_monitor_and_policy_select_the_server() -> None:
    objects = render("overlays/postgresql")
    server = find(objects, "Deployment", "nbflow-server")
    service = find(objects, "Service", "nbflow-server")
    monitor = find(objects, "ServiceMonitor", "nbflow-server")
    policy = find(objects, "NetworkPolicy", "nbflow-server")
    workers = find(objects, "Deployment", "nbflow-worker")

    pod_labels = server["spec"]["template"]["metadata"]["labels"]
    worker_labels = workers["spec"]["template"]["metadata"]["labels"]
    (endpoint,) = monitor["spec"]["endpoints"]
    admitted = [
        peer["podSelector"]["matchLabels"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
        if "namespaceSelector" not in peer
    ]

    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["authorization"]["credentials"] == {
        "name": "nbflow-token",
        "key": "token",
    }
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert any(labels.items() <= worker_labels.items() for labels in admitted)
    assert policy["spec"]["policyTypes"] == ["Ingress"]


def test_kubernetes_dask_workers_use_the_clusters_scheduler() -> None:
    objects = render("overlays/dask")
    cluster = find(objects, "DaskCluster", "nbflow-dask")
    config = find(objects, "ConfigMap", "nbflow-dask")
    workers = find(objects, "Deployment", "nbflow-worker")
    main = container(workers, "worker")

    options = worker_cli._parser().parse_args(_args(main, {})[1:])
    address = tomllib.loads(config["data"]["dask.toml"])["dask"]["scheduler_address"]
    config_path = next(e for e in main["env"] if e["name"] == "NBFLOW_CONFIG_PATH")
    mounts = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}
    ports = {
        p["name"]: p["port"] for p in cluster["spec"]["scheduler"]["service"]["ports"]
    }

    assert options.executor == "dask"
    # the operator names the scheduler's Service <cluster>-scheduler
    assert (
        address == f"tcp://{cluster['metadata']['name']}-scheduler:{ports['tcp-comm']}"
    )
    assert f"{mounts['dask-config']}/dask.toml" in config_path["value"].split(":")
    for role in ("scheduler", "worker"):
        (dask,) = cluster["spec"][role]["spec"]["containers"]
        assert dask["command"] == ["dask"]
        assert dask["args"][0] == role
        assert dask["image"] == main["image"]  # the same image: the tasks' modules


def test_kubernetes_every_pod_runs_unprivileged() -> None:
    pods = []
    for kustomization in OVERLAYS[:3]:
        for resource in render(kustomization):
            if resource["kind"] == "Deployment":
                pods.append(resource["spec"]["template"]["spec"])
            elif resource["kind"] == "DaskCluster":
                pods += [resource["spec"][r]["spec"] for r in ("scheduler", "worker")]

    assert len(pods) >= 4  # the server and the workers in each overlay, Dask's pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for spec in [*pod.get("initContainers", []), *pod["containers"]]:
            context = spec["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, spec["name"]
            assert context["readOnlyRootFilesystem"] is True, spec["name"]
            assert context["capabilities"]["drop"] == ["ALL"], spec["name"]
            assert set(spec["resources"]) == {"requests", "limits"}, spec["name"]


def test_kubernetes_config_map_keys_are_known_to_nbflow() -> None:
    config = find(render("overlays/sqlite"), "ConfigMap", "nbflow-config")

    parsed = tomllib.loads(config["data"]["nbflow.toml"])

    for section in ("scheduler", "worker"):
        assert set(parsed[section]) <= KNOWN_KEYS[section], section


def test_kubernetes_a_users_overlay_sets_every_image(tmp_path: Path) -> None:
    # docs/deploy.md's own overlay: one `images:` entry names the user's image
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"bases:\n  - {os.path.relpath(KUBERNETES / 'overlays' / 'dask', tmp_path)}\n"
        "images:\n"
        "  - {name: nbflow, newName: registry.example.com/pipelines, newTag: '1.0'}\n"
    )

    done = subprocess.run(
        [kubectl(), "kustomize", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    images = re.findall(r"^\s*image: (\S+)$", done.stdout, flags=re.MULTILINE)

    assert done.returncode == 0, done.stderr
    assert len(images) == 5  # migrate, server, worker, Dask scheduler and worker
    assert set(images) == {"registry.example.com/pipelines:1.0"}
