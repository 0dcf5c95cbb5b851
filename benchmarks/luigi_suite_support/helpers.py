"""nbflow's stand-in for Luigi's ``test/helpers.py`` in the nbflow run of the suite.

Same names and meanings as the helpers Luigi's tests import; written against nbflow's
own API (its registry, its settings and its command-line parser) instead of Luigi's
private attributes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
import unittest

import nbflow
from nbflow.core.registry import REGISTRY

__all__ = [
    "LuigiTestCase",
    "RunOnceTask",
    "StringContaining",
    "in_parse",
    "parsing",
    "skipOnGithubActions",
    "skipOnTravisAndGithubActions",
    "temporary_unloaded_module",
    "unittest",
    "with_config",
]


def skipOnTravisAndGithubActions(reason):
    if os.getenv("OVERRIDE_SKIP_CI_TESTS") == "true":
        return unittest.skipIf(False, "")
    on_ci = os.getenv("TRAVIS") == "true" or os.getenv("GITHUB_ACTIONS") == "true"
    return unittest.skipIf(on_ci, reason)


def skipOnGithubActions(reason):
    return unittest.skipIf(os.getenv("GITHUB_ACTIONS") == "true", reason)


class with_config:
    """Run a function with these config sections merged over (or replacing) the current."""

    def __init__(self, config, replace_sections=False):
        self.config = config
        self.replace_sections = replace_sections

    def __call__(self, fun):
        @functools.wraps(fun)
        def wrapper(*args, **kwargs):
            from nbflow import configuration  # only where it is used

            with configuration.overridden(
                self.config, replace_sections=self.replace_sections
            ):
                return fun(*args, **kwargs)

        return wrapper


class RunOnceTask(nbflow.Task):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.comp = False

    def complete(self):
        return self.comp

    def run(self):
        self.comp = True


class StringContaining(str):
    """Equal to any string that contains it (for mock call assertions)."""

    def __eq__(self, other):
        return self in other

    __hash__ = str.__hash__


class LuigiTestCase(unittest.TestCase):
    """Classes registered inside a test are forgotten after it; no cached instances."""

    def setUp(self):
        super().setUp()
        self._saved_registry = REGISTRY.snapshot()
        REGISTRY.clear_instance_caches()

    def tearDown(self):
        REGISTRY.restore(self._saved_registry)
        super().tearDown()
        REGISTRY.clear_instance_caches()

    def run_locally(self, args):
        from nbflow import cmdline_parser  # only where it is used

        with cmdline_parser.CmdlineParser.fresh():
            return nbflow.run(["--local-scheduler", "--no-lock", *args])

    def run_locally_split(self, space_separated_args):
        return self.run_locally(space_separated_args.split(" "))


class parsing:
    """Run a test with these command-line arguments parsed as the current invocation."""

    def __init__(self, cmds):
        self.cmds = cmds

    def __call__(self, fun):
        @functools.wraps(fun)
        def wrapper(*args, **kwargs):
            from nbflow import cmdline_parser  # only where it is used

            with cmdline_parser.CmdlineParser.global_instance(
                self.cmds, allow_override=True
            ):
                return fun(*args, **kwargs)

        return wrapper


def in_parse(cmds, deferred_computation):
    from nbflow import cmdline_parser  # only where it is used

    with cmdline_parser.CmdlineParser.global_instance(cmds) as parser:
        deferred_computation(parser.get_task_obj())


@contextlib.contextmanager
def temporary_unloaded_module(python_file_contents):
    """Write an importable module into test/ and yield its name."""
    with tempfile.NamedTemporaryFile(
        dir="test/", prefix="_test_time_generated_module", suffix=".py"
    ) as module_file:
        module_file.file.write(python_file_contents)
        module_file.file.flush()
        yield re.search(r"/(_test_time_generated_module.*).py", module_file.name).group(
            1
        )
