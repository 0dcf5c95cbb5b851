"""The scheduler's unit tests run three ways: embedded, behind the server's host, and
behind a host restarted from its event log before every call (tests/hosted.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests import hosted

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Test modules whose schedulers come from tests.builders.started / make_scheduler.
_HOSTED_MODULES = frozenset(
    {
        "test_scheduler",
        "test_scheduler_admin",
        "test_scheduler_counts",
        "test_scheduler_owners",
        "test_scheduler_queue",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rsplit(".", 1)[-1] in _HOSTED_MODULES:
        metafunc.parametrize("scheduler_kind", hosted.KINDS, indirect=True)


@pytest.fixture(autouse=True)
def scheduler_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which scheduler tests.builders makes: "embedded" unless parametrized."""
    kind = getattr(request, "param", "embedded")
    hosted.use(kind)
    try:
        yield kind
    finally:
        hosted.stop_all()
        hosted.use("embedded")
