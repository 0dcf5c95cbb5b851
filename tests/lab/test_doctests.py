"""The examples in the docstrings of the Lab modules run (the doctest run covers core)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nbflow.kernel.lab",
    "nbflow.kernel.board",
    "nbflow.lab.boards",
    "nbflow.lab.handlers",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)

    assert failed == 0
