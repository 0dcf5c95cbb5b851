"""The nbflow exception and warning hierarchy.

Every error a user can meet derives from :class:`NbflowError`. Messages are built in
``__str__`` from public, picklable fields in the shape::

    <where>: <what was wrong> (got <repr>). Expected <expectation>. Fix: <action>.

Raise sites pass data, never preformatted text, so widgets and the server can render
the fields. ``super().__init__(*args)`` receives the ``__init__`` arguments in order,
which keeps every error picklable (process pools and Dask send them across processes).

Imports: nothing from nbflow.
"""

from __future__ import annotations

import difflib
import os.path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

ISSUES_URL = "https://github.com/nbflow/nbflow/issues"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return a ``" Did you mean: a, b?"`` suffix, or ``""`` when nothing is close.

    Examples
    --------
    >>> did_you_mean("Clen", ["Clean", "Report"])
    ' Did you mean: Clean?'
    >>> did_you_mean("zzz", ["Clean"])
    ''
    """
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    return f" Did you mean: {', '.join(close)}?" if close else ""


class NbflowError(Exception):
    """Root of every error raised by nbflow."""


class NbflowWarning(UserWarning):
    """Root of every warning issued by nbflow."""


class UnknownConfigKeyWarning(NbflowWarning):
    """A section that nbflow reads holds a key that nbflow does not know."""

    def __init__(
        self, source: str, section: str, key: str, known: tuple[str, ...]
    ) -> None:
        super().__init__(source, section, key, known)
        self.source, self.section, self.key, self.known = source, section, key, known

    def __str__(self) -> str:
        return (
            f"{self.source}: unknown key in [{self.section}], ignored (got "
            f"{self.key!r}). Expected a key that nbflow (or Luigi) reads there. "
            "Fix: correct its spelling, or remove it."
            f"{did_you_mean(self.key, self.known)}"
        )


class DefinitionError(NbflowError):
    """The user's task definitions or values are wrong."""


class ParameterError(DefinitionError):
    """A parameter was declared, given or resolved wrongly (Luigi's ParameterException).

    The root of every parameter error, so that ``except ParameterException`` in Luigi
    code catches them all.
    """


class ParameterValueError(ParameterError, ValueError):
    """A parameter value could not be parsed or failed validation."""

    def __init__(self, task: str, param: str, got: object, expected: str) -> None:
        super().__init__(task, param, got, expected)
        self.task, self.param, self.got, self.expected = task, param, got, expected

    def relabeled(self, task: str, param: str) -> ParameterValueError:
        """Return this error for parameter ``param`` of ``task`` (same kind)."""
        return type(self)(task, param, self.got, self.expected)

    def __str__(self) -> str:
        flag = "--" + self.param.replace("_", "-")
        return (
            f"{self.task}.{self.param}: invalid value (got {self.got!r}). "
            f"Expected {self.expected}. "
            f"Fix: pass {self.task}({self.param}=...) or {flag} with a valid value."
        )


class MissingParameterError(ParameterError, TypeError):
    """A required parameter has no value from constructor, command line or config."""

    def __init__(self, task: str, param: str) -> None:
        super().__init__(task, param)
        self.task, self.param = task, param

    def __str__(self) -> str:
        flag = "--" + self.param.replace("_", "-")
        return (
            f"{self.task}: missing value for parameter {self.param!r}. "
            "Expected a value from the constructor, the command line or the config. "
            f"Fix: pass {self.task}({self.param}=...), {flag} VALUE on the "
            f"command line, or set {self.param} in the [{self.task}] config section."
        )


class UnknownParameterError(ParameterError, TypeError):
    """A task was given a parameter it does not declare."""

    def __init__(self, task: str, param: str, known: tuple[str, ...]) -> None:
        super().__init__(task, param, known)
        self.task, self.param, self.known = task, param, known

    def __str__(self) -> str:
        listed = ", ".join(self.known) or "none"
        return (
            f"{self.task}: unknown parameter {self.param!r}. "
            f"Expected one of: {listed}. "
            f"Fix: remove it, or declare it on the class."
            f"{did_you_mean(self.param, self.known)}"
        )


class PathNotFoundError(ParameterValueError):
    """A path parameter declared with ``exists=True`` names a path that does not exist."""

    def __str__(self) -> str:
        return (
            f"{self.task}.{self.param}: The path {self.got} does not exist. "
            "Expected an existing path, as the parameter is declared with "
            "exists=True. Fix: create it before the task is made, or pass another "
            "path."
        )


class PositionalParameterError(UnknownParameterError):
    """A task was given more positional arguments than it has positional parameters."""

    def __init__(self, task: str, given: int, positional: tuple[str, ...]) -> None:
        ParameterError.__init__(self, task, given, positional)  # this class's fields
        self.task, self.given, self.positional = task, given, positional
        self.param, self.known = "", positional

    def __str__(self) -> str:
        takes = ", ".join(self.positional) or "none"
        first = self.positional[0] if self.positional else "name"
        return (
            f"{self.task}: too many positional arguments (got {self.given}). "
            f"Expected at most {len(self.positional)} positional arguments, for the "
            f"parameters in order: {takes}. Fix: pass the others by name, "
            f"e.g. {self.task}({first}=...)."
        )


class DuplicateParameterError(ParameterError, TypeError):
    """A task was given one parameter both positionally and by name."""

    def __init__(self, task: str, param: str) -> None:
        super().__init__(task, param)
        self.task, self.param = task, param

    def __str__(self) -> str:
        return (
            f"{self.task}: parameter {self.param!r} given twice (got it positionally "
            "and by name). Expected each parameter once. Fix: pass it either "
            f"positionally or as {self.param}=..., not both."
        )


class ParameterOptionError(ParameterError, TypeError):
    """A parameter type was declared without an option it needs, or with a bad one."""

    def __init__(self, kind: str, option: str, problem: str, example: str) -> None:
        super().__init__(kind, option, problem, example)
        self.kind, self.option, self.problem, self.example = (
            kind,
            option,
            problem,
            example,
        )

    def __str__(self) -> str:
        return (
            f"{self.kind}: {self.option} {self.problem}. Expected the declaration to "
            f"give it. Fix: declare it like {self.example}."
        )


class ChoiceTypeError(ParameterOptionError, AssertionError):
    """Some choices of a choice parameter are not of its ``var_type``.

    An :class:`AssertionError` too, as Luigi asserts this.
    """

    def __str__(self) -> str:
        return (
            f"{self.kind}: {self.option} {self.problem}. Expected every choice to be "
            "of var_type, as text is converted with var_type before it is compared. "
            f"Fix: declare it like {self.example}."
        )


class NoBatchMethodError(ParameterError, NotImplementedError):
    """Several values were given for a parameter that cannot combine them."""

    def __init__(self, task: str, param: str, got: object) -> None:
        super().__init__(task, param, got)
        self.task, self.param, self.got = task, param, got

    def __str__(self) -> str:
        return (
            f"{self.task}.{self.param}: several values to combine (got {self.got!r}), "
            "but the parameter has no batch_method. Expected a single value. Fix: "
            "declare it with batch_method=max (or another function of a list)."
        )


class ParameterTypeWarning(NbflowWarning):
    """A task holds a parameter value that is not of the parameter's type.

    The text starts as Luigi's does, so code that matches on it keeps working.
    """

    def __init__(self, kind: str, param: str, value: str, expected: str) -> None:
        super().__init__(kind, param, value, expected)
        self.kind, self.param, self.value, self.expected = kind, param, value, expected

    def __str__(self) -> str:
        return (
            f'{self.kind} "{self.param}" with value "{self.value}" is not of type '
            f"{self.expected}. Fix: pass a value of that type, or declare a parameter "
            "type that parses yours."
        )


class OptionalParameterTypeWarning(ParameterTypeWarning):
    """An optional parameter holds a value that is neither of its type nor None.

    The text is exactly Luigi's (tools compare it whole).
    """

    def __str__(self) -> str:
        return (
            f'{self.kind} "{self.param}" with value "{self.value}" is not of '
            f"{self.expected} or None."
        )


class ParameterOptionWarning(NbflowWarning):
    """A parameter was declared with an option that cannot take effect."""

    def __init__(self, kind: str, option: str, problem: str, fix: str) -> None:
        super().__init__(kind, option, problem, fix)
        self.kind, self.option, self.problem, self.fix = kind, option, problem, fix

    def __str__(self) -> str:
        return f"{self.kind}: option {self.option!r}: {self.problem}. Fix: {self.fix}."


class ParameterDeprecationWarning(NbflowWarning, DeprecationWarning):
    """A parameter was declared or written in a form that Luigi deprecated."""

    def __init__(self, where: str, what: str, fix: str) -> None:
        super().__init__(where, what, fix)
        self.where, self.what, self.fix = where, what, fix

    def __str__(self) -> str:
        return f"{self.where}: {self.what}. Fix: {self.fix}."


class UnconsumedParameterWarning(NbflowWarning):
    """A task's config section holds an option that none of its parameters reads.

    Given once per task class and option. The text is exactly Luigi's (tools compare
    it whole); list deliberate extras in the class's ``ignore_unconsumed``.
    """

    def __init__(self, task: str, option: str, value: str) -> None:
        super().__init__(task, option, value)
        self.task, self.option, self.value = task, option, value

    def __str__(self) -> str:
        return (
            f"The configuration contains the parameter '{self.option}' with value "
            f"'{self.value}' that is not consumed by the task '{self.task}'."
        )


class TaskLookupError(DefinitionError, LookupError):
    """A task name does not resolve to exactly one task class.

    The base of :class:`UnknownTaskError` and :class:`AmbiguousTaskError`; Luigi's
    ``TaskClassException`` (in ``nbflow.task_register``) is this class.
    """


class UnknownTaskError(TaskLookupError):
    """No task class is registered under the name that was asked for."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(name, known)
        self.name, self.known = name, known

    def __str__(self) -> str:
        return (
            f"unknown task {self.name!r}. Expected the name of a Task class that "
            "has been defined or imported. Fix: check the spelling, or pass --module "
            f"with the module that defines it.{did_you_mean(self.name, self.known)}"
        )


class AmbiguousTaskError(TaskLookupError):
    """Two different modules define a task with the same family name."""

    def __init__(self, name: str, qualified_names: tuple[str, ...]) -> None:
        super().__init__(name, qualified_names)
        self.name, self.qualified_names = name, qualified_names

    def __str__(self) -> str:
        listed = ", ".join(self.qualified_names)
        return (
            f"task name {self.name!r} is ambiguous: it is defined in {listed}. "
            "Expected one definition per name. Fix: use a fully qualified name "
            f"(one of {listed}), or set task_namespace on one of the classes."
        )


class DefinitionTypeError(DefinitionError, TypeError):
    """A task method returned a value of the wrong type.

    ``location`` is ``file:line`` of the offending method (or of the ``yield``), when
    known, so the message points at the user's code rather than at nbflow's.
    """

    def __init__(
        self, task: str, method: str, got: object, expected: str, location: str = ""
    ) -> None:
        super().__init__(task, method, got, expected, location)
        self.task, self.method, self.got, self.expected = task, method, got, expected
        self.location = location

    def __str__(self) -> str:
        at = f" ({self.location})" if self.location else ""
        verb = "yielded" if self.method == "run" else "returned"
        return (
            f"{self.task}.{self.method}(){at}: {verb} a value of the wrong type "
            f"(got {self.got!r}). Expected {self.expected}. "
            f"Fix: {_definition_fix(self.method, self.got, self.expected)}."
        )


def _definition_fix(method: str, got: object, expected: str) -> str:
    """Return the fix for a wrong value from a task method, by what was given."""
    is_target = callable(getattr(got, "exists", None))
    if method in ("requires", "input") and is_target:
        return (
            "return the task that makes this target, not the target itself; for a "
            "file made outside the pipeline, return an ExternalTask whose output() "
            "is this target"
        )
    if method in ("requires", "input", "run") and isinstance(got, str):
        return f"return an instance such as {got}(), not the name {got!r}"
    if method == "output" and isinstance(got, str):
        return f"wrap the path in a target: return LocalTarget({got!r})"
    if method == "run":
        return "yield Task instances (or lists/dicts of them) from run()"
    return f"change {method}() to return {expected}"


class ConfigError(DefinitionError):
    """A configuration file could not be read."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        super().__init__(path, line, problem)
        self.path, self.line, self.problem = path, line, problem

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return (
            f"{where}: {self.problem}. Expected a valid config file. "
            f"Fix: correct the file at {where}, or point NBFLOW_CONFIG_PATH elsewhere."
        )


class WorkerCountError(DefinitionError, ValueError):
    """A run was asked for fewer than one worker."""

    def __init__(self, got: object) -> None:
        super().__init__(got)
        self.got = got

    def __str__(self) -> str:
        return (
            f"workers: must be at least 1 (got {self.got!r}); with no worker nothing "
            "would ever run. Fix: pass workers=1 or more (--workers N), or set [core] "
            "workers in the config."
        )


class CaptureModeError(DefinitionError, ValueError):
    """``capture_output`` names no capture mode."""

    def __init__(self, got: str, modes: tuple[str, ...]) -> None:
        super().__init__(got, modes)
        self.got, self.modes = got, modes

    def __str__(self) -> str:
        return (
            f"capture_output: unknown mode (got {self.got!r}). Expected one of "
            f"{', '.join(self.modes)}. Fix: pass capture_output='tee' (or another "
            "mode) to the run, or set it under [worker] in the config."
        )


class GraphError(NbflowError):
    """The dependency graph is malformed."""


class CyclicDependencyError(GraphError):
    """``requires()`` forms a cycle; ``cycle`` lists the task ids around it."""

    def __init__(self, cycle: tuple[str, ...]) -> None:
        super().__init__(cycle)
        self.cycle = cycle

    def __str__(self) -> str:
        loop = " -> ".join(self.cycle)
        return (
            f"dependency cycle: {loop}. Expected requires() to form a DAG. "
            "Fix: remove one of these requirements."
        )


class TaskIdCollisionError(GraphError):
    """Two different tasks have the same task id (its hash is only 40 bits)."""

    def __init__(self, task_id: str, first: str, second: str) -> None:
        super().__init__(task_id, first, second)
        self.task_id, self.first, self.second = task_id, first, second

    def __str__(self) -> str:
        return (
            f"task id {self.task_id!r}: two different tasks share it (got {self.first} "
            f"and {self.second}). Expected one task per id; the second would silently "
            "never run. Fix: change a parameter value of one of them, or rename one "
            "class (the id is the family, a parameter summary and a 40-bit hash)."
        )


class TaskFailedError(NbflowError):
    """User code in ``run()`` raised; the original exception is ``__cause__``."""

    def __init__(self, task_id: str, error: str) -> None:
        super().__init__(task_id, error)
        self.task_id, self.error = task_id, error

    def __str__(self) -> str:
        return f"{self.task_id}: run() failed: {self.error}"


class OutputWriteError(TaskFailedError):
    """The file system refused to write one of a task's outputs.

    ``path`` is the output's own path (never the temporary file nbflow wrote first);
    ``problem`` is the operating system's reason, such as ``Permission denied``.
    """

    def __init__(self, task: str, path: str, problem: str) -> None:
        NbflowError.__init__(self, task, path, problem)  # this class's own fields
        self.task, self.path, self.problem = task, path, problem
        self.task_id, self.error = task, problem

    def __str__(self) -> str:
        folder = os.path.dirname(self.path) or "."  # noqa: PTH120  (also URLs)
        return (
            f"{self.task}: cannot write output {self.path!r} (got {self.problem}). "
            f"Expected a folder this process can write to ({folder!r}). "
            f"Fix: make {folder!r} writable (or free space on its disk), or change "
            "output() to a path you can write."
        )


class OutputMissingError(NbflowError):
    """``run()`` returned but did not create all of its outputs."""

    def __init__(self, task: str, missing: tuple[str, ...]) -> None:
        super().__init__(task, missing)
        self.task, self.missing = task, missing

    def __str__(self) -> str:
        return (
            f"{self.task}: output missing after run ({', '.join(self.missing)}). "
            "Expected run() to create every target returned by output(). "
            "Fix: write each output (with target.open('w') or temporary_path()), "
            "or override complete()."
        )


class UnpicklableTaskError(NbflowError):
    """A task cannot be sent to another process."""

    def __init__(self, task: str, problem: str) -> None:
        super().__init__(task, problem)
        self.task, self.problem = task, problem

    def __str__(self) -> str:
        return (
            f"{self.task}: cannot be sent to a worker process ({self.problem}). "
            "Expected the task, its parameters and what run() uses to be picklable. "
            "Fix: install cloudpickle, move unpicklable objects (open files, locks, "
            "connections) into run(), or use the threads executor."
        )


class SchedulerError(NbflowError):
    """Trouble talking to, or inside, a scheduler."""


class UnknownTaskIdError(SchedulerError, LookupError):
    """A scheduler was asked about a task id it has never seen."""

    def __init__(self, task_id: str, where: str) -> None:
        super().__init__(task_id, where)
        self.task_id, self.where = task_id, where

    def __str__(self) -> str:
        return (
            f"{self.where}: unknown task id {self.task_id!r}. Expected the id of a "
            "task added to this scheduler. Fix: check the id (see task.task_id), or "
            "submit the task first."
        )


class PluginError(NbflowError):
    """An entry-point plugin could not be found or loaded."""


class PluginNotFoundError(PluginError, LookupError):
    """No plugin is installed under the requested name."""

    def __init__(
        self, group: str, name: str, installed: tuple[str, ...], extra: str
    ) -> None:
        super().__init__(group, name, installed, extra)
        self.group, self.name, self.installed, self.extra = (
            group,
            name,
            installed,
            extra,
        )

    def __str__(self) -> str:
        listed = ", ".join(self.installed) or "none"
        return (
            f"{self.group}: no plugin named {self.name!r} (installed: {listed}). "
            f"Expected one of the installed names. Fix: pick one of those, or "
            f"pip install 'nbflow[{self.extra}]'."
            f"{did_you_mean(self.name, self.installed)}"
        )


class PluginLoadError(PluginError, ImportError):
    """A plugin is registered but could not be imported."""

    def __init__(self, group: str, name: str, problem: str) -> None:
        super().__init__(group, name, problem)
        self.group, self.name, self.problem = group, name, problem

    def __str__(self) -> str:
        return (
            f"{self.group}: plugin {self.name!r} failed to load ({self.problem}). "
            "Expected an importable plugin. Fix: reinstall the package that provides "
            "it, or choose another."
        )


class InvalidTransitionError(NbflowError):
    """The scheduler was asked for an illegal state change: a bug in nbflow."""

    def __init__(
        self, task_id: str, status: str, event: str, story: tuple[str, ...]
    ) -> None:
        super().__init__(task_id, status, event, story)
        self.task_id, self.status, self.event, self.story = (
            task_id,
            status,
            event,
            story,
        )

    def __str__(self) -> str:
        history = "; ".join(self.story) or "no history"
        return (
            f"{self.task_id}: illegal transition from {self.status} on {self.event} "
            f"(story: {history}). Expected a legal move; this is a bug in nbflow. "
            f"Fix: please report it at {ISSUES_URL} with this message."
        )


class UnknownEventError(NbflowError):
    """The scheduler was handed something that is not one of its events: a bug."""

    def __init__(self, got: str, known: tuple[str, ...]) -> None:
        super().__init__(got, known)
        #: ``repr()`` of what was handed over (a string, so the error pickles).
        self.got, self.known = got, known

    def __str__(self) -> str:
        return (
            f"Scheduler.handle: not a scheduler event (got {self.got}). "
            f"Expected one of {', '.join(self.known)}; this is a bug in nbflow. "
            f"Fix: please report it at {ISSUES_URL} with this message."
        )
