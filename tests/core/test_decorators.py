from __future__ import annotations

import pickle

import pytest

import nbflow
from nbflow.core.decorators import (
    MissingSubtasksError,
    TaskDecoratorError,
    common_params,
    copies,
    delegates,
    inherits,
    requires,
)
from nbflow.core.errors import MissingParameterError
from nbflow.core.mock import MockTarget
from nbflow.core.registry import REGISTRY


class DecoSource(nbflow.Task):
    day = nbflow.IntParameter()
    region = nbflow.Parameter(default="eu")

    def output(self):
        return MockTarget(f"/deco/source-{self.day}-{self.region}")

    def run(self):
        with self.output().open("w") as out:
            out.write(f"line one {self.day}\nline two\n")


class DecoOther(nbflow.Task):
    size = nbflow.IntParameter(default=7)


@copies(DecoSource)
class DecoCopy(nbflow.Task):
    def output(self):
        return MockTarget(f"/deco/copy-{self.day}")


class DecoPower(nbflow.Task):
    k = nbflow.IntParameter()

    def requires(self):
        return DecoOther(size=self.k)

    def power(self, x: int) -> int:
        return x**self.k


@delegates
class DecoDelegator(nbflow.Task):
    total = 0

    def subtasks(self):
        return [DecoPower(k=1), DecoPower(k=2)]

    def run(self):
        DecoDelegator.total = sum(t.power(3) for t in self.subtasks())

    def complete(self):
        return DecoDelegator.total != 0


def test_inherits_copies_parameters_and_clones_the_parent() -> None:
    @inherits(DecoSource)
    class DecoChild(nbflow.Task):
        extra = nbflow.IntParameter(default=1)

        def requires(self):
            return self.clone_parent()

    child = DecoChild(day=3)

    assert [name for name, _ in DecoChild.get_params()] == ["day", "region", "extra"]
    assert child.requires() == DecoSource(day=3)
    assert str(child) == "DecoChild(day=3, region=eu, extra=1)"
    assert DecoChild.__name__ == "DecoChild"


def test_inherits_keeps_the_class_own_parameter_or_removal() -> None:
    @inherits(DecoSource)
    class DecoOverride(nbflow.Task):
        region = nbflow.Parameter(default="us")

    @inherits(DecoSource)
    class DecoRemoved(nbflow.Task):
        region = None

    assert DecoOverride(day=1).region == "us"
    assert "region" not in dict(DecoRemoved.get_params())
    with pytest.raises(MissingParameterError):
        DecoRemoved()


def test_inherits_several_parents_positional_and_by_name() -> None:
    @inherits(DecoSource, DecoOther)
    class DecoBoth(nbflow.Task):
        pass

    @inherits(first=DecoSource, second=DecoOther)
    class DecoNamed(nbflow.Task):
        pass

    both, named = DecoBoth(day=2, size=4), DecoNamed(day=2)

    assert both.clone_parents() == [DecoSource(day=2), DecoOther(size=4)]
    assert named.clone_parents() == {"first": DecoSource(day=2), "second": DecoOther()}
    assert not hasattr(named, "clone_parent")


def test_inherits_clone_parent_accepts_changed_values() -> None:
    @inherits(DecoSource)
    class DecoShifted(nbflow.Task):
        pass

    assert DecoShifted(day=1).clone_parent(day=9) == DecoSource(day=9)


def test_inherits_wrong_arguments_say_what_and_how_to_fix() -> None:
    with pytest.raises(TypeError) as empty:
        inherits()
    with pytest.raises(TaskDecoratorError) as mixed:
        inherits(DecoSource, other=DecoOther)
    with pytest.raises(TaskDecoratorError) as instance:
        inherits(DecoOther())

    assert "Expected task classes, either all positional or all by keyword" in str(
        empty.value
    )
    assert "Fix: name at least one task class" in str(mixed.value)
    assert "got DecoOther(size=7)" in str(instance.value)
    assert "Fix: pass the classes themselves" in str(instance.value)


def test_requires_one_parent_several_and_named() -> None:
    @requires(DecoOther)
    class DecoOne(nbflow.Task):
        pass

    @requires(DecoSource, DecoOther)
    class DecoTwo(nbflow.Task):
        pass

    @requires(a=DecoOther, b=DecoOther)
    class DecoDict(nbflow.Task):
        pass

    assert DecoOne(size=2).requires() == DecoOther(size=2)
    assert DecoTwo(day=1).requires() == [DecoSource(day=1), DecoOther()]
    assert DecoDict().requires() == {"a": DecoOther(), "b": DecoOther()}
    with pytest.raises(TypeError):
        requires()


def test_requires_runs_the_parent_before_the_child() -> None:
    ran: list[str] = []

    class DecoParentRun(nbflow.Task):
        n = nbflow.IntParameter()

        def run(self):
            ran.append(f"parent {self.n}")

        def complete(self):
            return f"parent {self.n}" in ran

    @requires(DecoParentRun)
    class DecoChildRun(nbflow.Task):
        def run(self):
            ran.append(f"child {self.n}")

        def complete(self):
            return f"child {self.n}" in ran

    result = nbflow.build([DecoChildRun(n=5)], local_scheduler=True)

    assert result
    assert ran == ["parent 5", "child 5"]


def test_common_params_takes_the_shared_values_only() -> None:
    @inherits(DecoSource)
    class DecoWide(nbflow.Task):
        size = nbflow.IntParameter(default=2)

    wide = DecoWide(day=4)

    assert common_params(wide, DecoSource) == {"day": 4, "region": "eu"}
    assert common_params(wide, DecoOther) == {"size": 2}
    with pytest.raises(TypeError, match="common_params"):
        common_params(DecoOther, wide)  # type: ignore[arg-type]


def test_copies_copies_the_parent_output_line_by_line() -> None:
    MockTarget.fs.clear()

    assert nbflow.build([DecoCopy(day=8)], local_scheduler=True)

    copied = MockTarget.fs.get_data("/deco/copy-8")
    assert copied == b"line one 8\nline two\n"
    assert copied == MockTarget.fs.get_data("/deco/source-8-eu")


def test_copies_result_keeps_name_registry_entry_and_pickles() -> None:
    task = DecoCopy(day=1)

    assert type(task).__name__ == "DecoCopy"
    assert REGISTRY.lookup("DecoCopy") is DecoCopy
    assert pickle.loads(pickle.dumps(task)) == task


def test_delegates_runs_subtasks_and_takes_their_requirements() -> None:
    DecoDelegator.total = 0
    task = DecoDelegator()

    deps = task.deps()
    assert nbflow.build([task], local_scheduler=True)

    assert deps == [DecoOther(size=1), DecoOther(size=2)]
    assert DecoDelegator.total == 3 + 9
    assert REGISTRY.lookup("DecoDelegator") is DecoDelegator


def test_delegates_without_subtasks_says_how_to_fix() -> None:
    with pytest.raises(AttributeError) as caught:

        @delegates
        class DecoNoSubtasks(nbflow.Task):
            pass

    assert isinstance(caught.value, MissingSubtasksError)
    assert "has no subtasks() method" in str(caught.value)
    assert "Fix: define subtasks(self)" in str(caught.value)


def test_wrapper_keeps_the_namespace_of_its_definition() -> None:
    nbflow.namespace("deco_space", scope=__name__)
    try:

        class DecoSpaced(nbflow.Task):
            def subtasks(self):
                return []

    finally:
        nbflow.namespace(None, scope=__name__)
    wrapped = delegates(DecoSpaced)

    assert wrapped.get_task_family() == "deco_space.DecoSpaced"
    assert REGISTRY.lookup("deco_space.DecoSpaced") is wrapped
