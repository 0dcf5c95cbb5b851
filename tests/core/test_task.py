from __future__ import annotations

import datetime as dt
import pickle

import luigi
import pytest

import nbflow
from nbflow.core.errors import (
    AmbiguousTaskError,
    DefinitionTypeError,
    MissingParameterError,
    ParameterTypeWarning,
    ParameterValueError,
    UnknownParameterError,
    UnknownTaskError,
)
from nbflow.core.registry import REGISTRY
from nbflow.core.structure import flatten


def _pair(lib, name: str):
    """Define the same parameterised task under nbflow or luigi."""

    class Sample(lib.Task):
        day = lib.DateParameter()
        count = lib.IntParameter(default=3)
        ratio = lib.FloatParameter(default=0.5)
        tags = lib.ListParameter(default=["a", "b"])
        options = lib.DictParameter(default={"k": 1})
        label = lib.Parameter(default="hello world/x")
        hidden = lib.Parameter(default="h", significant=False)
        month = lib.MonthParameter(default=dt.date(2024, 6, 1))
        flag = lib.BoolParameter(default=True)
        span = lib.TimeDeltaParameter(default=dt.timedelta(days=2))

    Sample.__name__ = Sample.__qualname__ = name
    return Sample


def test_task_id_and_repr_match_luigi_exactly() -> None:
    ours = _pair(nbflow, "Sample")
    theirs = _pair(luigi, "Sample")

    for kwargs in (
        {"day": dt.date(2024, 6, 1)},
        {"day": dt.date(2023, 1, 31), "count": 7},
    ):
        assert ours(**kwargs).task_id == theirs(**kwargs).task_id
        assert repr(ours(**kwargs)) == repr(theirs(**kwargs))
        assert ours(**kwargs).to_str_params() == theirs(**kwargs).to_str_params()


def test_task_instances_are_cached_per_class_and_values() -> None:
    class Cached(nbflow.Task):
        n = nbflow.IntParameter()

    assert Cached(1) is Cached(n=1)
    assert Cached(1) is not Cached(2)
    assert Cached(1) == Cached(n=1)
    assert hash(Cached(1)) == hash(Cached.from_str_params({"n": "1"}))


def test_task_redefinition_replaces_class_without_ambiguity() -> None:
    namespace: dict = {}
    source = (
        "import nbflow\n"
        "class Redefined(nbflow.Task):\n"
        "    def run(self):\n"
        "        return {version}\n"
    )
    exec(compile(source.format(version=1), "<cell1>", "exec"), namespace)
    first = namespace["Redefined"]
    exec(compile(source.format(version=2), "<cell2>", "exec"), namespace)
    second = namespace["Redefined"]

    assert REGISTRY.lookup("Redefined") is second
    assert second().run() == 2
    assert first() is not second()
    assert type(second()) is second


def test_task_same_name_in_two_modules_is_ambiguous() -> None:
    for module in ("pkg_one.tasks", "pkg_two.tasks"):
        exec(
            "import nbflow\nclass Twin(nbflow.Task):\n    pass\n",
            {"__name__": module},
        )

    with pytest.raises(AmbiguousTaskError) as caught:
        REGISTRY.lookup("Twin")

    message = str(caught.value)
    assert "pkg_one.tasks.Twin" in message
    assert "pkg_two.tasks.Twin" in message
    assert REGISTRY.lookup("pkg_two.tasks.Twin").__module__ == "pkg_two.tasks"


def test_task_unknown_name_suggests_close_names() -> None:
    class Aggregate(nbflow.Task):
        pass

    with pytest.raises(UnknownTaskError, match="Did you mean: Aggregate"):
        REGISTRY.lookup("Agregate")


def test_task_namespace_prefixes_family() -> None:
    class Spaced(nbflow.Task):
        task_namespace = "etl"

    class Child(Spaced):
        pass

    assert Spaced.get_task_family() == "etl.Spaced"
    assert Child.get_task_family() == "etl.Child"
    assert REGISTRY.lookup("etl.Child") is Child


def test_task_constructor_errors_name_task_parameter_and_fix() -> None:
    class Strict(nbflow.Task):
        n = nbflow.IntParameter()

    with pytest.raises(MissingParameterError) as missing:
        Strict()
    assert "Strict: missing value for parameter 'n'" in str(missing.value)
    assert "Fix: pass Strict(n=...), --n VALUE" in str(missing.value)

    with pytest.raises(ParameterValueError) as invalid:
        Strict(n="abc")
    assert "Strict.n: invalid value (got 'abc')" in str(invalid.value)

    with pytest.raises(
        UnknownParameterError, match="unknown parameter 'm'.*Expected one of: n"
    ):
        Strict(m=1)

    with pytest.raises(UnknownParameterError, match="at most 1 positional"):
        Strict(1, 2)


def test_task_unhashable_parameter_value_is_a_clear_error() -> None:
    class Holder(nbflow.Task):
        value = nbflow.Parameter()

    with pytest.raises(ParameterValueError) as caught:
        Holder(value={"a": 1})

    message = str(caught.value)
    assert "Holder.value" in message
    assert "hashable" in message
    assert "DictParameter" in message


def test_task_list_values_become_tuples_like_luigi() -> None:
    class Listy(nbflow.Task):
        items = nbflow.Parameter()

    with pytest.warns(ParameterTypeWarning, match='"items" with value "\\(1, 2\\)"'):
        assert Listy(items=[1, 2]).items == (1, 2)


def test_task_clone_and_str_params_round_trip() -> None:
    class Base(nbflow.Task):
        a = nbflow.IntParameter()
        b = nbflow.Parameter(default="x")

    class Other(nbflow.Task):
        a = nbflow.IntParameter()

    task = Base(a=1, b="y")

    assert task.clone(b="z") is Base(a=1, b="z")
    assert task.clone(Other) is Other(a=1)
    assert Base.from_str_params(task.to_str_params()) is task
    assert Base.get_param_names() == ["a", "b"]


def test_task_input_mirrors_requires_shape() -> None:
    class Leaf(nbflow.Task):
        n = nbflow.IntParameter()

        def output(self):
            return nbflow.MemoryTarget(f"leaf-{self.n}")

    class Root(nbflow.Task):
        def requires(self):
            return {"one": Leaf(1), "more": [Leaf(2), (Leaf(3),)]}

    inputs = Root().input()

    assert inputs["one"].path == "leaf-1"
    assert [t.path for t in flatten(inputs["more"])] == ["leaf-2", "leaf-3"]
    assert Root().deps() == [Leaf(1), Leaf(2), Leaf(3)]


def test_task_pickles_and_comes_back_equal() -> None:
    task = _module_task(5)

    assert pickle.loads(pickle.dumps(task)) == task


class Picklable(nbflow.Task):
    n = nbflow.IntParameter()


def _module_task(n: int) -> Picklable:
    return Picklable(n=n)


def test_task_event_handlers_fire_for_subclasses() -> None:
    seen: list[str] = []

    class Handled(nbflow.Task):
        def run(self):
            pass

    @Handled.event_handler(nbflow.Event.SUCCESS)
    def on_success(task):
        seen.append(repr(task))

    nbflow.build([Handled()])

    assert seen == ["Handled()"]


def test_task_externalize_never_runs() -> None:
    class Made(nbflow.Task):
        def output(self):
            return nbflow.MemoryTarget("made-missing")

    external = nbflow.externalize(Made())

    assert external.run is None
    assert external.task_id == Made().task_id
    assert REGISTRY.lookup("Made") is Made


# --- requires() shapes: input(), deps(), flatten(), as Luigi ---------------------------

_SHAPES = {
    "task": lambda part: part(i=0),
    "list": lambda part: [part(i=0), part(i=1)],
    "tuple": lambda part: (part(i=0), part(i=1)),
    "dict": lambda part: {"a": part(i=0), "b": part(i=1)},
    "generator": lambda part: (part(i=i) for i in range(3)),
    "nested": lambda part: {"a": [part(i=0), (part(i=1),)], "b": {"c": part(i=2)}},
    "nested generator": lambda part: [(part(i=i) for i in range(2)), part(i=5)],
    "set": lambda part: {part(i=0)},
    "map object": lambda part: map(lambda i: part(i=i), range(2)),  # noqa: C417
    "dict values": lambda part: {"a": part(i=0), "b": part(i=1)}.values(),
}


def _shaped_pair(lib, shape: str):
    """Define Part and Whole under nbflow or luigi; Whole.requires() has ``shape``."""

    class Part(lib.Task):
        task_namespace = f"shape_{lib.__name__}"
        i = lib.IntParameter()

        def output(self):
            return lib.LocalTarget(f"part/{self.i}.txt")

    class Whole(lib.Task):
        task_namespace = f"shape_{lib.__name__}"

        def requires(self):
            return _SHAPES[shape](Part)

    return Whole()


def _paths(struct):
    """Replace targets by their paths, keeping Luigi's or nbflow's shape and types."""
    if hasattr(struct, "path"):
        return struct.path
    if isinstance(struct, dict):
        return (type(struct).__name__, {k: _paths(v) for k, v in struct.items()})
    if isinstance(struct, (list, tuple)):
        return (type(struct).__name__, [_paths(v) for v in struct])
    return struct


@pytest.mark.parametrize("shape", list(_SHAPES))
def test_task_input_deps_and_flatten_match_luigi_for_every_requires_shape(
    shape: str,
) -> None:
    ours, theirs = _shaped_pair(nbflow, shape), _shaped_pair(luigi, shape)

    first_input, second_input = ours.input(), ours.input()
    deps = [d.i for d in ours.deps()]

    assert _paths(first_input) == _paths(theirs.input())
    assert _paths(second_input) == _paths(first_input)  # requires() evaluated again
    assert deps == [d.i for d in theirs.deps()]
    assert [d.i for d in ours.deps()] == deps
    assert [d.i for d in flatten(ours.requires())] == [
        d.i for d in luigi.task.flatten(theirs.requires())
    ]


def test_task_generator_requires_runs_with_inputs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    class GenPart(nbflow.Task):
        i = nbflow.IntParameter()

        def output(self):
            return nbflow.LocalTarget(f"gen/{self.i}.txt")

        def run(self):
            with self.output().open("w") as out:
                out.write(str(self.i))

    class GenWhole(nbflow.Task):
        def requires(self):
            for i in (2, 0, 1):
                yield GenPart(i=i)

        def output(self):
            return nbflow.LocalTarget("gen/whole.txt")

        def run(self):
            with self.output().open("w") as out:
                out.write(",".join(_read(target) for target in self.input()))

    assert nbflow.build([GenWhole()], local_scheduler=True)
    assert (tmp_path / "gen" / "whole.txt").read_text() == "2,0,1"


def test_task_requires_none_means_no_requirements() -> None:
    class NoneRequired(nbflow.Task):
        def requires(self):
            return None

    assert NoneRequired().deps() == []
    assert NoneRequired().input() is None


def _read(target) -> str:
    with target.open() as stream:
        return stream.read()


def test_task_flatten_matches_luigi_on_plain_values() -> None:
    values = [None, "abc", 42, [1, (2, {3}), {"k": [4, None]}], (x for x in "ab"), {}]

    for value in values:
        copy = list(value) if hasattr(value, "__next__") else value
        assert flatten(copy) == luigi.task.flatten(copy)


def test_task_input_names_a_requirement_that_is_not_a_task() -> None:
    class NotATaskInput(nbflow.Task):
        def requires(self):
            return ["NotATaskInputPart"]

    with pytest.raises(DefinitionTypeError) as caught:
        NotATaskInput().input()

    message = str(caught.value)
    assert message.startswith("NotATaskInput().requires() (")
    assert f"{__file__}:" in message
    assert "got 'NotATaskInputPart'" in message
    assert (
        "Fix: return an instance such as NotATaskInputPart(), not the name" in message
    )


@pytest.mark.parametrize(
    ("body", "method", "fix"),
    [
        (
            "def requires(self):\n        return nbflow.LocalTarget('x')",
            "requires",
            "Fix: return the task that makes this target",
        ),
        (
            "def output(self):\n        return 'out.txt'",
            "output",
            "Fix: wrap the path in a target: return LocalTarget('out.txt')",
        ),
    ],
)
def test_task_definition_error_names_the_method_file_and_line(
    tmp_path, body: str, method: str, fix: str
) -> None:
    source = tmp_path / "defs_with_error.py"
    source.write_text(
        f"import nbflow\n\n\nclass Wrong(nbflow.Task):\n    {body}\n", "utf-8"
    )
    namespace: dict[str, object] = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    task = namespace["Wrong"]()

    with pytest.raises(DefinitionTypeError) as caught:
        task.deps() if method == "requires" else task.complete()

    message = str(caught.value)
    assert message.startswith(f"Wrong().{method}() ({source}:5): ")
    assert fix in message
