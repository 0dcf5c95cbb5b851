"""The examples in nbflow.kernel's docstrings run (the doctest run covers nbflow/core)."""

from __future__ import annotations

import doctest
import importlib

import pytest

pytestmark = pytest.mark.kernel

MODULES = ["display", "errors", "graph", "interrupt", "magics", "record", "session"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch) -> None:
    monkeypatch.setenv("NBFLOW_DISPLAY", "text")
    module = importlib.import_module(f"nbflow.kernel.{name}")

    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert failed == 0
