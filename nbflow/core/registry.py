"""The task registry: family name -> task class, with notebook-safe re-definition.

A class is registered when it is defined (``Task.__init_subclass__``). Re-defining a
class in the *same* module under the same qualified name (a notebook cell run again)
replaces the old definition, so a lookup by name always finds the newest code. The same family
defined by two *different* classes (two modules, or two qualified names in one module) is
ambiguous, and a lookup by that bare name raises
:class:`~nbflow.core.errors.AmbiguousTaskError` listing the fully qualified names, which
resolve it. As in Luigi, one exception: when one of those classes derives from all the
others (a decorator's wrapper of a task class), the name means that most derived class.

The registry is the only module-level mutable object in the core; ``clear()`` exists for
tests.

Imports: nbflow.core.errors.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core.errors import AmbiguousTaskError, UnknownTaskError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.task import Task

logger = logging.getLogger(__name__)

#: Passed to ``set_namespace`` to use each class's module name as its namespace.
AUTO_NAMESPACE = "<auto>"


class TaskRegistry:
    """Map task families (and fully qualified names) to task classes."""

    def __init__(self) -> None:
        #: family -> {(module, qualname): class}, in registration order
        self._by_family: dict[str, dict[tuple[str, str], type[Task]]] = {}
        #: module scope prefix -> namespace, set by ``nbflow.namespace()``
        self._namespaces: dict[str, str | None] = {}

    def register(self, cls: type[Task]) -> None:
        """Record ``cls`` under its family, replacing an older same-module class."""
        key = (cls.__module__, cls.__qualname__)
        family = cls.get_task_family()
        for other_family, classes in self._by_family.items():
            if key in classes and other_family != family:
                del classes[key]  # a re-run cell changed task_namespace
        classes = self._by_family.setdefault(family, {})
        if key in classes:
            logger.debug("re-defining task %s from %s", family, cls.__module__)
            del classes[key]  # keep the newest definition last
        classes[key] = cls

    def lookup(self, name: str) -> type[Task]:
        """Return the task class for a family or a fully qualified ``module.Class``.

        Raises
        ------
        UnknownTaskError
            Nothing is registered under ``name``; the message suggests close names.
        AmbiguousTaskError
            Two modules define ``name``; the message lists their qualified names.
        """
        classes = self._by_family.get(name)
        if classes:
            return _only_class(name, classes)
        for classes in self._by_family.values():
            for (module, qualname), cls in classes.items():
                if f"{module}.{qualname}" == name:
                    return cls
        renamed = {  # a class renamed after its definition (cls.__name__ = ...)
            (cls.__module__, cls.__qualname__): cls
            for cls in self.classes()
            if cls.get_task_family() == name
        }
        if renamed:
            return _only_class(name, renamed)
        raise UnknownTaskError(name, self.families())

    def families(self) -> tuple[str, ...]:
        """Return every registered family name, sorted."""
        return tuple(
            sorted(name for name, classes in self._by_family.items() if classes)
        )

    def classes(self) -> tuple[type[Task], ...]:
        """Return the newest class of every registered family and module."""
        return tuple(
            cls for classes in self._by_family.values() for cls in classes.values()
        )

    def retain(self, keep: Iterable[type[Task]]) -> None:
        """Forget every registered class that is not in ``keep``."""
        kept = set(keep)
        for classes in self._by_family.values():
            for key, cls in list(classes.items()):
                if cls not in kept:
                    del classes[key]

    def set_namespace(self, namespace: str | None, scope: str = "") -> None:
        """Give classes defined later in modules under ``scope`` this namespace."""
        self._namespaces[scope] = namespace

    def namespace_for(self, module: str) -> str | None:
        """Return the namespace set by ``nbflow.namespace()`` for ``module``, if any."""
        best, best_len = None, -1
        for scope, namespace in self._namespaces.items():
            matches = not scope or module == scope or module.startswith(scope + ".")
            if matches and namespace and len(scope) > best_len:  # "" resets (Luigi)
                best, best_len = namespace, len(scope)
        return module if best == AUTO_NAMESPACE else best

    def clear(self) -> None:
        """Forget every class and namespace (for tests)."""
        self._by_family.clear()
        self._namespaces.clear()

    def snapshot(self) -> RegistrySnapshot:
        """Return what is registered now, for :meth:`restore` (tests use the pair)."""
        return RegistrySnapshot(
            {family: dict(classes) for family, classes in self._by_family.items()},
            dict(self._namespaces),
        )

    def restore(self, snapshot: RegistrySnapshot) -> None:
        """Make the registry what it was at ``snapshot``: later classes are forgotten."""
        self._by_family = {family: dict(c) for family, c in snapshot.by_family.items()}
        self._namespaces = dict(snapshot.namespaces)

    def clear_instance_caches(self) -> None:
        """Forget every cached task instance, so equal parameters build a new one."""
        for cls in self.classes():
            cls.__dict__["_instance_cache"].clear()


def _only_class(name: str, classes: dict[tuple[str, str], type[Task]]) -> type[Task]:
    """Return the one class ``name`` means, or the one deriving from all the others.

    Raises
    ------
    AmbiguousTaskError
        Two unrelated classes share the family ``name``.
    """
    found = list(classes.values())
    for candidate in reversed(found):
        if all(issubclass(candidate, other) for other in found):
            return candidate
    raise AmbiguousTaskError(name, tuple(f"{m}.{q}" for m, q in classes))


class RegistrySnapshot(NamedTuple):
    """The registry's contents at one moment (see :meth:`TaskRegistry.snapshot`)."""

    by_family: dict[str, dict[tuple[str, str], type[Task]]]
    namespaces: dict[str, str | None]


#: The process-wide registry every Task subclass joins when it is defined.
REGISTRY = TaskRegistry()
