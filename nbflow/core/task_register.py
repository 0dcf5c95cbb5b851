"""Luigi's ``luigi.task_register``: the registry's class-level API and ``load_task``.

In Luigi, ``Register`` is the metaclass of every task and keeps the registry on itself.
nbflow keeps its registry in :data:`nbflow.core.registry.REGISTRY`; :class:`Register`
is Luigi's surface over it: ``Register.get_task_cls(name)``, ``task_names()``,
``clear_instance_cache()``, ... and ``isinstance(SomeTask, Register)`` is true for every
task class, as it is under Luigi.

Luigi's exceptions are nbflow's: ``TaskClassNotFoundException`` is
:class:`~nbflow.core.errors.UnknownTaskError`, ``TaskClassAmbigiousException`` (Luigi's
spelling) is :class:`~nbflow.core.errors.AmbiguousTaskError`, and their base
``TaskClassException`` is :class:`~nbflow.core.errors.TaskLookupError`, so either name
catches what a lookup raises, wherever it was made.

Imports: stdlib, nbflow.core.{errors, registry, task}.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar, Final

from nbflow.core.errors import AmbiguousTaskError, TaskLookupError, UnknownTaskError
from nbflow.core.registry import REGISTRY
from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.core.parameter import Parameter

__all__ = [
    "Register",
    "TaskClassAmbigiousException",
    "TaskClassAmbiguousException",
    "TaskClassException",
    "TaskClassNotFoundException",
    "load_task",
]

#: Luigi's name for :class:`~nbflow.core.errors.TaskLookupError`.
TaskClassException: Final = TaskLookupError
#: Luigi's name for :class:`~nbflow.core.errors.UnknownTaskError`.
TaskClassNotFoundException: Final = UnknownTaskError
#: Luigi's name (and spelling) for :class:`~nbflow.core.errors.AmbiguousTaskError`.
TaskClassAmbigiousException: Final = AmbiguousTaskError
#: The same, spelled correctly.
TaskClassAmbiguousException: Final = AmbiguousTaskError


class _RegisterType(type):
    """Make every task class an instance of :class:`Register`, as in Luigi."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, type) and issubclass(instance, Task)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return type.__subclasscheck__(cls, subclass) or issubclass(subclass, type(Task))


class _Ambiguous:
    """The marker :meth:`Register._get_reg` gives for an ambiguous family."""

    def __repr__(self) -> str:
        return "Register.AMBIGUOUS_CLASS"


class Register(metaclass=_RegisterType):
    """Luigi's registry API, over nbflow's :data:`~nbflow.core.registry.REGISTRY`.

    Examples
    --------
    >>> class FetchPrices(Task):
    ...     pass
    >>> Register.get_task_cls("FetchPrices") is FetchPrices
    True
    >>> isinstance(FetchPrices, Register), isinstance(FetchPrices(), Register)
    (True, False)

    .. versionadded:: 0.1.0
    """

    #: What :meth:`_get_reg` maps an ambiguous family to.
    AMBIGUOUS_CLASS: ClassVar[object] = _Ambiguous()

    @classmethod
    def get_task_cls(cls, name: str) -> type[Task]:
        """Return the task class registered as ``name``.

        Raises
        ------
        TaskClassNotFoundException
            (:class:`~nbflow.core.errors.UnknownTaskError`) nothing has that name.
        TaskClassAmbigiousException
            (:class:`~nbflow.core.errors.AmbiguousTaskError`) two classes have it.
        """
        return REGISTRY.lookup(name)

    @classmethod
    def task_names(cls) -> list[str]:
        """Return every registered family name, sorted."""
        return list(REGISTRY.families())

    @classmethod
    def tasks_str(cls) -> str:
        """Return the registered family names, comma-separated."""
        return ",".join(cls.task_names())

    @classmethod
    def get_all_params(cls) -> Iterator[tuple[str, bool, str, Parameter[Any]]]:
        """Yield ``(family, is_without_section, name, parameter)`` for every parameter.

        ``is_without_section`` is true for a class whose command-line flags carry no
        family prefix (``use_cmdline_section = False``). Ambiguous families are left out.
        """
        for family, task_cls in cls._get_reg().items():
            if not (isinstance(task_cls, type) and issubclass(task_cls, Task)):
                continue  # an ambiguous family
            without_section = not getattr(task_cls, "use_cmdline_section", True)
            for name, param in task_cls.get_params():
                yield family, without_section, name, param

    @classmethod
    def clear_instance_cache(cls) -> None:
        """Forget every cached task instance, so equal parameters build a new one."""
        REGISTRY.clear_instance_caches()

    @classmethod
    def _get_reg(cls) -> dict[str, Any]:
        """Return ``{family: class}``, :attr:`AMBIGUOUS_CLASS` for ambiguous families.

        Luigi's tests save the registry with this and restore it with :meth:`_set_reg`.
        """
        found: dict[str, Any] = {}
        for family in REGISTRY.families():
            try:
                found[family] = REGISTRY.lookup(family)
            except AmbiguousTaskError:
                found[family] = cls.AMBIGUOUS_CLASS
        return found

    @classmethod
    def _set_reg(cls, reg: Mapping[str, Any]) -> None:
        """Keep only the classes in ``reg`` (a :meth:`_get_reg` result) registered.

        A family ``reg`` marks ambiguous keeps the classes it has now.
        """
        ambiguous = {family for family, c in reg.items() if c is cls.AMBIGUOUS_CLASS}
        kept = [c for c in reg.values() if c is not cls.AMBIGUOUS_CLASS]
        kept += [c for c in REGISTRY.classes() if c.get_task_family() in ambiguous]
        REGISTRY.retain(kept)


def load_task(
    module: str | None, task_name: str, params_str: Mapping[str, Any]
) -> Task:
    """Import ``module`` (if given), then build ``task_name`` from serialized values.

    ``params_str`` maps parameter names to their command-line text, as
    :meth:`~nbflow.core.task.Task.to_str_params` writes them.

    Raises
    ------
    TaskClassNotFoundException
        No task has that name once the module is imported.
    """
    if module is not None:
        importlib.import_module(module)
    return Register.get_task_cls(task_name).from_str_params(dict(params_str))
