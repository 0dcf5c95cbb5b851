from __future__ import annotations

import pytest

import nbflow
from nbflow.core import cmdline
from nbflow.core.errors import UnknownParameterError


class Tool(nbflow.Task):
    executor = nbflow.Parameter(default="none")
    size = nbflow.IntParameter(default=1, description="How many.")
    verbose = nbflow.BoolParameter()


def test_cmdline_run_options_before_and_after_the_task() -> None:
    invocation = cmdline.parse(
        ["--workers", "3", "Tool", "--size", "2", "--keep-alive"]
    )

    assert invocation.task_name == "Tool"
    assert invocation.options == {"workers": "3", "keep_alive": True}
    assert invocation.params == {"size": "2"}
    assert invocation.overrides == {}


def test_cmdline_task_parameter_wins_over_run_option_of_same_name() -> None:
    invocation = cmdline.parse(["Tool", "--executor", "sync"])

    assert invocation.params == {"executor": "sync"}
    assert "executor" not in invocation.options


def test_cmdline_flag_parameter_without_value_is_true() -> None:
    invocation = cmdline.parse(["Tool", "--verbose", "--size=4"])

    assert invocation.params == {"verbose": "true", "size": "4"}


def test_cmdline_family_parameter_for_any_class() -> None:
    invocation = cmdline.parse(["Tool", "--Tool-size", "5"])

    assert invocation.overrides == {"Tool": {"size": "5"}}


def test_cmdline_unknown_parameter_lists_known_ones() -> None:
    with pytest.raises(UnknownParameterError) as caught:
        cmdline.parse(["Tool", "--sise", "5"])

    message = str(caught.value)
    assert "unknown parameter 'sise'" in message
    assert "Did you mean: size?" in message


def test_cmdline_module_may_be_a_python_file(tmp_path) -> None:
    script = tmp_path / "file_pipeline.py"
    script.write_text(
        "import nbflow\nclass FromFile(nbflow.Task):\n    n = nbflow.IntParameter()\n"
    )

    invocation = cmdline.parse(["--module", str(script), "FromFile", "--n", "1"])

    assert invocation.params == {"n": "1"}


def test_cmdline_missing_file_or_module_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(cmdline.UsageError, match="no such Python file"):
        cmdline.parse(["--module", str(tmp_path / "nope.py"), "X"])
    with pytest.raises(
        cmdline.UsageError, match="cannot import module 'no_such_mod'.*Fix"
    ):
        cmdline.parse(["--module", "no_such_mod", "X"])


def test_cmdline_no_task_is_a_usage_error() -> None:
    with pytest.raises(cmdline.UsageError, match="no task named"):
        cmdline.parse(["--workers", "2"])


def test_describe_params_lists_descriptions_and_defaults() -> None:
    text = cmdline.describe_params(Tool)

    assert "--size" in text
    assert "How many." in text
    assert "(default: 1)" in text
    assert "--verbose" in text


def test_cmdline_force_and_accept_collect_every_value() -> None:
    invocation = cmdline.parse(
        ["Tool", "--force", "Tool", "--force=Other", "--accept", "X", "--dry-run"]
    )

    assert invocation.options == {
        "force": ["Tool", "Other"],
        "accept": ["X"],
        "dry_run": True,
    }


class CmdlineSectionless(nbflow.Config):
    use_cmdline_section = False
    cmdline_bare_cats = nbflow.IntParameter(default=0)


class CmdlineDogs(nbflow.Config):
    dogs = nbflow.IntParameter(default=0)


def test_cmdline_family_parameter_before_the_task_name() -> None:
    invocation = cmdline.parse(["--CmdlineDogs-dogs", "4", "--workers", "2", "Tool"])

    assert invocation.task_name == "Tool"
    assert invocation.overrides == {"CmdlineDogs": {"dogs": "4"}}
    assert invocation.options == {"workers": "2"}


def test_cmdline_sectionless_config_takes_bare_options_anywhere() -> None:
    before = cmdline.parse(["--cmdline-bare-cats", "3", "Tool"])
    after = cmdline.parse(["Tool", "--cmdline-bare-cats=5"])

    assert before.overrides == {"CmdlineSectionless": {"cmdline_bare_cats": "3"}}
    assert after.overrides == {"CmdlineSectionless": {"cmdline_bare_cats": "5"}}


def test_cmdline_config_section_keys_are_options() -> None:
    invocation = cmdline.parse(
        ["Tool", "--retcode-task-failed", "5", "--worker-task-limit=2"]
    )

    assert invocation.overrides == {
        "retcode": {"task_failed": "5"},
        "worker": {"task_limit": "2"},
    }


def test_cmdline_options_may_be_abbreviated_when_unambiguous() -> None:
    invocation = cmdline.parse(
        ["--local-sch", "Tool", "--siz", "7", "--CmdlineDo", "1"]
    )

    assert invocation.options == {"local_scheduler": True}
    assert invocation.params == {"size": "7"}
    assert invocation.overrides == {"CmdlineDogs": {"dogs": "1"}}


def test_cmdline_ambiguous_abbreviation_is_a_usage_error() -> None:
    with pytest.raises(cmdline.UsageError) as caught:
        cmdline.parse(["Tool", "--lock-", "3"])

    message = str(caught.value)
    assert "ambiguous option" in message
    assert "--lock-pid-dir" in message
    assert "--lock-size" in message


def test_cmdline_switch_before_the_task_does_not_eat_the_task_name() -> None:
    invocation = cmdline.parse(["--Tool-verbose", "Tool", "--verbose", "false"])

    assert invocation.task_name == "Tool"
    assert invocation.overrides == {"Tool": {"verbose": "true"}}
    assert invocation.params == {"verbose": "false"}


def test_cmdline_unknown_option_before_the_task_says_where_params_go() -> None:
    with pytest.raises(cmdline.UsageError, match="after its name"):
        cmdline.parse(["--size", "3", "Tool"])


def test_cmdline_help_without_a_task_is_not_an_error() -> None:
    invocation = cmdline.parse(["--help-all"])

    assert invocation.wants_help
    assert invocation.task_cls is None
