"""What JupyterLab's graph view asks of the kernel that owns a run: :func:`act`.

The panel's node menu runs ``import nbflow.kernel.lab as _nbflow_lab;
_nbflow_lab.act('<json>')`` in the kernel of the run, and reads the cell's result, an
``application/json`` document ``{"ok", "message", "run", "why"}``. Requests name a
run of this kernel's session by its number and one of its tasks by id:

- ``{"action": "run", "run": N, "task_id": ID}``: run that task (and whatever
  incomplete it needs) in the background;
- ``{"action": "run_from_here", "run": N, "task_id": ID}``: run run N's roots again in
  the background with that task forced, so it and everything downstream of it run
  again (``--force``);
- ``{"action": "why", "run": N, "task_id": ID}``: the text of ``%nbflow why`` for it.

Tasks are made from their classes as the notebook defines them now (a cell re-run
since the run counts). Runs start in the background through the session
(:meth:`Session.run`), so the kernel is free again at once and the new run reaches the
panel through the run board (:mod:`nbflow.kernel.board`). A wrong request is answered,
not raised: ``ok`` false and a message saying what was wrong and how to fix it.

Imports: stdlib, nbflow.core.{errors, planning, config}, nbflow.kernel.session.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nbflow.core import planning
from nbflow.core.config import current_settings
from nbflow.core.errors import NbflowError
from nbflow.kernel.session import completeness_mode, current_session

if TYPE_CHECKING:
    from nbflow.core.task import Task
    from nbflow.kernel.record import RunRecord
    from nbflow.kernel.session import Session

__all__ = ["ACTIONS", "LabAnswer", "LabRequestError", "act"]

#: The requests :func:`act` answers.
ACTIONS = ("run", "run_from_here", "why")


class LabRequestError(NbflowError, ValueError):
    """A request from JupyterLab's nbflow panel could not be carried out."""

    def __init__(self, what: str, got: object, expected: str, fix: str) -> None:
        super().__init__(what, got, expected, fix)
        self.what, self.got, self.expected, self.fix = what, got, expected, fix

    def __str__(self) -> str:
        return (
            f"nbflow (JupyterLab): {self.what} (got {self.got!r}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )


class LabAnswer(dict[str, Any]):
    """The answer to one request: a dict, shown as an ``application/json`` result.

    Examples
    --------
    >>> answer = LabAnswer(ok=False, message="nbflow: no run 9")
    >>> answer
    {'ok': False, 'message': 'nbflow: no run 9', 'run': None, 'why': None}
    >>> sorted(answer._repr_mimebundle_())
    ['application/json', 'text/plain']
    """

    def __init__(
        self,
        *,
        ok: bool,
        message: str,
        run: int | None = None,
        why: str | None = None,
    ) -> None:
        super().__init__(ok=ok, message=message, run=run, why=why)

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, Any]:
        return {"application/json": dict(self), "text/plain": self["message"]}


def act(request: str | dict[str, Any]) -> LabAnswer:
    """Carry out one request of JupyterLab's nbflow panel (see the module docstring).

    Parameters
    ----------
    request
        The request as JSON text, or as a dict.

    Returns
    -------
    LabAnswer
        ``ok`` with what was started (``run``: the new run's number) or the ``why``
        text; or not ``ok`` with a message saying what was wrong.
    """
    try:
        return _act(_parse(request))
    except NbflowError as exc:  # the user's mistake, or the run's: said, not raised
        return LabAnswer(ok=False, message=str(exc))


def _parse(request: str | dict[str, Any]) -> tuple[str, int, str]:
    if isinstance(request, str):
        try:
            request = json.loads(request)
        except ValueError:
            raise LabRequestError(
                "the request is not JSON",
                request,
                'a JSON object such as {"action": "why", "run": 1, "task_id": "..."}',
                "send the request the panel builds",
            ) from None
    if not isinstance(request, dict):
        raise LabRequestError(
            "the request is not an object", request, "a JSON object", "send an object"
        )
    action, number, task_id = (request.get(k) for k in ("action", "run", "task_id"))
    if action not in ACTIONS:
        raise LabRequestError(
            "unknown action", action, f"one of {', '.join(ACTIONS)}", "name an action"
        )
    if not isinstance(number, int) or isinstance(number, bool):
        raise LabRequestError(
            "run is not a run number", number, "a whole number", "give the run's number"
        )
    if not isinstance(task_id, str) or not task_id:
        raise LabRequestError(
            "task_id is not a task id", task_id, "a task id of the run", "give an id"
        )
    return action, number, task_id


def _act(request: tuple[str, int, str]) -> LabAnswer:
    action, number, task_id = request
    session = current_session(_shell())
    record = session.record(number)
    task = _task_of(record, task_id)
    if action == "why":
        mode = completeness_mode(current_settings())
        text = planning.why([_current(session, task)], planning.PlanOptions(mode=mode))
        return LabAnswer(ok=True, message=f"why {record.label(task_id)}", why=text)
    if action == "run":
        new = _start(session, [_current(session, task)], ())
        verb = f"started {record.label(task_id)}"
    else:
        roots = [_current(session, root) for root in record.run.roots]
        new = _start(session, roots, (_current(session, task),))
        verb = f"started run {number} again from {record.label(task_id)}"
    return LabAnswer(ok=True, message=f"nbflow run {new}: {verb}", run=new)


def _start(session: Session, roots: list[Task], force: tuple[Task, ...]) -> int:
    """Start a background run of ``roots``; return its number."""
    options: dict[str, Any] = {"force": force} if force else {}
    session.run(roots, background=True, display="text", **options)
    return len(session.runs)


def _current(session: Session, task: Task) -> Task:
    """Return ``task`` made from its class as the notebook defines it now.

    A cell re-run since the run replaced the class: the new code is what runs, as
    ``%nbflow run`` would run it.
    """
    cls = session.find_class(task.get_task_family())
    if cls is None or cls is type(task):
        return task
    return task.clone(cls)


def _task_of(record: RunRecord, task_id: str) -> Task:
    task = record.run.worker.graph.tasks.get(task_id)
    if task is None:
        known = list(record.run.worker.graph.tasks)
        sample = ", ".join(known[:3]) + (" ..." if len(known) > 3 else "")  # noqa: PLR2004
        raise LabRequestError(
            f"run {record.number} has no task with this id",
            task_id,
            f"a task id of that run ({sample or 'it has no tasks'})",
            "pick the task in the run's graph again (the run list may be stale)",
        )
    return task


def _shell() -> Any:
    """Return the running IPython shell, if any (imported only when one runs)."""
    import sys  # noqa: PLC0415

    ipython = sys.modules.get("IPython")
    return None if ipython is None else ipython.get_ipython()
