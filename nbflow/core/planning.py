"""Before running: why each task would (or would not) run, forcing, and accepting.

The one implementation of ``why``, ``--dry-run``, ``--force`` and ``--accept``: the
``nbflow`` command and the ``%nbflow`` magic only parse their arguments into
:class:`PlanOptions`, call :func:`why` or :func:`prepare_run`, and print the text.

- :func:`explain` answers ``why``: for every task in the graph, whether a build would
  run it and the reason ("output missing", "stale: code changed in clean_rows",
  "forced", "up to date", "unversioned: ...", "not checked: ... is complete").
- :func:`forced_ids` turns ``--force Task`` into the task and everything downstream of
  it (within the requested graph).
- :func:`accept` records the current fingerprint of tasks whose outputs exist, without
  running them ("I know the code changed; the outputs are still right"); in a dry run it
  only says what it would record.

Imports: stdlib, nbflow.core.{cmdline, completeness, errors, events, graph, structure,
task}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core.completeness import MODES, FingerprintCheck
from nbflow.core.errors import ParameterValueError, UnknownTaskError
from nbflow.core.events import RetryPolicy
from nbflow.core.graph import GraphBuilder
from nbflow.core.structure import flatten
from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.cmdline import Invocation


class Explanation(NamedTuple):
    """Whether a build would run one task, and why."""

    task_id: str
    label: str
    will_run: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The planning options of one command line: mode, --force, --accept, --dry-run."""

    #: completeness mode: "exists" or "fingerprint"
    mode: str = "fingerprint"
    #: tasks (names, ids or reprs) to run again with everything downstream
    force: tuple[str, ...] = ()
    #: tasks whose current fingerprint to record without running them
    accept: tuple[str, ...] = ()
    dry_run: bool = False

    @classmethod
    def from_invocation(cls, invocation: Invocation, default_mode: str) -> PlanOptions:
        """Read the options from a parsed command line; the shell gives the default mode.

        Examples
        --------
        >>> from nbflow.core.cmdline import Invocation
        >>> PlanOptions.from_invocation(Invocation(options={"dry_run": True}), "exists")
        PlanOptions(mode='exists', force=(), accept=(), dry_run=True)
        """
        options = invocation.options
        return cls(
            mode=str(options.get("completeness") or default_mode),
            force=tuple(options.get("force") or ()),
            accept=tuple(options.get("accept") or ()),
            dry_run=bool(options.get("dry_run")),
        )


class Preflight(NamedTuple):
    """What :func:`prepare_run` did: the text to show, and whether to stop there."""

    text: str
    #: True for a dry run: nothing is to be run
    stop: bool


def why(roots: Iterable[Task], options: PlanOptions) -> str:
    """Return the text of ``why``: one line per task, then how many would run."""
    roots = list(roots)
    items = explain(roots, mode=options.mode, force=forced_ids(roots, options.force))
    will_run = sum(item.will_run for item in items)
    return _with_summary(items, f"{will_run} of {len(items)} tasks would run.")


def prepare_run(roots: Iterable[Task], options: PlanOptions) -> Preflight:
    """Carry out --accept and --dry-run before a run; a dry run writes nothing.

    In a dry run the accepted tasks are only listed ("would accept"), and the plan
    treats them as accepted, so it shows what the real command would run.
    """
    roots = list(roots)
    accepted = (
        accept(roots, options.accept, dry_run=options.dry_run) if options.accept else {}
    )
    verb = "would accept" if options.dry_run else "accepted"
    lines = [f"{verb}  {label}" for label in accepted.values()]
    if not options.dry_run:
        return Preflight("\n".join(lines), stop=False)
    items = plan(
        roots,
        mode=options.mode,
        force=forced_ids(roots, options.force),
        accepted=frozenset(accepted),
    )
    summary = f"{len(items)} tasks would run (dry run: nothing was run)."
    return Preflight("\n".join([*lines, _with_summary(items, summary)]), stop=True)


def _with_summary(items: list[Explanation], summary: str) -> str:
    return f"{format_explanations(items)}\n\n{summary}" if items else summary


def format_explanations(items: list[Explanation]) -> str:
    """Return one line per task: RUN or skip, its label and the reason.

    Examples
    --------
    >>> print(format_explanations([Explanation("a", "A()", True, "output missing")]))
    RUN   A()  output missing
    """
    width = max((len(item.label) for item in items), default=0)
    return "\n".join(
        f"{'RUN ' if item.will_run else 'skip'}  {item.label:<{width}}  {item.reason}"
        for item in items
    )


def expand_all(roots: Iterable[Task]) -> dict[str, tuple[Task, list[str]]]:
    """Return every task below ``roots`` (ignoring completeness) with its requirements."""
    found: dict[str, tuple[Task, list[str]]] = {}
    stack = list(flatten(list(roots)))
    while stack:
        task = stack.pop()
        if task.task_id in found:
            continue
        deps = task.deps() if getattr(task, "run", None) is not None else []
        found[task.task_id] = (task, [dep.task_id for dep in deps])
        stack.extend(dep for dep in deps if dep.task_id not in found)
    return found


def _matches(task: Task, names: set[str]) -> bool:
    return (
        task.task_id in names or task.get_task_family() in names or repr(task) in names
    )


def forced_ids(roots: Iterable[Task], names: Iterable[str | Task]) -> frozenset[str]:
    """Return the ids of the named tasks and of everything downstream of them.

    ``names`` holds tasks, task ids, reprs or family names; with none, nothing is
    forced and the graph is not walked.

    Raises
    ------
    UnknownTaskError
        A name matches no task in the graph.
    """
    wanted = {name.task_id if isinstance(name, Task) else str(name) for name in names}
    if not wanted:
        return frozenset()
    graph = expand_all(roots)
    hits = {tid for tid, (task, _) in graph.items() if _matches(task, wanted)}
    unmatched = sorted(
        name
        for name in wanted
        if not any(_matches(graph[tid][0], {name}) for tid in hits)
    )
    if unmatched:
        families = tuple(sorted({task.get_task_family() for task, _ in graph.values()}))
        raise UnknownTaskError(unmatched[0], families)
    dependents: dict[str, list[str]] = {}
    for task_id, (_, deps) in graph.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(task_id)
    forced, stack = set(hits), list(hits)
    while stack:
        for parent in dependents.get(stack.pop(), ()):
            if parent not in forced:
                forced.add(parent)
                stack.append(parent)
    return frozenset(forced)


def explain(
    roots: Iterable[Task],
    *,
    mode: str = "fingerprint",
    force: frozenset[str] = frozenset(),
    accepted: frozenset[str] = frozenset(),
) -> list[Explanation]:
    """Say, for every task in the graph, whether a build would run it and why.

    ``accepted`` holds the ids of tasks to treat as accepted (a dry run of --accept).

    Raises
    ------
    ParameterValueError
        ``mode`` is not one of the completeness modes.
    """
    if mode not in MODES:
        raise ParameterValueError("why", "completeness", mode, " or ".join(MODES))
    roots = list(roots)
    checker = FingerprintCheck(mode, force=force, accepted=accepted)
    builder = GraphBuilder(checker, RetryPolicy())
    discovery = builder.discover(roots)
    checked = {spec.task_id: spec for spec in discovery.specs}
    out = []
    for task_id, (task, _) in expand_all(roots).items():
        spec = checked.get(task_id)
        if spec is None:
            out.append(
                Explanation(
                    task_id,
                    repr(task),
                    will_run=False,
                    reason="not checked: everything that needs it is complete",
                )
            )
        elif spec.broken:
            out.append(
                Explanation(
                    task_id,
                    repr(task),
                    will_run=False,
                    reason=f"cannot be scheduled: {spec.broken}",
                )
            )
        elif not spec.runnable and not spec.complete:
            out.append(
                Explanation(
                    task_id, repr(task), will_run=False, reason="external input missing"
                )
            )
        else:
            reason = spec.reason or ("complete" if spec.complete else "incomplete")
            out.append(Explanation(task_id, repr(task), not spec.complete, reason))
    return out


def plan(
    roots: Iterable[Task],
    *,
    mode: str = "exists",
    force: frozenset[str] = frozenset(),
    accepted: frozenset[str] = frozenset(),
) -> list[Explanation]:
    """Return the tasks a build would run (a dry run), with their reasons."""
    items = explain(roots, mode=mode, force=force, accepted=accepted)
    return [item for item in items if item.will_run]


def accept(
    roots: Iterable[Task], names: Iterable[str | Task], *, dry_run: bool = False
) -> dict[str, str]:
    """Record the current fingerprint of the named tasks, without running them.

    Downstream tasks whose *only* change is that an accepted task changed are accepted
    too (their inputs are the very outputs just vouched for); a downstream task with
    changes of its own stays stale. A task whose outputs do not all exist is skipped.
    Returns the ids and labels of the tasks accepted; with ``dry_run`` nothing is
    written, and the result says what would be.

    Raises
    ------
    UnknownTaskError
        A name matches no task in the graph.
    """
    roots = list(roots)
    wanted = {name.task_id if isinstance(name, Task) else str(name) for name in names}
    graph = expand_all(roots)
    chosen = {tid for tid, (task, _) in graph.items() if _matches(task, wanted)}
    if not chosen:
        families = tuple(sorted({task.get_task_family() for task, _ in graph.values()}))
        raise UnknownTaskError(min(wanted), families)
    check = FingerprintCheck("fingerprint")
    accepted: dict[str, str] = {}
    for task_id in _upward_order(graph):
        task, _ = graph[task_id]
        wanted_here = task_id in chosen or _only_upstream_changed(task, check, accepted)
        if wanted_here and _record(task, check, dry_run=dry_run):
            accepted[task_id] = repr(task)
    return accepted


def _upward_order(graph: dict[str, tuple[Task, list[str]]]) -> list[str]:
    """Return task ids requirements first (Kahn's algorithm; no recursion)."""
    waiting = {task_id: len(deps) for task_id, (_, deps) in graph.items()}
    dependents: dict[str, list[str]] = {}
    for task_id, (_, deps) in graph.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(task_id)
    order = [task_id for task_id, count in waiting.items() if count == 0]
    for task_id in order:
        for parent in dependents.get(task_id, ()):
            waiting[parent] -= 1
            if waiting[parent] == 0:
                order.append(parent)
    return order


def _only_upstream_changed(
    task: Task, check: FingerprintCheck, accepted: dict[str, str]
) -> bool:
    outputs = flatten(task.output())
    digests = check.sidecars.digests(outputs[0]) if outputs else set()
    before = check.sidecars.read(outputs[0], min(digests)) if digests else None
    if before is None:
        return False
    now = check.fingerprinter.of(task)
    changed = {
        dep
        for dep in set(now.upstream) | set(before.upstream)
        if now.upstream.get(dep) != before.upstream.get(dep)
    }
    return (
        before.code == now.code
        and before.params == now.params
        and bool(changed)
        and changed.issubset(accepted)
    )


def _record(task: Task, check: FingerprintCheck, *, dry_run: bool) -> bool:
    outputs = flatten(task.output())
    if not outputs or not all(output.exists() for output in outputs):
        return False
    if dry_run:
        return True
    fingerprint = check.fingerprinter.of(task)
    for output in outputs:
        check.sidecars.write(output, fingerprint, task.task_id)
    return True
