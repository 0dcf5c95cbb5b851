from __future__ import annotations

import pytest

import nbflow
from nbflow.core import config as _config
from nbflow.core.cmdline_parser import CmdlineParser
from nbflow.core.interface import ArgvTypeError, run


class ParsedLeaf(nbflow.Task):
    size = nbflow.IntParameter(default=1, description="How many leaves.")


class ParsedRoot(nbflow.Task):
    size = nbflow.IntParameter(default=1)

    def requires(self) -> list[nbflow.Task]:
        return [ParsedRoot(size=0)] if self.size else []


class ParsedSettings(nbflow.Config):
    use_cmdline_section = False
    parsed_colour = nbflow.Parameter(default="red")


def test_cmdline_parser_family_values_reach_every_task_inside() -> None:
    argv = ["ParsedRoot", "--ParsedLeaf-size", "5", "--parsed-colour", "blue"]

    with CmdlineParser.global_instance(argv) as parser:
        assert CmdlineParser.get_instance() is parser
        assert ParsedLeaf().size == 5
        assert ParsedSettings().parsed_colour == "blue"

    assert ParsedLeaf().size == 1
    assert CmdlineParser.get_instance() is None


def test_cmdline_parser_root_param_reaches_the_root_only() -> None:
    with CmdlineParser.global_instance(["ParsedRoot", "--size", "3"]) as parser:
        root = parser.get_task_obj()
        other = ParsedRoot()

    assert root.size == 3
    assert other.size == 1
    assert root.requires()[0].size == 0


def test_cmdline_parser_nesting_needs_allow_override() -> None:
    outer = CmdlineParser.global_instance(["ParsedLeaf"])
    nested = CmdlineParser.global_instance(["ParsedLeaf"])
    replacing = CmdlineParser.global_instance(
        ["ParsedLeaf", "--size", "2"], allow_override=True
    )

    with outer:
        with pytest.raises(RuntimeError, match="allow_override=True"), nested:
            pass
        with replacing as inner:
            assert inner.get_task_obj().size == 2


def test_cmdline_parser_fresh_hides_the_command_line() -> None:
    with CmdlineParser.global_instance(["ParsedLeaf", "--ParsedLeaf-size", "9"]):
        with CmdlineParser.fresh():
            assert CmdlineParser.get_instance() is None
            assert ParsedLeaf().size == 1
        assert ParsedLeaf().size == 9


def test_cmdline_parser_section_keys_are_config_values() -> None:
    with CmdlineParser.global_instance(["ParsedLeaf", "--retcode-task-failed", "7"]):
        codes = _config.RetCodes.from_settings(_config.current_settings())

    assert codes.task_failed == 7


def test_run_help_prints_help_and_exits_zero_without_running(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["ParsedLeaf", "--help"])

    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert "--size" in out
    assert "--ParsedLeaf-size" in out
    assert "How many leaves." in out


def test_run_help_all_lists_every_family_option_and_no_local_one(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["--help-all"])

    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert "--ParsedLeaf-size" in out
    assert "--parsed-colour" in out
    assert "--retcode-task-failed" in out
    assert "\n  --size" not in out


def test_run_without_a_task_exits_with_the_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        run(["--local-scheduler", "--no-lock"])

    assert "no task named" in str(caught.value.code)


def test_run_rejects_arguments_that_are_not_a_list() -> None:
    with pytest.raises(TypeError) as caught:
        run(123)

    assert isinstance(caught.value, ArgvTypeError)
    assert "int" in str(caught.value)
    assert "list or tuple" in str(caught.value)
