"""Dockerfile and .dockerignore, reviewed by rule (no container runtime, no hadolint here).

The rules: a slim Python base chosen by the build argument ``PYTHON_IMAGE``; several
stages, the last one holding no compiler or Node.js and running as a numeric non-root
user; the package installed from the wheel built in the image with the ``server`` and
``dask`` extras; a HEALTHCHECK on the server's ``/healthz``; an entry point whose
default command ``nbflow server`` parses, listening on every interface of the
container. The image's commands themselves run in test_image_commands.py.
"""

from __future__ import annotations

import json
import re
import shlex
from fnmatch import fnmatch
from pathlib import PurePosixPath
from typing import NamedTuple

import pytest

from nbflow.cli import server as server_cli
from tests.deploy.manifests import ROOT

#: What the build stage needs from the checkout (pyproject.toml's build and wheel).
NEEDED = (
    "pyproject.toml", "README.md", "nbflow/__init__.py", "nbflow/server/app.py",
    "nbflow/static/graph.js", "labextension/package.json", "labextension/yarn.lock",
    "labextension/.yarnrc.yml", "labextension/src/index.ts",
    "jupyter-config/jupyter_server_config.d/nbflow.json",
)  # fmt: skip
COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "node", "npm", "cargo")


class Instruction(NamedTuple):
    keyword: str
    text: str


def _instructions() -> list[Instruction]:
    """Return the Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n(?:\s*#.*\n)*", " ", text)
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append(Instruction(keyword.upper(), rest.strip()))
    return found


def _stages() -> list[list[Instruction]]:
    stages: list[list[Instruction]] = [[]]
    for instruction in _instructions():
        if instruction.keyword == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages  # stages[0]: the global ARGs before the first FROM


def _args(stage: list[Instruction]) -> dict[str, str]:
    found = {}
    for instruction in stage:
        if instruction.keyword == "ARG":
            name, _, default = instruction.text.partition("=")
            found[name] = default
    return found


def _exec_form(instruction: Instruction) -> list[str]:
    parsed: list[str] = json.loads(instruction.text)
    return parsed


def test_dockerfile_bases_are_the_python_image_argument() -> None:
    preamble, *stages = _stages()
    bases = [stage[0].text.split()[0] for stage in stages]

    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", _args(preamble)["PYTHON_IMAGE"])
    assert len(stages) >= 2  # multi-stage
    assert bases[-1] == "${PYTHON_IMAGE}"
    assert "${PYTHON_IMAGE}" in bases[:-1]  # the build stage: the venv fits the final


def test_dockerfile_final_stage_has_no_compilers_and_is_not_root() -> None:
    final = _stages()[-1]
    users = [i.text for i in final if i.keyword == "USER"]
    uid = _args(final)["UID"]

    text = " ".join(i.text for i in final if i.keyword in {"RUN", "COPY"})
    assert users
    assert users[-1] in {"${UID}:${UID}", "${UID}"}
    assert uid.isdigit()
    assert int(uid) > 0
    assert "apt-get install" not in text
    for tool in COMPILERS:
        assert not re.search(rf"(^|[\s/]){re.escape(tool)}(\s|$)", text), tool
    copied = [i.text for i in final if i.keyword == "COPY"]
    assert copied == ["--from=build /opt/nbflow /opt/nbflow"]


def test_dockerfile_installs_the_built_wheel_with_server_and_dask() -> None:
    build = next(s for s in _stages()[1:] if "AS build" in s[0].text)
    run = " ".join(i.text for i in build if i.keyword == "RUN")

    extras = _args(build)["EXTRAS"]

    assert "pip wheel --no-deps" in run
    assert re.search(r'pip install "\$\{wheel\}\[\$\{EXTRAS\}\]"', run)
    assert set(extras.split(",")) == {"server", "dask"}
    assert 'wheel="$(ls /dist/nbflow-*.whl)"' in run


def test_dockerfile_healthcheck_entrypoint_and_default_command() -> None:
    final = _stages()[-1]
    by_keyword = {i.keyword: i for i in final}
    environment = " ".join(i.text for i in final if i.keyword == "ENV")

    check = by_keyword["HEALTHCHECK"].text
    entrypoint = _exec_form(by_keyword["ENTRYPOINT"])
    command = _exec_form(by_keyword["CMD"])
    options = server_cli._server_parser().parse_args(command[1:])
    url = re.search(r"NBFLOW_HEALTHCHECK_URL=(\S+)", environment)

    assert entrypoint == ["nbflow"]
    assert command[0] == "server"
    assert options.host == "0.0.0.0"  # noqa: S104  (in a container: on purpose)
    assert url is not None
    assert url.group(1) == f"http://127.0.0.1:{options.port}/healthz"
    assert "NBFLOW_HEALTHCHECK_URL" in check
    assert "--interval=" in check
    assert by_keyword["EXPOSE"].text == str(options.port)
    assert "XDG_DATA_HOME=/var/lib" in environment  # nbflow's data: /var/lib/nbflow
    assert shlex.split(by_keyword["VOLUME"].text.strip("[]").replace(",", " ")) == [
        "/var/lib/nbflow"
    ]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Return whether .dockerignore's ``patterns`` leave ``path`` out (last match wins)."""
    verdict = False
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!").rstrip("/")
        glob = body.replace("**/", "*")
        if any(fnmatch(prefix, glob) for prefix in prefixes):
            verdict = not negated
    return verdict


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_keeps_what_the_build_needs(ignore_patterns: list[str]) -> None:
    for path in NEEDED:
        assert (ROOT / path).exists(), path
        assert not _ignored(path, ignore_patterns), path


def test_dockerignore_leaves_out_local_builds_and_secrets(
    ignore_patterns: list[str],
) -> None:
    dropped = (
        ".git/config", "nbflow/labextension/package.json",
        "labextension/node_modules/x/package.json", "nbflow/__pycache__/x.pyc",
        "tests/conftest.py", "data/top_artists_2024-06.tsv", ".venv/bin/python",
    )  # fmt: skip

    for path in dropped:
        assert _ignored(path, ignore_patterns), path
