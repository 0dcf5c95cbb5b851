from __future__ import annotations

import nbflow
from nbflow.core.output_walk import flatten_output
from nbflow.core.target import MemoryTarget


class WalkLeaf(nbflow.Task):
    name = nbflow.Parameter()

    def output(self):
        return {"data": MemoryTarget(f"{self.name}.csv"), "log": MemoryTarget("log")}


class WalkGroup(nbflow.WrapperTask):
    def requires(self):
        return [WalkLeaf(name="a"), WalkInner(), WalkLeaf(name="a")]


class WalkInner(nbflow.WrapperTask):
    def requires(self):
        return {"b": WalkLeaf(name="b"), "back": WalkGroup()}


def test_flatten_output_walks_through_wrappers_breadth_first_once() -> None:
    paths = [target.path for target in flatten_output(WalkGroup())]

    assert paths == ["a.csv", "log", "b.csv", "log"]


def test_flatten_output_of_a_task_with_outputs_is_its_outputs() -> None:
    assert [t.path for t in flatten_output(WalkLeaf(name="c"))] == ["c.csv", "log"]


def test_flatten_output_of_a_task_without_anything_is_empty() -> None:
    class WalkNothing(nbflow.Task):
        pass

    assert flatten_output(WalkNothing()) == []
