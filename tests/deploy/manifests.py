"""The deploy files, read and rendered, for the deployment tests.

No cluster and no container runtime: ``kubectl kustomize`` renders the overlays
(scripts/test.sh installs Debian's ``kubernetes-client`` where ``kubectl`` is missing;
the manifests keep to what its kustomize v2 reads too), and PyYAML reads the rest.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
#: Every kustomization a user applies (the ingress one is added to an overlay).
OVERLAYS = ("overlays/sqlite", "overlays/postgresql", "overlays/dask", "ingress")


def kubectl() -> str:
    """Return the kubectl to render with; fail saying how to get one."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is missing: the deployment tests render the kustomizations with "
            "`kubectl kustomize`. Fix: apt-get install -y kubernetes-client (scripts/"
            "test.sh does)"
        )
    return found


@functools.cache
def render(kustomization: str) -> tuple[dict[str, Any], ...]:
    """Render ``deploy/kubernetes/<kustomization>``; return its objects."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(KUBERNETES / kustomization)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    """Return the object of ``kind`` named ``name``."""
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, [(o["kind"], o["metadata"]["name"]) for o in objects]
    return found[0]


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a Deployment's container (or init container) called ``name``."""
    spec = deployment["spec"]["template"]["spec"]
    every = [*spec.get("initContainers", []), *spec["containers"]]
    (found,) = [c for c in every if c["name"] == name]
    return dict(found)


def load_yaml(path: Path) -> Any:
    """Read one YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
