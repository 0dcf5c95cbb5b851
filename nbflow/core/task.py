"""The Task model: Luigi's ``Task``, ``ExternalTask``, ``WrapperTask`` and ``Config``.

A task is a value: its class and its parameter values. Its ``task_id`` has Luigi's exact
form (family, a readable summary of up to three parameters, and 10 hex digits of the md5
of the significant public parameters' JSON), so the same family and parameters give the
same id under Luigi and nbflow, in every process and on every machine.

Constructing a task resolves each parameter from, in order: the constructor, the command
line (``--param`` for the root task, ``--Family-param`` for any class), the ``[Family]``
config section, the parameter's default. Instances are cached per class object (Luigi's
instance caching): ``Foo(a=1) is Foo(a=1)``. The cache lives on the class itself, so a
class redefined by a notebook cell never hands out instances of the old code.

Imports: nbflow.core.{errors, parameter, registry, structure, config, diagnosis}.
"""

from __future__ import annotations

import abc
import copy
import hashlib
import json
import logging
import re
import traceback
import warnings
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn, TypeVar

from nbflow.core import config as _config
from nbflow.core.config_keys import KNOWN_KEYS
from nbflow.core.diagnosis import definition_site
from nbflow.core.errors import (
    DefinitionError,
    DefinitionTypeError,
    DuplicateParameterError,
    MissingParameterError,
    NbflowError,
    ParameterDeprecationWarning,
    ParameterValueError,
    PositionalParameterError,
    UnconsumedParameterWarning,
    UnknownParameterError,
)
from nbflow.core.parameter import Parameter, ParameterVisibility
from nbflow.core.registry import AUTO_NAMESPACE, REGISTRY
from nbflow.core.structure import flatten, map_structure

logger = logging.getLogger("nbflow")

_TASK_ID_INCLUDE_PARAMS = 3
_TASK_ID_TRUNCATE_PARAMS = 16
_TASK_ID_TRUNCATE_HASH = 10
_INVALID_ID_CHARS = re.compile(r"[^A-Za-z0-9_]")

Callback = Callable[..., Any]
F = TypeVar("F", bound=Callback)


def task_id_str(task_family: str, params: dict[str, str]) -> str:
    """Return the canonical task id for a family and its serialized parameters.

    Examples
    --------
    >>> task_id_str("Report", {"day": "2024-06-01"})
    'Report_2024_06_01_18e61cf644'
    """
    canonical = json.dumps(params, separators=(",", ":"), sort_keys=True)
    digest = hashlib.md5(canonical.encode("utf-8"), usedforsecurity=False).hexdigest()
    first = sorted(params)[:_TASK_ID_INCLUDE_PARAMS]
    summary = "_".join(params[name][:_TASK_ID_TRUNCATE_PARAMS] for name in first)
    summary = _INVALID_ID_CHARS.sub("_", summary)
    return f"{task_family}_{summary}_{digest[:_TASK_ID_TRUNCATE_HASH]}"


class Event:
    """Names of the events a task's handlers can subscribe to (Luigi's names)."""

    DEPENDENCY_DISCOVERED = "event.core.dependency.discovered"
    DEPENDENCY_MISSING = "event.core.dependency.missing"
    DEPENDENCY_PRESENT = "event.core.dependency.present"
    BROKEN_TASK = "event.core.task.broken"
    START = "event.core.start"
    PROGRESS = "event.core.progress"
    FAILURE = "event.core.failure"
    SUCCESS = "event.core.success"
    PROCESSING_TIME = "event.core.processing_time"
    TIMEOUT = "event.core.timeout"
    PROCESS_FAILURE = "event.core.process_failure"


class HandlerNotRegisteredError(DefinitionError, ValueError):
    """``Task.remove_event_handler`` was given a callback that is not registered."""

    def __init__(self, task: str, event: str, callback: object) -> None:
        super().__init__(task, event, callback)
        self.task, self.event, self.callback = task, event, callback

    def __str__(self) -> str:
        return (
            f"{self.task}.remove_event_handler: no such handler for {self.event!r} "
            f"(got {self.callback!r}). Expected a callback registered with "
            f"@{self.task}.event_handler({self.event!r}) on this very class. Fix: "
            "remove it from the class it was registered on, once."
        )


#: class -> event name -> handlers, registered with ``Task.event_handler``
_EVENT_HANDLERS: dict[type, dict[str, list[Callback]]] = {}
#: The methods a running task reports through; callbacks set on an instance in their
#: place are dropped by ``no_unpicklable_properties``.
_REPORTING_METHODS = (
    "set_tracking_url",
    "set_status_message",
    "set_progress_percentage",
    "decrease_running_resources",
)


def _hashable(value: Any) -> Any:
    """Turn lists and sets into tuples, as Luigi does, so values can key the cache."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value, key=repr))
    return value


class _TaskMeta(abc.ABCMeta):
    """Resolve parameters once and return the cached instance for equal values.

    An ``ABCMeta``, as Luigi's: a task class with an ``abc.abstractmethod`` left
    unimplemented cannot be instantiated (``TypeError`` names the method).
    """

    @property
    def task_family(cls) -> str:
        """The family name, read on the class (``MyTask.task_family``), as in Luigi."""
        return cls.get_task_family()  # type: ignore[attr-defined, no-any-return]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        task_cls: type[Task] = cls  # type: ignore[assignment]
        values = task_cls.get_param_values(task_cls.get_params(), args, kwargs)
        key = tuple(value for _, value in values)
        cache: dict[tuple[Any, ...], Task] = task_cls.__dict__["_instance_cache"]
        try:
            return cache[key]
        except KeyError:
            pass
        except TypeError:
            _raise_unhashable(task_cls, values)
        instance = task_cls.__new__(task_cls)
        instance.__dict__["_resolved_values"] = values
        instance.__init__(*args, **kwargs)  # type: ignore[misc]  # the metaclass protocol
        cache[key] = instance
        return instance


class _InstanceCache(dict[tuple[Any, ...], "Task"]):
    """A class's instances by parameter values; it pickles empty.

    A class defined in a notebook travels to other processes by value, its
    attributes included: without this, every packed task would carry every
    instance of its class made so far (quadratic in a run's size).
    """

    def __reduce__(self) -> tuple[type[_InstanceCache], tuple[()]]:
        return (_InstanceCache, ())


def _start_class(cls: type[Task]) -> None:
    """Give a task class its own instance cache, parameter cache and namespace."""
    cls._instance_cache = _InstanceCache()
    cls._params_cache = None
    cls._explicit_namespace = "task_namespace" in cls.__dict__ and cls is not Task
    cls._namespace_at_definition = REGISTRY.namespace_for(cls.__module__)
    cls._unconsumed_warned = set()


def _warn_unconsumed(cls: type[Task], family: str, names: Container[str]) -> None:
    """Warn once per option of ``[family]`` that no parameter of ``cls`` reads (Luigi).

    nbflow's own sections (``[core]``, ``[worker]``, ...) are checked when the files
    are read (:mod:`nbflow.core.config_keys`), so they are skipped here.
    """
    section = _config.current_settings().section(family)
    if not section or family in KNOWN_KEYS or family == "resources":
        return
    ignored = getattr(cls, "ignore_unconsumed", ())
    warned: set[str] = cls.__dict__["_unconsumed_warned"]
    for option, value in section.items():
        if option in names or option in ignored or option in warned:
            continue
        warned.add(option)
        warning = UnconsumedParameterWarning(family, option, value)
        warnings.warn(warning, stacklevel=4)  # the line that made the task


def _raise_unhashable(cls: type[Task], values: list[tuple[str, Any]]) -> None:
    for name, value in values:
        try:
            hash(value)
        except TypeError:
            raise ParameterValueError(
                cls.get_task_family(),
                name,
                value,
                "a hashable value; declare ListParameter, TupleParameter or "
                "DictParameter for collections",
            ) from None


class Task(metaclass=_TaskMeta):
    """A unit of work: ``requires()`` what it needs, ``output()`` what it makes, ``run()``.

    Examples
    --------
    >>> class Hello(Task):
    ...     name = Parameter(default="world")
    >>> Hello()
    Hello(name=world)
    >>> Hello() is Hello(name="world")
    True
    """

    #: Namespace prefixed to the family name (``ns.Class``); None means no namespace.
    task_namespace: ClassVar[str | None] = None
    #: False hides the class from the command line (its name and ``--Family-param``
    #: options), as Luigi's registry does; code still makes and runs it.
    _visible_in_registry: ClassVar[bool] = True
    #: Higher runs first when several tasks are ready; propagates to requirements.
    priority: Any = 0
    #: Resources used while running, e.g. ``{"db": 1}``; limits come from [resources].
    resources: Any = {}  # noqa: RUF012  (Luigi's API: a class attribute dict)
    #: Failures allowed within ``disable_window`` before the task is disabled.
    retry_count: Any = None
    #: Seconds over which failures are counted for ``retry_count``.
    disable_window: Any = None
    #: Disable a task that keeps failing for this many seconds.
    disable_hard_timeout: Any = None
    #: Seconds a run may take before it is failed as timed out.
    worker_timeout: Any = None
    #: Most tasks of this family that one batch run may combine.
    max_batch_size: Any = float("inf")
    #: Whether the task may receive scheduler messages.
    accepts_messages: ClassVar[bool] = False
    #: "exists" (Luigi's rule) or "fingerprint" (same outputs *and* same code, params and
    #: inputs); None follows the run's mode ([core] completeness, --completeness).
    completeness_mode: ClassVar[str | None] = None
    #: Contact for failure e-mails (kept for Luigi compatibility; nbflow sends none).
    owner_email: ClassVar[str | None] = None

    _instance_cache: ClassVar[dict[tuple[Any, ...], Task]]
    _params_cache: ClassVar[list[tuple[str, Parameter[Any]]] | None]
    _explicit_namespace: ClassVar[bool]
    _namespace_at_definition: ClassVar[str | None]
    _unconsumed_warned: ClassVar[set[str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _start_class(cls)
        if cls.__dict__.get("_nbflow_register", True):
            REGISTRY.register(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = self.__dict__.pop("_resolved_values", None)
        if values is None:
            values = self.get_param_values(self.get_params(), args, kwargs)
        for name, value in values:
            self.__dict__[name] = value
        self.param_kwargs: dict[str, Any] = dict(values)
        for name, param in self.get_params():  # Luigi's hook: odd types warn
            param._warn_on_wrong_param_type(name, self.param_kwargs[name])  # noqa: SLF001
        public = self.to_str_params(only_significant=True, only_public=True)
        self.task_id: str = task_id_str(self.get_task_family(), public)
        self._hash = hash(self.task_id)
        # the worker sets ``_reporter`` while the task runs; absent otherwise

    # --- identity -------------------------------------------------------------------

    @classmethod
    def get_task_namespace(cls) -> str | None:
        """Return the namespace: the class attribute if set, else ``namespace()``'s.

        ``""`` when neither gives one (as in Luigi); ``None`` only when the class
        sets ``task_namespace = None`` itself.
        """
        for klass in cls.__mro__:
            if klass.__dict__.get("_explicit_namespace"):
                namespace: str | None = klass.__dict__["task_namespace"]
                return namespace
        return cls._namespace_at_definition or ""

    @classmethod
    def get_task_family(cls) -> str:
        """Return the family name: ``namespace.ClassName`` or ``ClassName``."""
        namespace = cls.get_task_namespace()
        return f"{namespace}.{cls.__name__}" if namespace else cls.__name__

    @property
    def task_family(self) -> str:
        """The family name of this task's class."""
        return self.get_task_family()

    @classmethod
    def get_params(cls) -> list[tuple[str, Parameter[Any]]]:
        """Return ``(name, Parameter)`` pairs in declaration order."""
        cached: list[tuple[str, Parameter[Any]]] | None = cls.__dict__.get(
            "_params_cache"
        )
        if cached is not None:
            return cached
        found = []
        for name in dir(cls):
            attr = getattr(cls, name, None)
            if isinstance(attr, Parameter):
                found.append((name, attr))
        found.sort(key=lambda pair: pair[1]._counter)  # noqa: SLF001
        if "_params_cache" in cls.__dict__:
            cls._params_cache = found
        return found

    @classmethod
    def get_param_names(cls, include_significant: bool = False) -> list[str]:
        """Return the names of the (significant, unless asked) parameters."""
        return [
            name
            for name, param in cls.get_params()
            if include_significant or param.significant
        ]

    @classmethod
    def batch_param_names(cls) -> list[str]:
        """Return the names of parameters that have a ``batch_method``."""
        return [name for name, p in cls.get_params() if p.batch_method is not None]

    @classmethod
    def get_param_values(
        cls,
        params: list[tuple[str, Parameter[Any]]],
        args: tuple[Any, ...] | list[Any],
        kwargs: dict[str, Any],
    ) -> list[tuple[str, Any]]:
        """Resolve every parameter: constructor, command line, config, default."""
        family = cls.get_task_family()
        by_name = dict(params)
        given: dict[str, Any] = {}
        positional = [name for name, p in params if p.positional]
        if len(args) > len(positional):
            raise PositionalParameterError(family, len(args), tuple(positional))
        given.update(zip(positional, args))
        for name, arg in kwargs.items():
            if name in given:
                raise DuplicateParameterError(family, name)
            if name not in by_name:
                raise UnknownParameterError(family, name, tuple(by_name))
            given[name] = arg
        values = [
            (name, _hashable(_resolve(family, name, param, given)))
            for name, param in params
        ]
        _warn_unconsumed(cls, family, by_name)
        return values

    @classmethod
    def from_str_params(cls, params_str: dict[str, Any]) -> Task:
        """Create an instance from serialized ``{name: text}`` values."""
        kwargs = {}
        for name, param in cls.get_params():
            if name in params_str:
                text = params_str[name]
                parse = param._parse_list if isinstance(text, list) else param.parse  # noqa: SLF001
                kwargs[name] = _relabel(cls.get_task_family(), name, parse, text)
        return cls(**kwargs)

    def to_str_params(
        self, only_significant: bool = False, only_public: bool = False
    ) -> dict[str, str]:
        """Serialize the parameters to ``{name: text}``; private ones never appear."""
        params = dict(self.get_params())
        result = {}
        for name, value in self.param_kwargs.items():
            param = params[name]
            if param.visibility == ParameterVisibility.PRIVATE:
                continue
            if only_significant and not param.significant:
                continue
            if only_public and param.visibility != ParameterVisibility.PUBLIC:
                continue
            result[name] = param.serialize(value)
        return result

    @property
    def param_args(self) -> tuple[Any, ...]:
        """The parameter values in declaration order (deprecated, as in Luigi)."""
        what = "Use of param_args has been deprecated"
        fix = "use task.param_kwargs (a dict by name) instead"
        warning = ParameterDeprecationWarning(type(self).__name__, what, fix)
        warnings.warn(warning, stacklevel=2)
        return tuple(self.param_kwargs[name] for name, _ in self.get_params())

    def _get_param_visibilities(self) -> dict[str, int]:
        """Return ``{name: visibility}`` of the parameters that are not private."""
        return {
            name: param.visibility.serialize()
            for name, param in self.get_params()
            if param.visibility != ParameterVisibility.PRIVATE
        }

    def clone(self, cls: type[Task] | None = None, **kwargs: Any) -> Task:
        """Return a task of ``cls`` (default: this class) sharing these parameters.

        Each parameter of ``cls`` comes from ``kwargs``, else from this task's
        attribute of that name: a parameter, or (as in Luigi) a plain attribute or
        property; a parameter found in neither takes its usual value.
        """
        target = cls or type(self)
        new_kwargs = {}
        for name, _ in target.get_params():
            if name in kwargs:
                new_kwargs[name] = kwargs[name]
            elif name in self.param_kwargs:
                new_kwargs[name] = self.param_kwargs[name]
            elif hasattr(self, name):
                new_kwargs[name] = getattr(self, name)
        return target(**new_kwargs)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.task_id == getattr(
            other, "task_id", 0
        )

    def __repr__(self) -> str:
        params = dict(self.get_params())
        parts = [
            f"{name}={params[name].serialize(value)}"
            for name, value in self.param_kwargs.items()
            if params[name].significant
        ]
        return f"{self.get_task_family()}({', '.join(parts)})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_reporter", None)
        return state

    # --- the user's API -------------------------------------------------------------

    def requires(self) -> Any:
        """Return the tasks this task needs: a task, or nested lists/dicts of tasks."""
        return []

    def _requires(self) -> Any:
        """Return ``requires()``; a hook for decorators that add requirements."""
        return flatten(self.requires())

    def deps(self) -> list[Task]:
        """Return the flat list of direct requirements, checking their types."""
        found = flatten(self._requires())
        for dep in found:
            if not isinstance(dep, Task):
                self._wrong_requirement(dep)
        return found

    def input(self) -> Any:
        """Return the outputs of ``requires()``, in the same shape (Luigi's rules).

        ``requires()`` is called again each time, so a generator is never exhausted;
        lists, tuples and dicts keep their type, other iterables become lists.
        """
        return map_structure(self._output_of, self.requires())

    def _output_of(self, requirement: Any) -> Any:
        if requirement is None:  # no requirement, as in flatten() (Luigi raises)
            return None
        if not isinstance(requirement, Task):
            self._wrong_requirement(requirement)
        return requirement.output()

    def _wrong_requirement(self, got: Any) -> NoReturn:
        raise DefinitionTypeError(
            repr(self),
            "requires",
            got,
            "a Task, or lists/tuples/dicts/generators of Tasks",
            definition_site(type(self).requires),
        )

    def output(self) -> Any:
        """Return the targets this task makes: a target, or lists/dicts of them."""
        return []

    def complete(self) -> bool:
        """Return whether every output exists (False for a task with no outputs)."""
        outputs = flatten(self.output())
        if not outputs:
            return False
        check_targets(self, outputs)
        return all(output.exists() for output in outputs)

    def run(self) -> Any:
        """Do the work; may be a generator that yields dynamic requirements."""

    def on_success(self) -> Any:
        """Run after ``run()`` succeeds; the return value is the status message."""

    def on_failure(self, exception: BaseException) -> str:
        """Run after ``run()`` raises; the return value explains the failure."""
        del exception
        return "Runtime error:\n" + traceback.format_exc()

    @property
    def disable_window_seconds(self) -> Any:
        """``disable_window`` under its old name (deprecated, as in Luigi)."""
        warning = ParameterDeprecationWarning(
            type(self).__name__,
            "disable_window_seconds has been deprecated",
            "use disable_window instead",
        )
        warnings.warn(warning, stacklevel=2)
        return self.disable_window

    @property
    def disabled(self) -> bool:
        """Whether the scheduler must never run this task."""
        return False

    @property
    def batchable(self) -> bool:
        """Whether several tasks of this family can run as one batch."""
        return bool(self.batch_param_names())

    # --- runtime callbacks (routed to the worker while running) ---------------------

    def set_tracking_url(self, url: str) -> None:
        """Publish a URL where the running task can be followed."""
        self._report("tracking_url", url)

    def set_status_message(self, message: str) -> None:
        """Publish a short human-readable status of the running task."""
        self._report("status_message", message)

    def set_progress_percentage(self, percentage: float) -> None:
        """Publish the running task's progress, 0 to 100."""
        self._report("progress", percentage)

    def decrease_running_resources(self, decrease_resources: dict[str, int]) -> None:
        """Give back part of this running task's resources to the scheduler."""
        self._report("decrease_resources", dict(decrease_resources))

    def _report(self, kind: str, value: Any) -> None:
        reporter = self.__dict__.get("_reporter")
        if reporter is not None:
            reporter(self.task_id, kind, value)
        if kind == "progress":
            self.trigger_event(Event.PROGRESS, self, value)

    @contextmanager
    def no_unpicklable_properties(self) -> Iterator[None]:
        """Temporarily drop the runtime callbacks so the task pickles.

        That is the worker's reporter and any callback set on the instance in place
        of ``set_tracking_url`` and the other reporting methods (as Luigi drops).
        """
        held = {
            name: self.__dict__.pop(name)
            for name in ("_reporter", *_REPORTING_METHODS)
            if name in self.__dict__
        }
        try:
            yield
        finally:
            self.__dict__.update(held)

    # --- event handlers -------------------------------------------------------------

    @classmethod
    def event_handler(cls, event: str) -> Callable[[F], F]:
        """Register the decorated function for ``event`` on this class and subclasses."""

        def wrapper(callback: F) -> F:
            _EVENT_HANDLERS.setdefault(cls, {}).setdefault(event, []).append(callback)
            return callback

        return wrapper

    @classmethod
    def remove_event_handler(cls, event: str, callback: Callback) -> None:
        """Unregister ``callback``, registered for ``event`` with :meth:`event_handler`.

        Raises
        ------
        HandlerNotRegisteredError
            ``callback`` is not registered for ``event`` on this class.
        """
        handlers = _EVENT_HANDLERS.get(cls, {}).get(event, [])
        if callback not in handlers:
            raise HandlerNotRegisteredError(cls.get_task_family(), event, callback)
        handlers.remove(callback)

    def trigger_event(self, event: str, *args: Any) -> None:
        """Call the handlers registered for ``event``; a failing handler is logged."""
        if not _EVENT_HANDLERS:
            return
        for klass, handlers in list(_EVENT_HANDLERS.items()):
            if not isinstance(self, klass):
                continue
            for callback in handlers.get(event, ()):
                try:
                    callback(*args)
                except Exception:
                    logger.exception("event handler %r for %s failed", callback, event)


_start_class(Task)  # ``Task()`` itself is a task (Luigi's): no parameters, no output


def check_targets(task: Task, outputs: list[Any]) -> None:
    """Raise a :class:`DefinitionTypeError` if an output of ``task`` is not a target.

    Raises
    ------
    DefinitionTypeError
        Naming the task, the value, and where ``output()`` is defined.
    """
    for output in outputs:
        if not callable(getattr(output, "exists", None)):
            raise DefinitionTypeError(
                repr(task),
                "output",
                output,
                "a Target (such as LocalTarget), or lists/dicts of them",
                definition_site(type(task).output),
            )


def _resolve(
    family: str, name: str, param: Parameter[Any], given: dict[str, Any]
) -> Any:
    if name in given:
        return _relabel(family, name, param.normalize, given[name])
    text = _config.current_overrides().get(family, {}).get(name)
    if text is None:
        settings = _config.current_settings()
        text = settings.get(family, name)
        if text is not None and settings.spelled_with_dashes(family, name):
            what = (  # as Luigi, which reads both spellings and warns on this one
                f"the configuration [{family}] {name.replace('_', '-')} "
                "(with dashes) should be avoided"
            )
            fix = f"use underscores: [{family}] {name}"
            warnings.warn(ParameterDeprecationWarning(family, what, fix), stacklevel=2)
    if text is None and param.config_path:
        path = param.config_path
        text = _config.current_settings().get(path["section"], path["name"])
        if text is not None:  # Luigi's old spelling of the option: deprecated there
            what = f"the configuration [{path['section']}] {path['name']} is deprecated"
            fix = f"use [{family}] {name} instead"
            warnings.warn(ParameterDeprecationWarning(family, what, fix), stacklevel=2)
    if text is not None:
        parsed = _relabel(family, name, param.parse, text)
        return _relabel(family, name, param.normalize, parsed)
    if param.has_default:
        return _relabel(family, name, param.normalize, param.default)
    raise MissingParameterError(family, name)


def _relabel(family: str, name: str, function: Callable[[Any], Any], value: Any) -> Any:
    """Call a parameter's parse/normalize, naming the real task family in errors."""
    try:
        return function(value)
    except ParameterValueError as error:
        raise error.relabeled(family, name) from None
    except NbflowError:
        raise
    except (ValueError, TypeError) as error:
        raise ParameterValueError(family, name, value, str(error)) from error


class ExternalTask(Task):
    """A task made outside this pipeline: it is never run, only checked for output."""

    run = None  # type: ignore[assignment]


class WrapperTask(Task):
    """A task that only groups requirements: complete when all of them are."""

    def complete(self) -> bool:
        """Return whether every requirement is complete."""
        return all(dep.complete() for dep in self.deps())


class Config(Task):
    """A group of settings: its parameters come from the config section of its name."""


def externalize(task_or_class: Any) -> Any:
    """Return a copy of a task, or of a task class, that is never run.

    A task's copy has the same class and ``task_id`` (it is equal to the task); a
    class's copy has the same family and is not registered, so names still resolve
    to the original. The original is left as it was.
    """
    if isinstance(task_or_class, Task):
        external = copy.copy(task_or_class)
        external.__dict__["run"] = None
        return external
    body = {"run": None, "_nbflow_register": False}
    external_class: type[Task] = type(task_or_class.__name__, (task_or_class,), body)
    external_class.__module__ = task_or_class.__module__
    external_class.__qualname__ = task_or_class.__qualname__
    external_class.__doc__ = task_or_class.__doc__
    external_class._namespace_at_definition = task_or_class._namespace_at_definition  # noqa: SLF001
    return external_class


def namespace(namespace: str | None = None, scope: str = "") -> None:
    """Set the namespace of task classes defined after this call in ``scope``."""
    REGISTRY.set_namespace(namespace, scope)


def auto_namespace(scope: str = "") -> None:
    """Give classes defined after this call their module's name as namespace."""
    REGISTRY.set_namespace(AUTO_NAMESPACE, scope)
