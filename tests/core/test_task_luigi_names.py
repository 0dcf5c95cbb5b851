"""Luigi's task API in nbflow: the base class, families, namespaces, externalize, clone."""

from __future__ import annotations

import abc
import pickle
import warnings
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.config import Settings, use_settings
from nbflow.core.errors import ParameterDeprecationWarning, UnconsumedParameterWarning
from nbflow.core.registry import REGISTRY
from nbflow.core.target import MemoryFileSystem, MemoryTarget
from nbflow.core.task import HandlerNotRegisteredError, externalize, namespace

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def registry() -> Iterator[None]:
    """Leave the registry (classes and namespaces) as the test found it."""
    snapshot = REGISTRY.snapshot()
    yield
    REGISTRY.restore(snapshot)


def _define(module: str, source: str) -> dict[str, Any]:
    """Run ``source`` as if it were module ``module``; return what it defined."""
    scope: dict[str, Any] = {"__name__": module, "nbflow": nbflow}
    exec(compile(source, f"<{module}>", "exec"), scope)
    return scope


def test_task_base_class_is_itself_a_task_that_pickles() -> None:
    task = nbflow.Task()

    restored = pickle.loads(pickle.dumps(task))

    assert task is nbflow.Task()
    assert task.task_id == "Task__99914b932b"
    assert restored == task


def test_task_family_read_on_the_class_is_the_family_string() -> None:
    class LuigiNamesFamily(nbflow.Task):
        task_namespace = "names"

    assert LuigiNamesFamily.task_family == "names.LuigiNamesFamily"
    assert LuigiNamesFamily().task_family == "names.LuigiNamesFamily"
    assert nbflow.Task.task_family == "Task"


def test_task_with_an_abstract_method_left_cannot_be_instantiated() -> None:
    class LuigiNamesAbstract(nbflow.Task):
        @abc.abstractmethod
        def location(self) -> str: ...

    class LuigiNamesConcrete(LuigiNamesAbstract):
        def location(self) -> str:
            return "here"

    with pytest.raises(TypeError, match="location"):
        LuigiNamesAbstract()
    assert LuigiNamesConcrete().location() == "here"


@pytest.mark.usefixtures("registry")
def test_namespace_reset_for_a_scope_leaves_the_global_namespace_in_force() -> None:
    namespace("outer")
    namespace("inner", scope="names_pkg.mod")
    namespace(scope="names_pkg.mod")  # reset: not a namespace of "" for this scope

    defined = _define("names_pkg.mod", "class Reset(nbflow.Task):\n    pass\n")

    assert defined["Reset"].get_task_family() == "outer.Reset"


@pytest.mark.usefixtures("registry")
def test_namespace_empty_for_a_longer_scope_falls_back_to_the_shorter_one() -> None:
    namespace("pkg_ns", scope="names_pkg2")
    namespace(scope="names_pkg2.sub")

    defined = _define("names_pkg2.sub.mod", "class Deep(nbflow.Task):\n    pass\n")

    assert defined["Deep"].get_task_family() == "pkg_ns.Deep"


def test_task_namespace_is_empty_text_unless_set_to_none() -> None:
    class LuigiNamesPlain(nbflow.Task):
        pass

    class LuigiNamesNone(nbflow.Task):
        task_namespace = None

    assert LuigiNamesPlain.get_task_namespace() == ""
    assert LuigiNamesNone.get_task_namespace() is None
    assert LuigiNamesNone.get_task_family() == "LuigiNamesNone"


@pytest.mark.usefixtures("registry")
def test_externalize_keeps_the_task_id_and_leaves_the_original_runnable() -> None:
    namespace("ext_ns")
    defined = _define(
        "names_ext",
        "class Produce(nbflow.Task):\n"
        "    n = nbflow.IntParameter()\n"
        "    def run(self):\n"
        "        pass\n",
    )
    namespace()
    produce = defined["Produce"]
    task = produce(n=1)

    external_task = externalize(task)
    external_class = externalize(produce)

    luigis_id = "ext_ns.Produce_1_f4fe3360f0"  # Luigi 3.8.1 gives this id
    assert external_task.task_id == task.task_id == luigis_id
    assert external_task == task
    assert external_task.run is None
    assert task.run is not None
    assert external_class(n=1).task_id == task.task_id
    assert external_class.run is None
    assert REGISTRY.lookup("ext_ns.Produce") is produce


def test_externalized_task_pickles_and_stays_external() -> None:
    task = externalize(nbflow.Task())

    restored = pickle.loads(pickle.dumps(task))

    assert restored == task
    assert restored.run is None


def test_clone_takes_plain_attributes_and_properties_of_the_source() -> None:
    class LuigiNamesSum(nbflow.Task):
        lo = nbflow.IntParameter()
        hi = nbflow.IntParameter()
        step = nbflow.IntParameter(default=1)

    class LuigiNamesSource(nbflow.Task):
        lo = 1

        @property
        def hi(self) -> int:
            return 2

    clone = LuigiNamesSource().clone(cls=LuigiNamesSum)

    assert (clone.lo, clone.hi, clone.step) == (1, 2, 1)


def test_no_unpicklable_properties_drops_callbacks_set_on_the_instance() -> None:
    task = nbflow.Task()
    task.set_status_message = lambda message: message  # type: ignore[method-assign, assignment]
    try:
        with pytest.raises(AttributeError, match="lambda"):
            pickle.dumps(task)
        with task.no_unpicklable_properties():
            pickle.dumps(task)

        assert task.set_status_message("kept") == "kept"  # type: ignore[func-returns-value]
    finally:
        del task.set_status_message  # the shared Task() instance, as it was


def test_disable_window_seconds_is_disable_window_with_a_deprecation_warning() -> None:
    class LuigiNamesWindow(nbflow.Task):
        disable_window = 17

    with pytest.warns(ParameterDeprecationWarning, match="use disable_window"):
        seconds = LuigiNamesWindow().disable_window_seconds

    assert seconds == 17


def test_remove_event_handler_stops_the_handler() -> None:
    store = MemoryFileSystem()
    started: list[str] = []

    class LuigiNamesEvents(nbflow.Task):
        def output(self) -> MemoryTarget:
            return MemoryTarget("events", store)

        def run(self) -> None:
            self.output().open("w").close()

    @LuigiNamesEvents.event_handler(nbflow.Event.START)
    def on_start(task: nbflow.Task) -> None:
        started.append(task.task_id)

    nbflow.build([LuigiNamesEvents()], local_scheduler=True)
    LuigiNamesEvents.remove_event_handler(nbflow.Event.START, on_start)
    store.clear()
    nbflow.build([LuigiNamesEvents()], local_scheduler=True)

    assert started == [LuigiNamesEvents().task_id]


def test_remove_event_handler_not_registered_says_so() -> None:
    class LuigiNamesNoHandler(nbflow.Task):
        pass

    with pytest.raises(HandlerNotRegisteredError) as caught:
        LuigiNamesNoHandler.remove_event_handler(nbflow.Event.START, print)

    message = str(caught.value)
    assert "LuigiNamesNoHandler.remove_event_handler: no such handler" in message
    assert "Expected a callback registered with" in message
    assert "Fix: " in message


def test_processing_time_fires_for_a_task_that_succeeded_only() -> None:
    store = MemoryFileSystem()
    timed: list[tuple[str, float]] = []

    class LuigiNamesTimed(nbflow.Task):
        fail = nbflow.BoolParameter(default=False)

        def output(self) -> MemoryTarget:
            return MemoryTarget(f"timed-{self.fail}", store)

        def run(self) -> None:
            if self.fail:
                raise RuntimeError
            self.output().open("w").close()

    @LuigiNamesTimed.event_handler(nbflow.Event.PROCESSING_TIME)
    def on_time(task: nbflow.Task, seconds: float) -> None:
        timed.append((task.task_id, seconds))

    nbflow.build([LuigiNamesTimed(fail=True)], local_scheduler=True)
    nbflow.build([LuigiNamesTimed()], local_scheduler=True)

    assert [task_id for task_id, _ in timed] == [LuigiNamesTimed().task_id]
    assert timed[0][1] >= 0


@pytest.mark.usefixtures("registry")
def test_lookup_finds_a_class_renamed_after_its_definition() -> None:
    defined = _define(
        "names_renamed",
        "def make(name):\n"
        "    class Made(nbflow.WrapperTask):\n"
        "        pass\n"
        "    Made.__name__ = name\n"
        "    return Made\n"
        "Renamed = make('LuigiNamesRenamed')\n",
    )

    assert REGISTRY.lookup("LuigiNamesRenamed") is defined["Renamed"]


def test_config_option_no_parameter_reads_warns_once_per_class_and_option() -> None:
    class LuigiNamesConsumer(nbflow.Task):
        a = nbflow.Parameter(default="x")
        ignore_unconsumed = frozenset({"c"})

    settings = Settings.from_mapping(
        {"LuigiNamesConsumer": {"a": "1", "b": "2", "c": "3"}, "core": {"x": "1"}}
    )

    with use_settings(settings), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = LuigiNamesConsumer()
        LuigiNamesConsumer(a="other")

    expected = (
        "The configuration contains the parameter 'b' with value '2' that is not "
        "consumed by the task 'LuigiNamesConsumer'."
    )
    assert task.a == "1"
    assert [(w.category, str(w.message)) for w in caught] == [
        (UnconsumedParameterWarning, expected)
    ]
    assert caught[0].filename == __file__


def test_config_dashed_option_of_a_parameter_is_consumed() -> None:
    class LuigiNamesDashed(nbflow.Task):
        dash_param = nbflow.Parameter()
        camelParam = nbflow.Parameter()  # noqa: N815  (Luigi allows any name)

    settings = Settings.from_mapping(
        {"LuigiNamesDashed": {"dash-param": "d", "camelParam": "c"}}
    )

    with use_settings(settings), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = LuigiNamesDashed()

    assert (task.dash_param, task.camelParam) == ("d", "c")
    kinds = [type(warning.message) for warning in caught]
    assert kinds == [ParameterDeprecationWarning]  # the dashes: as in Luigi
    assert "dash-param (with dashes)" in str(caught[0].message)
