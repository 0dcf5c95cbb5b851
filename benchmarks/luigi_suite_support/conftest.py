"""nbflow's stand-in for Luigi's ``test/conftest.py`` in the nbflow run of the suite.

Luigi's own resets its registry through private methods; this one does the same job
through nbflow's registry: every test starts and ends with the classes that were
registered when it began, and with no cached task instances.
"""

from __future__ import annotations

import pytest

from nbflow.core.registry import REGISTRY


@pytest.fixture(autouse=True)
def reset_luigi_registry():
    saved = REGISTRY.snapshot()
    REGISTRY.clear_instance_caches()
    yield
    REGISTRY.restore(saved)
    REGISTRY.clear_instance_caches()


def pytest_collection_modifyitems(items):
    for item in items:
        if not any(item.iter_markers()):
            item.add_marker(pytest.mark.unmarked)
