"""schemathesis against the schedules API of a server that runs a trigger: no 5xx, as documented."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from nbflow.server.schedule_store import ScheduleStore
from nbflow.server.schedules import Schedule
from nbflow.server.trigger import Trigger
from tests.server.live_server import TOKEN, LiveServer
from tests.server.schedule_fakes import FakeClock, RecordingLauncher, at

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("schedules-fuzz")
    live = LiveServer(f"sqlite:///{folder / 'fuzz.db'}").start()
    trigger = Trigger(
        ScheduleStore(live.store),
        RecordingLauncher(),
        schedules=[Schedule("daily", "0 2 * * *", "Report")],
        clock=FakeClock(at("2024-01-01T10:30:00")),
        log_dir=folder / "logs",
    )
    trigger.load()  # no thread: nothing fires
    live.app.settings["nbflow_context"].extras["trigger"] = trigger
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> Any:
    document = server.get("/api/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


# the filter belongs on the lazy schema: one given to the fixture's schema is not kept
schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="/schedules")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_schedules_schemathesis_no_server_errors(case: Any, server: LiveServer) -> None:
    case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        # a valid request may still name no schedule (404) or a taken name (409)
        excluded_checks=[positive_data_acceptance],
    )
