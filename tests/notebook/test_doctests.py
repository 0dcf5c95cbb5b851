"""The examples in nbflow.notebook's docstrings (not under pytest's default testpaths)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "nbflow.notebook.engine",
        "nbflow.notebook.export",
        "nbflow.notebook.loader",
        "nbflow.notebook.params",
        "nbflow.notebook.task",
    ],
)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert attempted > 0
    assert failed == 0
