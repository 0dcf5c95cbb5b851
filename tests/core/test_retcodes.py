from __future__ import annotations

import pytest

import nbflow
from nbflow.core.retcodes import luigi_run


class RetcodeFailing(nbflow.Task):
    def run(self) -> None:
        raise ValueError("boom")


class RetcodeMissing(nbflow.ExternalTask):
    def complete(self) -> bool:
        return False


class RetcodeNeedsParam(nbflow.Task):
    param = nbflow.Parameter()

    def complete(self) -> bool:
        return True


def _exit_code(argv: list[str]) -> object:
    with pytest.raises(SystemExit) as caught:
        luigi_run([*argv, "--local-scheduler", "--no-lock"])
    return caught.value.code


def test_luigi_run_exits_with_the_retcode_of_the_outcome() -> None:
    assert _exit_code(["RetcodeFailing"]) == 1
    assert _exit_code(["RetcodeFailing", "--retcode-task-failed", "5"]) == 5
    assert _exit_code(["RetcodeMissing"]) == 0
    assert _exit_code(["RetcodeMissing", "--retcode-missing-data", "6"]) == 6
    assert _exit_code(["RetcodeNeedsParam", "--param", "x"]) == 0


def test_luigi_run_task_that_cannot_be_built_is_unhandled() -> None:
    assert _exit_code(["RetcodeNeedsParam"]) == 4
    assert _exit_code(["RetcodeNeedsParam", "--retcode-unhandled-exception", "3"]) == 3
