"""Luigi's task decorators: ``inherits``, ``requires``, ``copies``, ``delegates``.

They wire one task class to others without writing the parameters twice:

- ``@inherits(Parent)`` copies ``Parent``'s parameters onto the decorated class (a
  parameter the class already has, or has set to ``None``, is kept) and adds
  ``clone_parent()`` / ``clone_parents()``, which build the parents from this task's
  values;
- ``@requires(Parent)`` also makes ``requires()`` return those clones;
- ``@copies(Parent)`` also makes ``run()`` copy the parent's output into its own;
- ``@delegates`` runs the tasks returned by ``subtasks()`` inside this task's ``run()``
  and takes on their requirements.

``inherits`` and ``requires`` change the class in place, as in Luigi, so its family,
module and identity stay. ``copies`` and ``delegates`` return a subclass carrying the
same name, module and namespace, which replaces the original in the registry (see
:func:`_wrap`), so ``nbflow run Name`` finds the decorated class.

Imports: stdlib, nbflow.core.{errors, registry, structure, task}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.core.errors import DefinitionError
from nbflow.core.registry import REGISTRY
from nbflow.core.structure import flatten
from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "MissingSubtasksError",
    "TaskDecoratorError",
    "common_params",
    "copies",
    "delegates",
    "inherits",
    "requires",
]

TaskClass = TypeVar("TaskClass", bound=type[Task])


class TaskDecoratorError(DefinitionError, TypeError):
    """A task decorator was given something other than task classes."""

    def __init__(self, decorator: str, got: object, expected: str, fix: str) -> None:
        super().__init__(decorator, got, expected, fix)
        self.decorator, self.got, self.expected, self.fix = (
            decorator,
            got,
            expected,
            fix,
        )

    def __str__(self) -> str:
        return (
            f"{self.decorator}: wrong arguments (got {self.got!r}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )


class MissingSubtasksError(DefinitionError, AttributeError):
    """``@delegates`` decorated a class that has no ``subtasks()`` method."""

    def __init__(self, task: str) -> None:
        super().__init__(task)
        self.task = task

    def __str__(self) -> str:
        return (
            f"@delegates: {self.task} has no subtasks() method. Expected a method "
            "returning the tasks whose run() this task calls. Fix: define "
            f"subtasks(self) on {self.task}, or remove @delegates."
        )


def _check_task_classes(decorator: str, classes: tuple[Any, ...]) -> None:
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Task)):
            raise TaskDecoratorError(
                decorator,
                cls,
                "task classes (not instances)",
                f"pass the classes themselves, e.g. @{decorator}(Parent)",
            )


def common_params(task_instance: Task, task_cls: type[Task]) -> dict[str, Any]:
    """Return the values of ``task_instance``'s parameters that ``task_cls`` also has.

    ``task_cls(**common_params(self, task_cls))`` builds a task of ``task_cls`` from
    this task's values.

    Raises
    ------
    TaskDecoratorError
        ``task_cls`` is not a task class (a ``TypeError``, as in Luigi).

    Examples
    --------
    >>> from nbflow.core.parameter import IntParameter
    >>> class Source(Task):
    ...     day = IntParameter()
    >>> class Report(Task):
    ...     day = IntParameter()
    ...     pages = IntParameter(default=3)
    >>> common_params(Report(day=5), Source)
    {'day': 5}
    """
    _check_task_classes("common_params", (task_cls,))
    wanted = {name for name, _ in task_cls.get_params()}
    return {
        name: value
        for name, value in task_instance.param_kwargs.items()
        if name in wanted
    }


def inherits(
    *tasks: type[Task], **named_tasks: type[Task]
) -> Callable[[TaskClass], TaskClass]:
    """Give the decorated task class the parameters of ``tasks`` and ways to clone them.

    With positional classes, ``clone_parent()`` builds the first one and
    ``clone_parents()`` a list of all; with keyword classes, ``clone_parents()``
    builds a dict by those names. Both accept parameter values to change.

    Raises
    ------
    TaskDecoratorError
        No class, both positional and keyword classes, or something not a task class
        (a ``TypeError``, as in Luigi).

    Examples
    --------
    >>> from nbflow.core.parameter import IntParameter
    >>> class Download(Task):
    ...     day = IntParameter()
    >>> @inherits(Download)
    ... class Clean(Task):
    ...     def requires(self):
    ...         return self.clone_parent()
    >>> Clean(day=3).requires()
    Download(day=3)
    """
    if bool(tasks) == bool(named_tasks):
        raise TaskDecoratorError(
            "inherits",
            (tasks, named_tasks),
            "task classes, either all positional or all by keyword",
            "name at least one task class, e.g. @inherits(Parent)",
        )
    parents = (*tasks, *named_tasks.values())
    _check_task_classes("inherits", parents)
    methods = _clone_methods(tasks, named_tasks)

    def decorate(cls: TaskClass) -> TaskClass:
        _add_parameters(cls, parents)
        for name, method in methods.items():
            setattr(cls, name, method)
        return cls

    return decorate


def _add_parameters(cls: type[Task], parents: tuple[type[Task], ...]) -> None:
    """Give ``cls`` each parent parameter whose name it does not use yet."""
    for parent in parents:
        for name, param in parent.get_params():
            if not hasattr(cls, name):
                setattr(cls, name, param)
    if "_params_cache" in cls.__dict__:
        cls._params_cache = None  # new parameters: list them again


def _clone_methods(
    tasks: tuple[type[Task], ...], named_tasks: dict[str, type[Task]]
) -> dict[str, Callable[..., Any]]:
    """Return ``clone_parent`` (positional parents only) and ``clone_parents``."""

    def clone_parent(self: Task, **kwargs: Any) -> Task:
        return self.clone(tasks[0], **kwargs)

    def clone_parents(self: Task, **kwargs: Any) -> Any:
        if tasks:
            return [self.clone(parent, **kwargs) for parent in tasks]
        return {name: self.clone(cls, **kwargs) for name, cls in named_tasks.items()}

    if tasks:
        return {"clone_parent": clone_parent, "clone_parents": clone_parents}
    return {"clone_parents": clone_parents}


def requires(
    *tasks: type[Task], **named_tasks: type[Task]
) -> Callable[[TaskClass], TaskClass]:
    """Do what :func:`inherits` does, and make ``requires()`` return the parents.

    One positional class: ``requires()`` returns that task; several: a list; keyword
    classes: a dict by those names (so ``input()`` has the same keys).

    Examples
    --------
    >>> from nbflow.core.parameter import IntParameter
    >>> class Extract(Task):
    ...     day = IntParameter()
    >>> @requires(Extract)
    ... class Load(Task):
    ...     pass
    >>> Load(day=1).requires()
    Extract(day=1)
    """
    inherit = inherits(*tasks, **named_tasks)

    def requires_parents(self: Task) -> Any:
        if len(tasks) == 1:
            return self.clone(tasks[0])
        return self.clone_parents()  # type: ignore[attr-defined]

    def decorate(cls: TaskClass) -> TaskClass:
        cls = inherit(cls)
        cls.requires = requires_parents  # type: ignore[method-assign]
        return cls

    return decorate


def copies(task: type[Task]) -> Callable[[TaskClass], TaskClass]:
    """Do what ``@requires(task)`` does, and make ``run()`` copy its output line by line.

    The decorated class defines ``output()``; the result is a subclass of it with the
    same name (see the module docstring).
    """
    require = requires(task)

    def copy_input(self: Task) -> None:
        source, destination = self.input(), self.output()
        with destination.open("w") as out, source.open("r") as lines:
            for line in lines:
                out.write(line)

    def decorate(cls: TaskClass) -> TaskClass:
        return _wrap(require(cls), {"run": copy_input})

    return decorate


def delegates(cls: TaskClass) -> TaskClass:
    """Run the tasks of ``subtasks()`` inside this task's ``run()``, before its own code.

    The subtasks are not scheduled; their requirements become this task's.

    Raises
    ------
    MissingSubtasksError
        The class has no ``subtasks`` method (an ``AttributeError``, as in Luigi).
    """
    if not hasattr(cls, "subtasks"):
        raise MissingSubtasksError(cls.__qualname__)
    original: type[Task] = cls

    def requirements_with_subtasks(self: Task) -> list[Task]:
        subtasks = flatten(self.subtasks())  # type: ignore[attr-defined]
        own: list[Task] = flatten(original._requires(self))  # noqa: SLF001 - the hook
        return own + flatten([subtask.deps() for subtask in subtasks])

    def run_subtasks_then_own(self: Task) -> Any:
        for subtask in flatten(self.subtasks()):  # type: ignore[attr-defined]
            subtask.run()
        return original.run(self)

    body = {"_requires": requirements_with_subtasks, "run": run_subtasks_then_own}
    return _wrap(cls, body)


def _wrap(cls: TaskClass, members: dict[str, Any]) -> TaskClass:
    """Return a subclass of ``cls`` with ``members``, standing in for ``cls``.

    It keeps the name, qualified name, module, docstring and namespace of ``cls``, so
    it has the same family and pickles by the name the decorated class is bound to;
    the registry files it under the same key, so it replaces ``cls`` there.
    """
    body = {
        **members,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "_nbflow_register": False,  # registered below, once its namespace is right
    }
    metaclass: Any = type(cls)
    wrapped: TaskClass = metaclass(cls.__name__, (cls,), body)
    wrapped._namespace_at_definition = cls._namespace_at_definition  # noqa: SLF001
    REGISTRY.register(wrapped)
    return wrapped
