"""docs/deploy.md: its Kubernetes examples validate and its commands exist.

The examples a reader copies (the CronJob, the Dockerfile of a user's project, the
nbflow commands) are checked like the shipped files: objects against the Kubernetes
schemas offline, nbflow options against ``nbflow COMMAND --help``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils

from tests.deploy.manifests import ROOT

DOCS = ROOT / "docs" / "deploy.md"


def _blocks(language: str) -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    return re.findall(
        rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL
    )


def _help(command: str) -> str:
    shown = subprocess.run(
        [sys.executable, "-m", "nbflow", command, "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return shown.stdout


def test_docs_kubernetes_objects_validate() -> None:
    objects = [yaml.safe_load(block) for block in _blocks("yaml")]
    complete = [o for o in objects if o.get("kind") and "spec" in o]

    for resource in complete:
        kubernetes_validate.validate(resource, utils.latest_version(), strict=True)

    assert [o["kind"] for o in complete] == ["CronJob"]


def test_docs_cron_job_is_admitted_and_runs_nbflow() -> None:
    (job,) = [
        o for o in map(yaml.safe_load, _blocks("yaml")) if o.get("kind") == "CronJob"
    ]
    template = job["spec"]["jobTemplate"]["spec"]["template"]
    (spec,) = template["spec"]["containers"]
    options = set(re.findall(r"--[\w-]+", _help("run")))

    assert template["metadata"]["labels"] == {"nbflow.io/client": "true"}
    assert spec["args"][0] == "run"
    assert {a for a in spec["args"] if a.startswith("--scheduler")} <= options
    assert "--no-progress" in options


def test_docs_nbflow_commands_use_real_options() -> None:
    commands = [
        line.strip().rstrip("\\").strip()
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.strip().startswith("nbflow ")
    ]

    assert commands
    for command in commands:
        name = command.split()[1]
        known = set(re.findall(r"--[\w-]+", _help(name)))
        # task parameters (--date) follow the task's name: only check what precedes it
        words = command.split()[2:]
        before_task = words[
            : next((i for i, w in enumerate(words) if w[:1].isupper()), None)
        ]
        for option in (w for w in before_task if w.startswith("--")):
            assert option in known, (command, option)


@pytest.mark.parametrize("line", ["FROM ${NBFLOW_IMAGE}", "USER 10001:10001"])
def test_docs_project_dockerfile_builds_on_the_image(line: str) -> None:
    (dockerfile,) = _blocks("dockerfile")
    image = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert line in dockerfile.splitlines()
    assert "ARG UID=10001" in image
