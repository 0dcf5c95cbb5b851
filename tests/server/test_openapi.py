"""The OpenAPI document: valid, complete, and every state change it lists needs the token."""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest
from openapi_spec_validator import validate

from nbflow.server import openapi
from tests.server.live_server import TOKEN, LiveServer

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("openapi")
    live = LiveServer(f"sqlite:///{folder / 'openapi.db'}").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def document(server: LiveServer) -> dict[str, Any]:
    reply = server.get("/api/openapi.json")
    assert reply.status == 200
    served: dict[str, Any] = reply.json()
    return served


def test_openapi_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)

    assert document["openapi"].startswith("3.1")


def _expand(pattern: str) -> set[str]:
    """Turn a route's regex into paths: groups of verbs expanded, ids as {}."""
    verbs = re.search(r"\(([a-z|-]+)\)", pattern)
    if verbs is None:
        return {pattern.replace("([^/]+)", "{}")}
    head, tail = pattern[: verbs.start()], pattern[verbs.end() :]
    return {
        path
        for verb in verbs.group(1).split("|")
        for path in _expand(head + verb + tail)
    }


def test_openapi_describes_every_api_route_and_no_other(
    server: LiveServer, document: dict[str, Any]
) -> None:
    described = {re.sub(r"\{[^}]+\}", "{}", path) for path in document["paths"]}
    patterns = [rule.matcher.regex.pattern for rule in server.app.wildcard_router.rules]
    routed = {
        path
        for pattern in patterns
        if pattern.startswith("/api/v1")
        for path in _expand(pattern.rstrip("$"))
    }

    assert routed <= described
    assert described - routed == {
        "/metrics", "/healthz", "/readyz", "/api/openapi.json",
    }  # fmt: skip


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", urllib.parse.quote("any/id", safe=""), path)


def test_openapi_every_state_change_refuses_missing_and_wrong_tokens(
    server: LiveServer, document: dict[str, Any]
) -> None:
    operations = openapi.state_changing_operations(document)
    writes = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "get"
    }
    refused = []

    for method, path in operations:
        missing = server.request(method, _fill(path), {})
        wrong = server.request(method, _fill(path), {}, token=TOKEN + "-wrong")
        refused.append((method, path, missing.status, wrong.status))

    assert writes == set(operations)  # every non-GET operation is a state change
    assert len(operations) >= 8
    assert all(m == 401 and w == 403 for _, _, m, w in refused), refused


def test_openapi_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "200" in operation["responses"], (method, path)
            assert operation.get("operationId"), (method, path)
            if path.startswith("/api/v1") and path != "/api/v1/events":
                assert "400" in operation["responses"], (method, path)
