"""Pluggable completeness: decides which tasks are already done.

A :class:`CompletenessCheck` answers, for a batch of tasks, whether each is complete
and why. The worker asks it exactly once per task per build (Luigi asks up to three
times: its issue #2992), and tells it when a task has just succeeded (``record``), so a
check that keeps state beside outputs (code-aware fingerprints) can write it.

The default, :class:`ExistenceCheck`, is Luigi's rule: ``task.complete()``, which is
true when every output exists. With ``threads > 1`` it checks in parallel threads,
which pays off when outputs live on a slow filesystem.

Imports: stdlib, nbflow.core.task.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.core.fingerprint import Fingerprinter
from nbflow.core.sidecar import SidecarIndex, can_record
from nbflow.core.structure import flatten
from nbflow.core.task import Task

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one task is complete, why, and the error if the check itself failed."""

    complete: bool
    reason: str = ""
    error: BaseException | None = None
    traceback: str = ""


class CompletenessCheck(Protocol):
    """Decides completeness for the worker; one call per task per build."""

    def check(self, tasks: Sequence[Task]) -> list[Verdict]:
        """Return one verdict per task, in order; never raise for a task's error."""

    def record(self, task: Task) -> None:
        """Note that ``task`` has just run successfully."""


class ExistenceCheck:
    """Luigi's completeness: ``task.complete()`` (all outputs exist).

    Examples
    --------
    >>> from nbflow.core.task import Task
    >>> class NoOutputs(Task):
    ...     pass
    >>> ExistenceCheck().check([NoOutputs()])
    [Verdict(complete=False, reason='no outputs', error=None, traceback='')]
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def check(self, tasks: Sequence[Task]) -> list[Verdict]:
        """Return one verdict per task, checking in parallel threads if configured."""
        if self.threads > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(
                self.threads, thread_name_prefix="nbflow-check"
            ) as pool:
                return list(pool.map(_check_one, tasks))
        return [_check_one(task) for task in tasks]

    def record(self, task: Task) -> None:
        """Do nothing: existence needs no bookkeeping."""


_COMPLETE = Verdict(complete=True, reason="complete")
_MISSING = Verdict(complete=False, reason="output missing")
_NO_OUTPUTS = Verdict(complete=False, reason="no outputs")


def _check_one(task: Task) -> Verdict:
    try:
        if task.complete():
            return _COMPLETE
    except Exception as exc:  # noqa: BLE001  (becomes a scheduling error for this task)
        return Verdict(False, "complete() raised", exc, traceback.format_exc())
    if type(task).complete is Task.complete and not task.output():
        return _NO_OUTPUTS
    return _MISSING


#: The completeness modes: Luigi's rule, and code-aware fingerprints.
MODES = ("exists", "fingerprint")


class FingerprintCheck:
    """Complete when outputs exist *and* were made by the same code, parameters, inputs.

    A task whose class sets ``completeness_mode = "exists"`` (or "fingerprint") uses that
    mode whatever the run's default. ``force`` lists task ids to treat as incomplete
    ("forced"); ``accepted`` lists task ids to treat as up to date when their outputs
    exist (a dry run of ``--accept``, which records nothing).

    Outputs that exist without a recorded fingerprint (made in exists mode, or their
    sidecar was deleted) are *unversioned*: nbflow cannot tell what made them, so it
    does not rebuild them (adopting an exists-mode pipeline rebuilds nothing), and says
    so with the fix. A downstream task is judged by its own sidecar, which records the
    fingerprints of its requirements: when that record shows that an unversioned
    requirement changed, the requirement is stale too and runs again. (A requirement
    already checked before the downstream task, through a shorter path, keeps its
    verdict.) An ExternalTask's outputs are inputs from outside: simply complete.
    """

    def __init__(
        self,
        default_mode: str = "fingerprint",
        *,
        threads: int = 1,
        force: frozenset[str] = frozenset(),
        accepted: frozenset[str] = frozenset(),
    ) -> None:
        self.default_mode = default_mode
        self.force = force
        self.accepted = accepted
        self.fingerprinter = Fingerprinter()
        self.sidecars = SidecarIndex()
        self.threads = threads
        #: requirement id -> a task whose record shows that requirement changed
        self._changed: dict[str, Task] = {}

    def mode_of(self, task: Task) -> str:
        """Return the completeness mode used for ``task``."""
        mode = getattr(task, "completeness_mode", None)
        return mode if mode in MODES else self.default_mode

    def check(self, tasks: Sequence[Task]) -> list[Verdict]:
        """Return one verdict per task: existence first, then the fingerprint."""
        if self.threads > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(
                self.threads, thread_name_prefix="nbflow-check"
            ) as pool:
                verdicts = list(pool.map(self._verdict, tasks))
        else:
            verdicts = [self._verdict(task) for task in tasks]
        # a task later in this batch may have shown an unversioned one changed
        return [
            self._changed_since(task) or verdict
            if verdict.reason.startswith("unversioned")
            else verdict
            for task, verdict in zip(tasks, verdicts)
        ]

    def _verdict(self, task: Task) -> Verdict:
        if task.task_id in self.force:
            return _FORCED
        try:
            outputs = self._existing_outputs(task)
            if outputs is None or isinstance(outputs, Verdict):
                return outputs or _COMPLETE
            if (
                self.mode_of(task) != "fingerprint"
                or getattr(task, "run", None) is None
            ):
                return _COMPLETE
            if task.task_id in self.accepted:
                return _ACCEPTED
            return self._compare(task, outputs)
        except Exception as exc:  # noqa: BLE001  (a scheduling error for this task)
            return Verdict(False, "complete() raised", exc, traceback.format_exc())

    def _existing_outputs(self, task: Task) -> list[Any] | Verdict | None:
        """Return the outputs if all exist, else the verdict (None: custom complete())."""
        if type(task).complete is not Task.complete:  # a custom complete() decides
            verdict = _check_one(task)
            if not verdict.complete:
                return verdict
            return (
                flatten(task.output()) if self.mode_of(task) == "fingerprint" else None
            )
        outputs = flatten(task.output())
        if not outputs:
            return _NO_OUTPUTS
        return outputs if all(out.exists() for out in outputs) else _MISSING

    def _compare(self, task: Task, all_outputs: list[Any]) -> Verdict:
        digests_of = self.sidecars.digests
        recorded = [(out, digests_of(out)) for out in all_outputs if can_record(out)]
        versioned = [(out, digests) for out, digests in recorded if digests]
        if not recorded:
            return _UNRECORDABLE
        digest = self.fingerprinter.digest_of(task) if versioned else ""
        stale = [(out, digests) for out, digests in versioned if digest not in digests]
        if not stale:
            if len(versioned) < len(recorded):
                return self._changed_since(task) or _unversioned(task)
            return _UP_TO_DATE
        output, digests = stale[0]
        before = self.sidecars.read(output, min(digests))
        if before is None:
            return Verdict(False, "stale: fingerprint changed")
        now = self.fingerprinter.of(task)
        labels = {}
        for dep in task.deps():
            labels[dep.task_id] = repr(dep)
            if now.upstream.get(dep.task_id) != before.upstream.get(dep.task_id):
                self._changed.setdefault(dep.task_id, task)
        return Verdict(False, "stale: " + "; ".join(now.differences(before, labels)))

    def _changed_since(self, task: Task) -> Verdict | None:
        """Return a stale verdict if a downstream record shows ``task`` changed."""
        downstream = self._changed.get(task.task_id)
        if downstream is None:
            return None
        return Verdict(
            False,
            f"stale: unversioned, and its code or inputs changed since {downstream!r} "
            "was made",
        )

    def record(self, task: Task) -> None:
        """Write the fingerprint beside each output of a task that just ran."""
        if self.mode_of(task) != "fingerprint":
            return
        fingerprint = self.fingerprinter.of(task)
        for output in flatten(task.output()):
            self.sidecars.write(output, fingerprint, task.task_id)


def _unversioned(task: Task) -> Verdict:
    family = task.get_task_family()
    return Verdict(
        complete=True,
        reason=(
            "unversioned: outputs exist without a recorded fingerprint, so a change "
            f"cannot be seen (fix: --accept {family} to adopt them, --force {family} "
            "to rebuild)"
        ),
    )


_FORCED = Verdict(complete=False, reason="forced")
_ACCEPTED = Verdict(complete=True, reason="accepted")
_UNRECORDABLE = Verdict(
    complete=True, reason="unversioned: its targets keep no sidecar"
)
_UP_TO_DATE = Verdict(complete=True, reason="up to date")


def make_check(
    mode: str = "exists", *, threads: int = 1, force: frozenset[str] = frozenset()
) -> CompletenessCheck:
    """Return the completeness check for a mode name ("exists" or "fingerprint").

    Raises
    ------
    ParameterValueError
        ``mode`` is not one of :data:`MODES`.
    """
    if mode not in MODES:
        from nbflow.core.errors import ParameterValueError  # noqa: PLC0415

        raise ParameterValueError("build", "completeness", mode, " or ".join(MODES))
    if mode == "exists" and not force and not _any_class_wants_fingerprints():
        return ExistenceCheck(threads)
    return FingerprintCheck(mode, threads=threads, force=force)


def _any_class_wants_fingerprints() -> bool:
    from nbflow.core.registry import REGISTRY  # noqa: PLC0415

    return any(
        getattr(cls, "completeness_mode", None) == "fingerprint"
        for cls in REGISTRY.classes()
    )
