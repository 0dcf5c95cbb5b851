"""``_visible_in_registry = False`` hides a class from the command line (as in Luigi)."""

from __future__ import annotations

import pytest

import nbflow
from nbflow.core import cmdline
from nbflow.core.errors import UnknownParameterError, UnknownTaskError
from nbflow.core.interface import run


class HiddenFromCmdline(nbflow.Task):
    _visible_in_registry = False
    size = nbflow.IntParameter(default=1)


class ShownOnCmdline(nbflow.Task):
    size = nbflow.IntParameter(default=1)


def test_a_hidden_class_cannot_be_named_as_the_task() -> None:
    with pytest.raises(UnknownTaskError, match="HiddenFromCmdline"):
        cmdline.parse(["HiddenFromCmdline"])


def test_a_hidden_class_has_no_family_options() -> None:
    with pytest.raises(UnknownParameterError):
        cmdline.parse(["ShownOnCmdline", "--HiddenFromCmdline-size", "3"])


def test_a_visible_class_keeps_its_name_and_options() -> None:
    invocation = cmdline.parse(["ShownOnCmdline", "--ShownOnCmdline-size", "3"])
    assert invocation.task_cls is ShownOnCmdline
    assert invocation.overrides == {"ShownOnCmdline": {"size": "3"}}


def test_code_still_makes_a_hidden_class() -> None:
    assert HiddenFromCmdline(size=2).size == 2


def test_luigi_run_exits_on_a_hidden_class_option_as_on_any_unknown_one() -> None:
    args = ["ShownOnCmdline", "--HiddenFromCmdline-size", "3", "--local-scheduler"]
    with pytest.raises(SystemExit, match="unknown parameter"):
        run(args)
