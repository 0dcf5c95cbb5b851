"""schemathesis against the served OpenAPI document: bounded, no 5xx, answers as documented."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.server.live_server import TOKEN, LiveServer, chain_specs, submit

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("schemathesis")
    live = LiveServer(f"sqlite:///{folder / 'fuzz.db'}").start()
    submit(live, "w1", chain_specs("a", "b", "c"))  # something to find
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> Any:
    document = server.get("/api/openapi.json").json()
    # The event stream never ends: it has tests of its own (test_api.py). Taken out of
    # the document: with schemathesis 4.32, exclude(path_regex=...) on the fixture's
    # schema did not keep the operation out, and its 15 calls each waited for the
    # stream's end (250 s of the suite).
    streams = [path for path in document["paths"] if path.endswith("/events")]
    assert streams == ["/api/v1/events"]
    for path in streams:
        del document["paths"][path]
    return schemathesis.openapi.from_dict(document)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_schemathesis_no_server_errors(case: Any, server: LiveServer) -> None:
    wait = case.body.get("wait") if isinstance(case.body, dict) else None
    if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 0 < wait <= 30:
        case.body["wait"] = 0  # a valid long poll would only slow the run down
    case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        # Valid input may still name a task that does not exist (404) or a state that
        # refuses the action (409): documented answers, not acceptance failures.
        excluded_checks=[positive_data_acceptance],
    )
