from __future__ import annotations

import sys

import pytest

import nbflow
from nbflow.core.errors import AmbiguousTaskError, TaskLookupError, UnknownTaskError
from nbflow.core.registry import REGISTRY
from nbflow.core.task_register import (
    Register,
    TaskClassAmbigiousException,
    TaskClassException,
    TaskClassNotFoundException,
    load_task,
)


@pytest.fixture(autouse=True)
def _restore_registry():
    saved = REGISTRY.snapshot()
    yield
    REGISTRY.restore(saved)


def _family_member(family: str) -> type[nbflow.Task]:
    class Member(nbflow.Task):
        @classmethod
        def get_task_family(cls) -> str:
            return family

    return Member


def test_register_get_task_cls_finds_a_class_by_family() -> None:
    class RegFound(nbflow.Task):
        pass

    assert Register.get_task_cls("RegFound") is RegFound
    assert "RegFound" in Register.task_names()
    assert "RegFound" in Register.tasks_str().split(",")


def test_luigi_and_nbflow_exception_names_catch_each_other() -> None:
    with pytest.raises(TaskClassNotFoundException) as missing:
        Register.get_task_cls("reg.Nowhere")

    assert isinstance(missing.value, UnknownTaskError)
    assert isinstance(missing.value, TaskClassException)
    assert TaskClassException is TaskLookupError
    assert issubclass(TaskClassAmbigiousException, TaskClassException)


def test_two_classes_of_one_family_are_ambiguous_and_a_third_keeps_it() -> None:
    first = _family_member("reg.Doo")
    assert Register.get_task_cls("reg.Doo") is first

    _family_member("reg.Doo")  # same qualified name: a re-definition replaces
    assert Register.get_task_cls("reg.Doo") is not first

    def other_scope() -> type[nbflow.Task]:
        class Member(nbflow.Task):
            @classmethod
            def get_task_family(cls) -> str:
                return "reg.Doo"

        return Member

    other_scope()
    with pytest.raises(TaskClassAmbigiousException) as caught:
        Register.get_task_cls("reg.Doo")
    _family_member("reg.Doo")

    assert isinstance(caught.value, AmbiguousTaskError)
    assert "other_scope.<locals>.Member" in str(caught.value)
    with pytest.raises(AmbiguousTaskError):
        Register.get_task_cls("reg.Doo")


def test_the_most_derived_class_of_a_family_wins() -> None:
    class RegBase(nbflow.Task):
        pass

    derived = type("RegBase", (RegBase,), {"__qualname__": "RegDerived"})

    assert Register.get_task_cls("RegBase") is derived


def test_every_task_class_is_an_instance_of_register() -> None:
    class RegInstance(nbflow.Task):
        pass

    assert isinstance(RegInstance, Register)
    assert not isinstance(RegInstance(), Register)
    assert not isinstance(int, Register)
    assert issubclass(type(RegInstance), Register)
    assert issubclass(Register, Register)
    assert not issubclass(type, Register)


def test_get_reg_and_set_reg_save_and_restore_the_registry() -> None:
    saved = Register._get_reg()

    class RegLater(nbflow.Task):
        pass

    _family_member("reg.Twice")

    def again() -> None:
        _family_member("reg.Twice")

    class RegTwice(nbflow.Task):
        @classmethod
        def get_task_family(cls) -> str:
            return "reg.Twice"

    again()
    during = Register._get_reg()
    Register._set_reg(saved)

    assert during["RegLater"] is RegLater
    assert during["reg.Twice"] is Register.AMBIGUOUS_CLASS
    assert Register._get_reg() == saved
    with pytest.raises(UnknownTaskError):
        Register.get_task_cls("RegLater")


def test_get_all_params_lists_each_family_parameter() -> None:
    class RegParams(nbflow.Task):
        size = nbflow.IntParameter(default=1)

    found = [
        (family, name)
        for family, _, name, _ in Register.get_all_params()
        if family == "RegParams"
    ]

    assert found == [("RegParams", "size")]


def test_clear_instance_cache_builds_new_instances() -> None:
    class RegCached(nbflow.Task):
        pass

    before = RegCached()
    Register.clear_instance_cache()

    assert RegCached() is not before
    assert RegCached() == before


def test_load_task_imports_the_module_and_parses_values(tmp_path, monkeypatch) -> None:
    (tmp_path / "reg_loaded_module.py").write_text(
        "import nbflow\n"
        "class RegLoaded(nbflow.Task):\n"
        "    size = nbflow.IntParameter()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    task = load_task("reg_loaded_module", "RegLoaded", {"size": "12"})

    assert type(task).__module__ == "reg_loaded_module"
    assert task.size == 12
    assert load_task(None, "ExternalTask", {}).run is None
    del sys.modules["reg_loaded_module"]
