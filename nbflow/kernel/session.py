"""The kernel's embedded session: runs started from this kernel, and how they are shown.

One :class:`Session` per kernel (:func:`current_session`) holds the runs started from
it, numbered from 1. ``session.run(task)`` builds the task in a background thread and
waits for it in the cell, so *Run All* works and the next cell sees the outputs, while
the view updates; Ctrl-C cancels the run, interrupting the tasks running in this
process. ``session.run(task, background=True)`` returns the :class:`~nbflow.core.run.Run`
handle at once and the kernel stays usable. The ``%nbflow`` magics are a thin layer over
this class.

Tasks are found in the notebook's namespace first (the class object a cell defined,
newest first), then in the task registry (imported modules), and their command lines
are parsed by :mod:`nbflow.core.cmdline`, exactly as the ``nbflow`` command does.

Kernel runs use a thread pool even for one worker (``executor="auto"``), so the run's
loop never waits on a task and Ctrl-C is acted on at once.

Threads: everything here runs in the kernel's main thread; runs run in their own
threads and talk back only through listeners (:mod:`nbflow.kernel.record`,
:mod:`nbflow.kernel.display`).

Imports: stdlib, nbflow.core.*, nbflow.kernel.*; IPython and nbflow.widgets lazily.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nbflow.core import cmdline
from nbflow.core import config as _config
from nbflow.core.errors import DefinitionTypeError
from nbflow.core.executor import make_executor
from nbflow.core.progress import first_line
from nbflow.core.registry import REGISTRY
from nbflow.core.run import Run, RunOptions, start_run, worker_options
from nbflow.core.task import Task
from nbflow.kernel import display as _display
from nbflow.kernel.board import publish
from nbflow.kernel.errors import (
    RunCancelledError,
    RunFailedError,
    UnknownRunError,
    show_command,
)
from nbflow.kernel.graph import TaskGraph, discover_graph
from nbflow.kernel.interrupt import InterruptibleThreadExecutor
from nbflow.kernel.output import RunOutput, cell_token
from nbflow.kernel.record import RunRecord

if TYPE_CHECKING:
    from collections.abc import Iterable
    from concurrent.futures import Executor

    from nbflow.core.summary import RunResult
    from nbflow.core.worker import WorkerOptions

#: The build() options a kernel run takes.
_OPTIONS = frozenset(
    {
        "workers",
        "executor",
        "keep_alive",
        "parallel_scheduling",
        "parallel_scheduling_processes",
        "completeness",
        "force",
    }
)
#: In a notebook, code-aware completeness is the default: edit a cell, re-run, and only
#: what the edit reaches runs again ([core] completeness overrides it).
NOTEBOOK_COMPLETENESS = "fingerprint"
#: Seconds between looks at a run the cell waits for (it grows up to the maximum).
_POLL_FIRST, _POLL_MAX = 0.002, 0.1


def make_kernel_executor(options: WorkerOptions) -> Executor:
    """Return the executor for a kernel run: an interruptible pool for threads/auto."""
    if options.executor in ("auto", "threads"):
        return InterruptibleThreadExecutor(options.workers)
    return make_executor(options.executor, options.workers)


class Session:
    """The runs started from one kernel, and the way to start, show and inspect them.

    Parameters
    ----------
    shell
        The IPython shell whose namespace holds notebook-defined tasks (None: none).

    Examples
    --------
    >>> import nbflow
    >>> class Hi(nbflow.Task):
    ...     def run(self):
    ...         pass
    >>> session = Session()
    >>> session.run(Hi(), display="text").status.name  # doctest: +ELLIPSIS
    nbflow run 1: 1 task, 0 already complete, 1 to run
    ...
    'SUCCESS'
    >>> session.runs[0].state
    'succeeded'
    """

    def __init__(self, shell: Any = None) -> None:
        self.shell = shell
        #: every run started from this session, in order; run N is ``runs[N - 1]``
        self.runs: list[RunRecord] = []
        #: the scheduler server runs go to (url, token), or None: the embedded one
        self.server: tuple[str, str | None] | None = None
        self.bind(shell)

    def bind(self, shell: Any) -> None:
        """Use ``shell``; its displays of a run handle show the run's outputs."""
        self.shell = shell
        formatter = getattr(
            getattr(shell, "display_formatter", None), "ipython_display_formatter", None
        )
        if formatter is not None:
            formatter.for_type(Run, self.display_run)

    # --- the scheduler: embedded, or a server ---------------------------------------

    def connect(self, url: str, token: str | None = None) -> str:
        """Send this kernel's next runs to the ``nbflow server`` at ``url``.

        The server is asked for its state first, so a wrong address fails here, with
        the url in the message, rather than at the next run. Tasks still run in this
        kernel (its workers own the tasks it adds), unless a worker of the server's
        takes them; the live views show the server's states.

        Returns
        -------
        str
            One line saying where runs go now.

        Raises
        ------
        SchedulerError
            The server could not be reached, or refused the request.
        """
        from nbflow.core.remote import ServerScheduler  # noqa: PLC0415  (on use)

        probe = ServerScheduler(url, token=token, reconnect_timeout=0.0)
        state = probe.describe()
        self.server = (url, token)
        counts = state.get("counts") or {}
        total = sum(counts.values()) if isinstance(counts, dict) else 0
        paused = " (paused)" if state.get("paused") else ""
        return (
            f"nbflow: connected to {probe.url}{paused}, {total} task(s) known there. "
            "%nbflow run now schedules on it; %nbflow disconnect goes back to the "
            "embedded scheduler."
        )

    def disconnect(self) -> str:
        """Send the next runs to the kernel's embedded scheduler again."""
        if self.server is None:
            return "nbflow: not connected; runs use the embedded scheduler."
        self.server = None
        return "nbflow: disconnected; runs use the embedded scheduler."

    def _scheduler(self) -> Any:
        if self.server is None:
            return None
        from nbflow.core.remote import ServerScheduler  # noqa: PLC0415  (on use)

        url, token = self.server
        return ServerScheduler(url, token=token)

    # --- finding and parsing tasks --------------------------------------------------

    @property
    def namespace(self) -> dict[str, Any]:
        """The notebook's namespace (``user_ns``), or an empty one without a shell."""
        return getattr(self.shell, "user_ns", None) or {}

    def find_class(self, name: str) -> type[Task] | None:
        """Return the task class the notebook calls ``name``, newest first, or None."""
        value = self.namespace.get(name)
        if _is_task_class(value):
            return value
        candidates = {
            id(value): value
            for value in list(self.namespace.values())
            if _is_task_class(value) and value.get_task_family() == name
        }
        if not candidates:
            return None
        order = {id(cls): index for index, cls in enumerate(REGISTRY.classes())}
        return max(candidates.values(), key=lambda cls: order.get(id(cls), -1))  # type: ignore[no-any-return]

    def parse(self, argv: list[str]) -> tuple[type[Task], cmdline.Invocation]:
        """Parse ``Task --param v ...`` like the CLI; the notebook's classes come first.

        Raises
        ------
        NbflowError
            No such task or parameter, or a malformed command line.
        """
        position = _task_position(argv)
        if position is None:
            raise cmdline.UsageError(
                "no task named", " ".join(argv), "name the task, e.g. %nbflow run Task"
            )
        cls = self.find_class(argv[position])
        if cls is None:
            invocation = cmdline.parse(argv)
            return REGISTRY.lookup(str(invocation.task_name)), invocation
        rest = argv[:position] + argv[position + 1 :]
        return cls, cmdline.parse(rest, main_task_cls=cls)

    # --- running --------------------------------------------------------------------

    def run(
        self,
        tasks: Task | Iterable[Task],
        *,
        background: bool = False,
        display: str | None = None,
        check: bool = True,
        **options: Any,
    ) -> RunResult | Run:
        """Build ``tasks`` in a background thread; wait for it unless ``background``.

        Parameters
        ----------
        tasks
            A task, or several.
        background
            Return the :class:`~nbflow.core.run.Run` handle at once instead of waiting.
        display
            "widgets" or "text"; default: chosen by the frontend (see
            :func:`~nbflow.kernel.display.choose_display`).
        check
            Raise :class:`RunFailedError` when the run fails (blocking runs only).
        **options
            ``workers``, ``executor``, ``keep_alive``, ``parallel_scheduling``,
            ``parallel_scheduling_processes``, as for :func:`nbflow.build`.

        Returns
        -------
        RunResult or Run
            The result of the finished run, or the running handle with ``background``.

        Raises
        ------
        RunFailedError
            A task failed or could not be scheduled (with ``check``).
        RunCancelledError
            The wait was interrupted (Ctrl-C); the run was cancelled.
        """
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise DefinitionTypeError(
                "Session.run", "keywords", unknown, "build options"
            )
        mode = self._mode(display)
        roots = [tasks] if isinstance(tasks, Task) else list(tasks)
        record, follower = self._start(roots, mode, options, follow=not background)
        if background:
            record.output.watch()  # a failure or a cancel is announced at once
            if record.display == "widgets":
                record.output.show(record.run.view, token=cell_token(self.shell))
            return record.run
        result = self._wait(record, follower)
        if check and record.state == "failed":
            raise _failure(record, result)
        return result

    def _start(
        self, roots: list[Task], mode: str, options: dict[str, Any], *, follow: bool
    ) -> tuple[RunRecord, _display.TextFollower | None]:
        """Start a run of ``roots`` in the background, recorded and shown from the start."""
        settings = _config.current_settings()
        resolved = worker_options(
            settings,
            workers=options.get("workers"),
            executor=options.get("executor"),
        )
        executor = make_kernel_executor(resolved)
        run_options = RunOptions(
            workers=resolved.workers,
            executor=executor,
            keep_alive=options.get("keep_alive"),
            parallel_scheduling=options.get("parallel_scheduling"),
            parallel_scheduling_processes=options.get("parallel_scheduling_processes"),
            completeness=options.get("completeness"),
            default_completeness=NOTEBOOK_COMPLETENESS,
            force=tuple(options.get("force", ())),
            settings=settings,
            scheduler=self._scheduler(),
        )
        made: list[tuple[RunRecord, _display.TextFollower | None]] = []

        def attach(run: Run) -> None:
            record = RunRecord(len(self.runs) + 1, run, roots)
            record.executor, record.display = executor, mode
            record.output = RunOutput(record, background=not follow)
            run.subscribe(record, replay=False)  # the one listener of a text run
            follower = None
            if follow and mode == "text":
                follower = _display.TextFollower(record)
            self.runs.append(record)
            publish(record)  # JupyterLab's panel reads the kernel's runs from its board
            if mode == "widgets":
                self._attach_view(record, show=False)
            made.append((record, follower))

        try:
            start_run(roots, run_options, views=[attach], background=True)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return made[0]

    def _wait(
        self, record: RunRecord, follower: _display.TextFollower | None
    ) -> RunResult:
        run, stopping = record.run, False
        if record.display == "widgets":
            record.output.show(run.view, token=cell_token(self.shell))
        try:
            _poll(run, follower)
        except KeyboardInterrupt:
            record.cancel()
            try:  # until the interrupted tasks have unwound (and cleaned up)
                _poll(run, follower, record.executor)
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, not the run
                stopping = True
        if follower is not None:
            follower.finish(run.result)
        if run.done():  # its view shows the last state (the run's end did it, normally)
            record.output.finish()
        if (
            record.state == "cancelled"
            or stopping
            or isinstance(run.error, KeyboardInterrupt)  # the sync executor's task
        ):
            raise RunCancelledError(record.number, stopping) from None
        return run.wait()

    # --- looking at runs ------------------------------------------------------------

    def record(self, number: int | None = None) -> RunRecord:
        """Return run ``number`` (default: the latest).

        Raises
        ------
        UnknownRunError
            This kernel has no such run.
        """
        count = len(self.runs)
        wanted = count if number is None else number
        if not 1 <= wanted <= count:
            raise UnknownRunError(wanted, count)
        return self.runs[wanted - 1]

    def attach(
        self, number: int | None = None, *, display: str | None = None
    ) -> RunRecord:
        """Show run ``number`` (default: the latest) again, running or finished."""
        record = self.record(number)
        mode = self._mode(display)
        if mode == "widgets":
            self._attach_view(record, show=True)
        else:
            print(_display.run_snapshot(record))  # noqa: T201  (main thread)
        return record

    def cancel(self, number: int | None = None) -> RunRecord:
        """Cancel run ``number`` (default: the latest), interrupting its tasks."""
        record = self.record(number)
        record.cancel()
        return record

    def graph(
        self,
        tasks: Task | Iterable[Task],
        *,
        display: str | None = None,
        stop_at_complete: bool = False,
    ) -> TaskGraph:
        """Return the dependency graph of ``tasks`` with completion state; run nothing.

        Every task is drawn, complete ones with their requirements; with
        ``stop_at_complete`` the walk stops at complete tasks, as a run's does.
        """
        roots = [tasks] if isinstance(tasks, Task) else list(tasks)
        mode = self._mode(display)
        return discover_graph(roots, display=mode, stop_at_complete=stop_at_complete)

    def show(self, task: Task) -> str:
        """Return the report on ``task`` from the latest run that contains it."""
        for record in reversed(self.runs):
            state = record.task(task.task_id)
            if state is not None:
                return _display.task_report(task, record, state)
        return _display.task_report(task, None, None)

    def status(self) -> str:
        """Return the table of this kernel's runs."""
        return _display.status_table(self.runs)

    def _mode(self, display: str | None) -> str:
        if display is None:
            return _display.choose_display(self.shell)
        if display not in _display.DISPLAY_MODES:
            raise _display.DisplaySettingError("display", display)
        return display

    def _attach_view(self, record: RunRecord, *, show: bool) -> None:
        if show and record.run.done():  # its last state, readable without a kernel
            record.output.show(token=cell_token(self.shell))
            return
        classes = _display.widget_classes()
        if classes is None:  # nbflow.widgets went missing: fall back to text
            record.display = "text"
            return
        view = classes[0](record.run)
        record.run.view = view
        if show:
            record.output.show(view, token=cell_token(self.shell))

    def display_run(self, run: Run) -> None:
        """Show a run handle (IPython's display of a ``Run``): its outputs, kept live.

        A run this session shows already in the running cell is not shown twice.
        """
        record = next((r for r in self.runs if r.run is run), None)
        if record is None:  # not started here: its own representation
            from IPython.display import display  # noqa: PLC0415

            display(run._repr_mimebundle_(), raw=True)  # type: ignore[no-untyped-call]
            return
        token = cell_token(self.shell)
        if token and record.output.shown_in == token:
            return
        widget = run.view if record.display == "widgets" else None
        record.output.show(widget, token=token)


def completeness_mode(settings: _config.Settings) -> str:
    """Return the notebook's completeness mode: [core] completeness, else fingerprint."""
    return settings.get("core", "completeness") or NOTEBOOK_COMPLETENESS


def _is_task_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, Task) and value is not Task


def _task_position(argv: list[str]) -> int | None:
    """Return the index of the task name in ``argv`` (after any run options)."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if not arg.startswith("--"):
            return index
        index += 2 if cmdline.takes_value(arg) else 1
    return None


def _poll(
    run: Run, follower: _display.TextFollower | None, executor: Any = None
) -> None:
    """Wait for ``run`` (and, if given, ``executor``'s calls) to end, printing lines."""
    pause = _POLL_FIRST
    while not run.done() or _busy(executor):
        time.sleep(pause)
        pause = min(pause * 2, _POLL_MAX)
        if follower is not None:
            follower.drain()


def _busy(executor: Any) -> bool:
    """Return whether ``executor`` still has calls running (if it can tell)."""
    return bool(getattr(executor, "busy", 0))


def _failure(record: RunRecord, result: RunResult) -> RunFailedError:
    failures = record.failures()
    if failures:
        first = failures[0]
        return RunFailedError(
            record.number,
            tuple(state.label for state in failures),
            first_line(first.error),
            show_command(first.family, first.params),
        )
    broken = result.tasks.get("scheduling_error", [])
    labels = tuple(
        state.label if (state := record.task(task_id)) else task_id
        for task_id in broken
    )
    return RunFailedError(record.number, labels, "its scheduling failed")


_SESSION: Session | None = None


def current_session(shell: Any = None) -> Session:
    """Return this kernel's session, made on first use (bound to ``shell`` if given)."""
    global _SESSION  # noqa: PLW0603  (one session per kernel process)
    if _SESSION is None:
        _SESSION = Session(shell)
    elif shell is not None and _SESSION.shell is not shell:
        _SESSION.bind(shell)
    return _SESSION
