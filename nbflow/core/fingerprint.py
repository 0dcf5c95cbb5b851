"""Code-aware fingerprints: what a task's outputs were made from.

A task's fingerprint is a hash of

- its **code**: the source of its class (and of its base classes that are user code),
  and of every function and class its methods call that is defined in the project or
  the notebook (found through the names the code uses, ``name`` or
  ``module.name``, followed recursively) — never third-party packages, the standard
  library or nbflow itself. Source is normalised through the ``ast`` module, so
  comments, docstrings and formatting do not count. The values of the simple
  constants that code reads (:func:`constant_text`) count too;
- its **significant parameters** (the ones in its task id);
- the fingerprints of its **requirements**, so a change upstream reaches everything
  downstream of it.

Each part is kept separately (:class:`Fingerprint`), so ``why`` can say *what* changed:
"code changed in clean_rows", "parameter min_amount changed", "upstream Download(...)
changed".

Imports: stdlib, nbflow.core.{structure, task}.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import hashlib
import inspect
import json
import os
import sys
import sysconfig
import textwrap
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Iterator

_LIBRARY_ROOTS = tuple(
    os.path.realpath(path)
    for path in {
        sysconfig.get_paths()[key]
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
    }
)
_NBFLOW_ROOT = str(Path(__file__).resolve().parent.parent)


class Fingerprint(NamedTuple):
    """A task's fingerprint and the parts it was made of."""

    digest: str
    #: component name (``Clean``, ``Clean.run``, ``clean_rows``) -> digest of its code
    code: dict[str, str]
    #: significant parameter name -> serialized value
    params: dict[str, str]
    #: requirement task id -> its fingerprint digest
    upstream: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-able form stored in sidecars."""
        return {
            "fingerprint": self.digest,
            "code": self.code,
            "params": self.params,
            "upstream": self.upstream,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fingerprint:
        """Rebuild a fingerprint read from a sidecar."""
        return cls(
            str(data["fingerprint"]),
            dict(data.get("code", {})),
            dict(data.get("params", {})),
            dict(data.get("upstream", {})),
        )

    def differences(self, recorded: Fingerprint, labels: dict[str, str]) -> list[str]:
        """Say what changed from ``recorded`` to this fingerprint, in plain words."""
        changes = [
            f"{name} changed"
            if name.startswith("constant ")
            else f"code changed in {name}"
            for name in sorted(set(self.code) | set(recorded.code))
            if self.code.get(name) != recorded.code.get(name)
        ]
        changes += [
            f"parameter {name} changed ({recorded.params.get(name)!r} -> {value!r})"
            for name, value in sorted(self.params.items())
            if recorded.params.get(name) != value
        ]
        changes += [
            f"upstream {labels.get(dep_id, dep_id)} changed"
            for dep_id in sorted(set(self.upstream) | set(recorded.upstream))
            if self.upstream.get(dep_id) != recorded.upstream.get(dep_id)
        ]
        return changes or ["fingerprint changed"]


class Fingerprinter:
    """Compute fingerprints, caching per class and per task for one build."""

    def __init__(self) -> None:
        self._digests: dict[str, str] = {}
        self._deps: dict[str, list[Task]] = {}
        self._code: dict[type, dict[str, str]] = {}
        self._class_digest: dict[type, str] = {}

    def digest_of(self, task: Task) -> str:
        """Return ``task``'s fingerprint digest, requirements first, without recursion."""
        done = self._digests
        found = done.get(task.task_id)
        if found is not None:
            return found
        deps = self._deps[task.task_id] = _deps_of(task)
        if all(dep.task_id in done for dep in deps):  # the usual case: no walk needed
            found = done[task.task_id] = self._digest(task)
            return found
        stack: list[tuple[Task, bool]] = [(task, True)]
        stack.extend((dep, False) for dep in deps if dep.task_id not in done)
        while stack:
            current, expanded = stack.pop()
            if current.task_id in done:
                continue
            if not expanded:
                deps = self._deps[current.task_id] = _deps_of(current)
                stack.append((current, True))
                stack.extend((dep, False) for dep in deps if dep.task_id not in done)
                continue
            done[current.task_id] = self._digest(current)
        return done[task.task_id]

    def _digest(self, task: Task) -> str:
        cls = type(task)
        class_digest = self._class_digest.get(cls)
        if class_digest is None:
            class_digest = _hash(json.dumps(self.code_of(cls), sort_keys=True))
            self._class_digest[cls] = class_digest
        # the task id already hashes the significant parameters: no JSON per task
        text = class_digest + "\n" + task.task_id
        deps = self._deps[task.task_id]
        if deps:
            digests = self._digests
            text += "".join(
                sorted(f"\n{dep.task_id}={digests[dep.task_id]}" for dep in deps)
            )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def of(self, task: Task) -> Fingerprint:
        """Return ``task``'s full fingerprint, with the parts ``why`` compares."""
        digest = self.digest_of(task)
        upstream = {
            dep.task_id: self._digests[dep.task_id] for dep in self._deps[task.task_id]
        }
        params = task.to_str_params(only_significant=True, only_public=True)
        return Fingerprint(digest, self.code_of(type(task)), params, upstream)

    def code_of(self, cls: type) -> dict[str, str]:
        """Return the digests of the code ``cls`` is made of, by component name."""
        if cls not in self._code:
            self._code[cls] = dict(sorted(_collect(cls)))
        return self._code[cls]


def _deps_of(task: Task) -> list[Task]:
    """Return ``task.deps()``, skipping the call for classes that require nothing."""
    cls = type(task)
    if cls.requires is Task.requires and cls._requires is Task._requires:  # noqa: SLF001
        return []
    return task.deps()


def _collect(cls: type) -> Iterator[tuple[str, str]]:
    """Yield (name, digest) for the user classes in ``cls``'s MRO and what they call."""
    seen: set[int] = set()
    pending: list[Any] = [k for k in cls.__mro__ if _is_user_code(k)]
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, type):
            for name, digest, used, namespace in _class_parts(obj):
                yield name, digest
                yield from _constants(namespace, used)
                pending.extend(_resolve(namespace, used))
        else:
            digest, used = _function_digest(obj)
            yield obj.__qualname__, digest
            yield from _constants(obj.__globals__, used)
            pending.extend(_resolve(obj.__globals__, used))


def _class_parts(cls: type) -> Iterator[tuple[str, str, set[str], dict[str, Any]]]:
    bases = ",".join(base.__qualname__ for base in cls.__bases__)
    constants = {
        name: text
        for name, value in sorted(cls.__dict__.items())
        if not name.startswith("__") and (text := constant_text(value)) is not None
    }
    yield (
        cls.__qualname__,
        _hash(f"{bases}|{json.dumps(constants, sort_keys=True)}"),
        set(),
        {},
    )
    for name, value in sorted(cls.__dict__.items()):
        function = _function_of(value)
        if function is not None:
            digest, used = _function_digest(function)
            # names resolve where the method runs (a notebook's namespace, a module)
            yield f"{cls.__qualname__}.{name}", digest, used, function.__globals__


def _function_of(value: Any) -> types.FunctionType | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        value = value.fget
    return value if isinstance(value, types.FunctionType) else None


@functools.lru_cache(maxsize=4096)
def _normalized(source: str) -> tuple[str, frozenset[str]]:
    """Return (AST dump without docstrings, names used) of a function's source."""
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names.update(  # module.attribute (``helpers.SUFFIX``, ``helpers.clean``)
        f"{n.value.id}.{n.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    )
    return ast.dump(tree, annotate_fields=False), frozenset(names)


def _function_digest(function: types.FunctionType) -> tuple[str, set[str]]:
    try:
        source = inspect.getsource(function)
    except (
        OSError,
        TypeError,
    ):  # no source (built in a REPL without history): bytecode
        code = function.__code__
        return _hash(code.co_code.hex() + repr(code.co_consts)), set(code.co_names)
    dump, names = _normalized(source)
    return _hash(dump), set(names) | set(function.__code__.co_names)


def _resolve(namespace: dict[str, Any], names: set[str]) -> Iterator[Any]:
    """Yield the user-code functions and classes ``names`` refer to in ``namespace``."""
    for name in sorted(names):
        value = _lookup(namespace, name)
        # a Task class used here is a requirement: its fingerprint arrives via upstream
        is_helper = isinstance(value, types.FunctionType) or (
            isinstance(value, type) and not issubclass(value, Task)
        )
        if is_helper and _is_user_code(value):
            yield value


def _constants(namespace: dict[str, Any], names: set[str]) -> Iterator[tuple[str, str]]:
    """Yield ("constant module.NAME", digest) for the simple constants ``names`` read."""
    module = namespace.get("__name__", "")
    prefix = "constant " if module == "__main__" else f"constant {module}."
    for name in names:
        value = (
            _MISSING if name.startswith("__") else _lookup(namespace, name, _MISSING)
        )
        if value is _MISSING or callable(value) or isinstance(value, types.ModuleType):
            continue
        text = constant_text(value)
        if text is not None:
            yield prefix + name, _hash(text)


_MISSING: Any = object()


def _lookup(namespace: dict[str, Any], name: str, default: Any = None) -> Any:
    """Return what ``name`` (or ``module.attribute`` of a user module) refers to."""
    if "." not in name:
        return namespace.get(name, default)
    module = _user_module(namespace, name)
    attribute = name.partition(".")[2]
    return default if module is None else vars(module).get(attribute, default)


def _user_module(namespace: dict[str, Any], name: str) -> types.ModuleType | None:
    module = namespace.get(name.partition(".")[0])
    if isinstance(module, types.ModuleType) and _is_user_module(module):
        return module
    return None


def constant_text(value: Any) -> str | None:
    """Return a stable text of a simple constant's value (None: not digested).

    Covered: None, bools, numbers, strings, bytes, tuples and frozensets of those,
    enum members and dataclass instances made of them. Mutable containers (lists,
    dicts, sets) and other objects are left out: their contents can change while the
    program runs, and their text is not stable from one process to the next.

    Examples
    --------
    >>> constant_text(("a", 1, frozenset({2, 1})))
    "('a', 1, frozenset({1, 2}))"
    >>> constant_text([1]) is None
    True
    """
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, (tuple, frozenset)):
        return _collection_text(value)
    if isinstance(value, enum.Enum):
        inner = constant_text(value.value)
        kind = type(value)
        name = f"{kind.__module__}.{kind.__qualname__}.{value.name}"
        return None if inner is None else f"{name}={inner}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_text(value)
    return None


def _collection_text(value: tuple[Any, ...] | frozenset[Any]) -> str | None:
    texts = [text for item in value if (text := constant_text(item)) is not None]
    if len(texts) != len(value):
        return None
    if isinstance(value, frozenset):  # sorted: a set's order changes between runs
        return f"frozenset({{{', '.join(sorted(texts))}}})"
    return f"({', '.join(texts)}{',' if len(texts) == 1 else ''})"


def _dataclass_text(value: Any) -> str | None:
    parts = []
    for field in dataclasses.fields(value):
        text = constant_text(getattr(value, field.name))
        if text is None:
            return None
        parts.append(f"{field.name}={text}")
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}({', '.join(parts)})"


def _is_user_code(obj: Any) -> bool:
    """Return whether ``obj`` is defined in the project or a notebook (not a library)."""
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    return module is not None and _is_user_module(module)


def _is_user_module(module: types.ModuleType) -> bool:
    if module.__name__ == "__main__":
        return True
    path = getattr(module, "__file__", None)
    if not path:
        return module.__name__ not in sys.builtin_module_names
    real = os.path.realpath(path)
    if real.startswith(_NBFLOW_ROOT + os.sep):
        return False
    return not any(real.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
