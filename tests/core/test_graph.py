from __future__ import annotations

import pytest

import nbflow
from nbflow.cli.main import exit_code_for
from nbflow.core.completeness import ExistenceCheck
from nbflow.core.errors import GraphError, TaskIdCollisionError
from nbflow.core.events import RetryPolicy
from nbflow.core.graph import GraphBuilder
from nbflow.core.task import task_id_str

#: Two values whose task ids collide: same readable summary (the first 16 characters)
#: and the same 40-bit hash, found by a birthday search over "collision-search<n>".
COLLIDING = ("collision-search363122", "collision-search569777")


class Colliding(nbflow.Task):
    s = nbflow.Parameter()

    def run(self) -> None:
        pass


class BothColliding(nbflow.WrapperTask):
    def requires(self) -> list[Colliding]:
        return [Colliding(s=value) for value in COLLIDING]


def _builder() -> GraphBuilder:
    return GraphBuilder(ExistenceCheck(), RetryPolicy())


def test_graph_colliding_values_really_share_a_task_id() -> None:
    first, second = (Colliding(s=value) for value in COLLIDING)

    assert first.task_id == second.task_id
    assert first is not second


def test_graph_task_id_collision_in_requires_fails_naming_both_tasks() -> None:
    with pytest.raises(TaskIdCollisionError) as caught:
        _builder().discover([BothColliding()])

    message = str(caught.value)
    assert isinstance(caught.value, GraphError)
    assert f"task id {Colliding(s=COLLIDING[0]).task_id!r}" in message
    assert f"Colliding(s={COLLIDING[0]})" in message
    assert f"Colliding(s={COLLIDING[1]})" in message
    assert "Fix: change a parameter value of one of them" in message
    assert exit_code_for(caught.value) == 1


def test_graph_task_id_collision_among_roots_and_across_discoveries() -> None:
    first, second = (Colliding(s=value) for value in COLLIDING)
    builder = _builder()

    with pytest.raises(TaskIdCollisionError):
        _builder().discover([first, second])
    builder.discover([first])
    with pytest.raises(TaskIdCollisionError):
        builder.discover([second])


def test_graph_same_family_and_params_from_a_redefined_class_is_not_a_collision() -> (
    None
):
    def define() -> type[nbflow.Task]:
        class RedefinedInGraph(nbflow.Task):
            n = nbflow.IntParameter()

            def run(self) -> None:
                pass

        return RedefinedInGraph

    old, new = define()(n=1), define()(n=1)
    builder = _builder()
    builder.discover([old])

    discovery = builder.discover([new])

    assert old.task_id == new.task_id == task_id_str("RedefinedInGraph", {"n": "1"})
    assert discovery.specs == []


def test_graph_definition_error_trace_has_no_nbflow_frames() -> None:
    class RequiresTarget(nbflow.Task):
        def requires(self) -> object:
            return nbflow.LocalTarget("x")

        def run(self) -> None:
            pass

    discovery = _builder().discover([RequiresTarget()])

    message, trace = discovery.broken[RequiresTarget().task_id]
    assert message.startswith("DefinitionTypeError: RequiresTarget().requires() (")
    assert f"{__file__}:" in message
    assert "/nbflow/core/" not in trace
    assert "Fix: return the task that makes this target" in trace


def test_graph_marks_tasks_of_classes_defined_in_main_private() -> None:
    class MainDefined(nbflow.Task):
        def run(self):
            pass

    class Imported(nbflow.Task):
        def requires(self):
            return MainDefined()

        def run(self):
            pass

    MainDefined.__module__ = "__main__"  # as if defined in a notebook cell
    builder = GraphBuilder(ExistenceCheck(), RetryPolicy())

    specs = {s.family: s for s in builder.discover([Imported()]).specs}

    assert specs["MainDefined"].private is True
    assert specs["Imported"].private is False
