from __future__ import annotations

from typing import Any

import nbflow
from nbflow.core.config import RetCodes
from nbflow.core.summary import RunResult


class Numbered(nbflow.Task):
    i = nbflow.IntParameter()

    def output(self) -> nbflow.MemoryTarget:
        return nbflow.MemoryTarget(f"summary-numbered-{self.i}")

    def run(self) -> None:
        self.output().put("x")


class AllNumbered(nbflow.WrapperTask):
    numbers = nbflow.ListParameter()

    def requires(self) -> list[Numbered]:
        return [Numbered(i=i) for i in self.numbers]


def _build(*tasks: nbflow.Task) -> RunResult:
    result: Any = nbflow.build(list(tasks), detailed_summary=True, workers=1)
    assert isinstance(result, RunResult)
    return result


def test_summary_integer_range_is_ordered_as_numbers() -> None:
    result = _build(AllNumbered(numbers=list(range(1, 13))))

    assert "- 12 Numbered(i=1...12)" in result.summary_text


def test_summary_integer_values_with_gaps_are_listed_not_ranged() -> None:
    result = _build(AllNumbered(numbers=[2, 30, 100]))

    assert "- 3 Numbered(i=2,30,100)" in result.summary_text


class RequiresName(nbflow.Task):
    def requires(self) -> str:
        return "Numbered"

    def run(self) -> None:
        pass


class YieldsNumber(nbflow.Task):
    def output(self) -> nbflow.MemoryTarget:
        return nbflow.MemoryTarget("summary-yields-number")

    def run(self) -> Any:
        yield 42


class Fails(nbflow.Task):
    def run(self) -> None:
        raise ValueError("ordinary failure")


def test_summary_definition_errors_exit_with_2() -> None:
    result = _build(RequiresName(), YieldsNumber())

    assert sorted(result.definition_errors) == sorted(
        [RequiresName().task_id, YieldsNumber().task_id]
    )
    assert result.exit_code(RetCodes()) == 2


def test_summary_ordinary_failure_keeps_task_failed_code() -> None:
    result = _build(Fails())

    assert result.definition_errors == []
    assert result.exit_code(RetCodes()) == 1
