"""One way to start a run: :func:`start_run` and the :class:`Run` handle it returns.

``build()``, the kernel's ``%nbflow run`` and the ``nbflow`` command all start runs
here, from a :class:`RunOptions`. A run executes in the calling thread
(``background=False``: Luigi's ``build``, the CLI) or in its own thread
(``background=True``: ``build(..., wait=False)``, the kernel). Either way the handle
offers ``wait()``, ``cancel()``, ``state``, ``result``, ``subscribe(listener)`` (which
can first replay every notification so far) and the run's one
:class:`~nbflow.core.progress.RunProgress`, which every view renders.

Views are throttled once, here: :meth:`Run.watch` calls each view with what changed at
most once per interval (10 a second by default), from one thread per run, and a last
time in the run's own thread before the run ends, so a view's final frame is drawn
before ``wait()`` returns.

What tasks print and log is captured per task (``RunOptions.capture_output``, see
:mod:`nbflow.core.capture`) into ``TaskState.output``. By default a run the caller
waits for also writes it to the console (``nbflow run``, ``build()``), and a run in
the background does not (the kernel: it would land in whichever cell runs).

Threads: the run thread (or the caller's, inline) owns the worker. Notifications are
applied to the progress model and passed to listeners in that thread, under
:attr:`Run.lock`; views read the model under the same lock. ``subscribe``, ``watch``,
``cancel`` and ``wait`` may be called from any thread.

Imports: stdlib, nbflow.core.*.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.core import config as _config
from nbflow.core.capture import resolve_mode
from nbflow.core.completeness import make_check
from nbflow.core.errors import WorkerCountError
from nbflow.core.events import RetryPolicy, TaskOutput
from nbflow.core.executor import adapt_executor
from nbflow.core.planning import forced_ids
from nbflow.core.progress import RunProgress
from nbflow.core.stream import EventStream
from nbflow.core.summary import SUMMARY_LOGGER, RunResult, summarize
from nbflow.core.watch import ViewThrottle
from nbflow.core.worker import Worker, WorkerOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from concurrent.futures import Executor

    from nbflow.core.completeness import CompletenessCheck
    from nbflow.core.events import Listener, Notification
    from nbflow.core.progress import Changes
    from nbflow.core.remote import ServerScheduler
    from nbflow.core.scheduler import Scheduler
    from nbflow.core.task import Task

logger = logging.getLogger(SUMMARY_LOGGER)


@dataclass(frozen=True)
class RunOptions:
    """How to run: what :func:`nbflow.build` and ``nbflow run`` options say.

    None means "from the settings" (``[core]``, ``[worker]``, ``[scheduler]``).
    """

    workers: int | None = None
    #: "auto", "sync", "threads", "processes", a plugin's name, or an Executor
    #: instance (which the caller shuts down).
    executor: str | Executor | None = None
    keep_alive: bool | None = None
    parallel_scheduling: bool | None = None
    parallel_scheduling_processes: int | None = None
    #: "exists", "fingerprint" or a CompletenessCheck.
    completeness: CompletenessCheck | str | None = None
    #: The mode when neither ``completeness`` nor ``[core] completeness`` says.
    default_completeness: str = "exists"
    #: Tasks, task ids or family names to run again with everything downstream.
    force: tuple[Task | str, ...] = ()
    settings: _config.Settings | None = None
    #: The embedded scheduler to use, or a scheduler server's client.
    scheduler: Scheduler | ServerScheduler | None = None
    #: What tasks print and log: "tee" (captured into ``TaskState.output`` and still
    #: written to the console), "capture" (captured only), "off" (left alone), or
    #: "auto": capture for a run in the background (the kernel), tee for one the
    #: caller waits for (``nbflow run``, ``build()``). Config: [worker] capture_output.
    capture_output: str | None = None


def worker_options(settings: _config.Settings, **given: Any) -> WorkerOptions:
    """Return WorkerOptions from ``[core]``, ``[worker]``, ``[scheduler]``, ``[resources]``.

    Keyword arguments that are not None win over the settings; ``background`` (a
    run in its own thread) makes capture_output "auto" mean "capture", not "tee".
    """
    retry = RetryPolicy(
        retry_count=settings.get_int("scheduler", "retry_count", 999_999_999),
        retry_delay=settings.get_float("scheduler", "retry_delay", 900.0),
        disable_window=settings.get_float("scheduler", "disable_window", 3600.0),
        disable_hard_timeout=settings.get_float("scheduler", "disable_hard_timeout"),
    )
    values: dict[str, Any] = {
        "workers": settings.get_int("core", "workers", 1),
        "executor": settings.get("worker", "executor", "auto"),
        "keep_alive": settings.get_bool("worker", "keep_alive", False),
    }
    values.update({k: v for k, v in given.items() if v is not None and k in values})
    if int(values["workers"]) < 1:
        raise WorkerCountError(values["workers"])
    return WorkerOptions(
        workers=int(values["workers"]),
        executor=str(values["executor"]),
        keep_alive=bool(values["keep_alive"]),
        check_threads=_check_threads(
            settings,
            given.get("parallel_scheduling"),
            given.get("parallel_scheduling_processes"),
        ),
        retry=retry,
        resources=_config.resources(settings),
        capture_output=resolve_mode(
            given.get("capture_output") or settings.get("worker", "capture_output"),
            background=bool(given.get("background")),
        ),
        task_limit=settings.get_int("worker", "task_limit"),
    )


def _check_threads(
    settings: _config.Settings, parallel: bool | None, processes: int | None
) -> int:
    """Return how many threads check completeness (Luigi's parallel_scheduling)."""
    if parallel is None:
        parallel = settings.get_bool("core", "parallel_scheduling", False)
    if not parallel:
        return 1
    if processes is None:
        processes = settings.get_int("core", "parallel_scheduling_processes", 4)
    return max(1, int(processes))


def completeness_for(
    options: RunOptions, settings: _config.Settings, roots: list[Task]
) -> CompletenessCheck:
    """Return the completeness check for a run: its mode, forced tasks and threads."""
    given = options.completeness
    if given is not None and not isinstance(given, str):
        return given
    mode = given or settings.get("core", "completeness") or options.default_completeness
    with _config.use_settings(settings):
        forced = forced_ids(roots, options.force)
    threads = _check_threads(
        settings, options.parallel_scheduling, options.parallel_scheduling_processes
    )
    return make_check(mode, threads=threads, force=forced)


def start_run(
    roots: Iterable[Task],
    options: RunOptions | None = None,
    *,
    listeners: Iterable[Listener] = (),
    views: Iterable[Callable[[Run], object]] = (),
    background: bool = False,
    track_progress: bool = True,
) -> Run:
    """Start running ``roots`` and everything they need; return the run's handle.

    Parameters
    ----------
    roots
        The tasks asked for.
    options
        How to run (default: everything from the settings).
    listeners
        Subscribers of the event stream, attached before anything happens.
    views
        Called with the :class:`Run` before it starts, to subscribe or
        :meth:`~Run.watch` (progress displays, widgets).
    background
        Run in a new thread and return at once; otherwise run to the end in the
        calling thread (exceptions, including KeyboardInterrupt, propagate).
    track_progress
        Keep the run's :class:`~nbflow.core.progress.RunProgress` (views need it;
        a bare ``build()`` does not, and saves its cost on huge graphs).

    Returns
    -------
    Run
        Running (``background``) or finished.
    """
    options = options or RunOptions()
    roots = list(roots)
    settings = options.settings or _config.current_settings()
    completeness = completeness_for(options, settings, roots)
    executor, adapted = options.executor, False
    if executor is not None and not isinstance(executor, str):
        executor, adapted = adapt_executor(executor)  # a Dask Client, say
    worker = Worker(
        options.scheduler,
        options=worker_options(
            settings,
            workers=options.workers,
            executor=executor if isinstance(executor, str) else None,
            keep_alive=options.keep_alive,
            parallel_scheduling=options.parallel_scheduling,
            parallel_scheduling_processes=options.parallel_scheduling_processes,
            capture_output=options.capture_output,
            background=background,
        ),
        completeness=completeness,
        executor=None if executor is None or isinstance(executor, str) else executor,
    )
    if adapted:  # made here from what the caller gave: the run shuts it down
        worker._owns_executor = True  # noqa: SLF001
    run = Run(
        worker,
        roots,
        settings,
        keep_history=background,
        track_progress=track_progress,
    )
    for listener in listeners:
        run.subscribe(listener, replay=False)
    for attach in views:
        attach(run)
    if background:
        return run.start()
    run.execute()
    return run


class Run:
    """A handle on one run of a graph.

    Examples
    --------
    >>> import nbflow
    >>> class Quick(nbflow.Task):
    ...     def run(self):
    ...         pass
    >>> handle = nbflow.build([Quick()], wait=False)
    >>> handle.wait().status.name, handle.state, handle.progress.done
    ('SUCCESS', 'succeeded', 1)
    """

    def __init__(
        self,
        worker: Worker,
        roots: list[Task],
        settings: _config.Settings,
        *,
        keep_history: bool = True,
        track_progress: bool = True,
    ) -> None:
        self.worker = worker
        self.roots = roots
        self.settings = settings
        #: set by the kernel to the widget view shown for this run
        self.view: Any = None
        #: Guards the progress model, the history and the listeners: hold it to read
        #: :attr:`progress` from another thread while the run goes on.
        self.lock = threading.RLock()
        #: The run's state as every view sees it (None if not tracked).
        self.progress: RunProgress | None = RunProgress() if track_progress else None
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._history: list[Notification] | None = [] if keep_history else None
        self._listeners = EventStream()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._views = ViewThrottle(self)
        worker.stream.subscribe(self)

    # --- control --------------------------------------------------------------------

    def start(self) -> Run:
        """Start the run in a new thread (once) and return ``self``."""
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._main,), name="nbflow-run", daemon=True
        )
        self._thread.start()
        return self

    def execute(self) -> RunResult:
        """Run to the end in the calling thread; return the result.

        Errors (a bad executor name, Ctrl-C) propagate to the caller.
        """
        self._run_to_end(background=False)
        return self.wait()

    def _main(self) -> None:
        self._run_to_end(background=True)

    def _run_to_end(self, *, background: bool) -> None:
        try:
            with _config.use_settings(self.settings), self.worker:
                self.worker.prepare()  # a bad executor fails before the graph expands
                self.worker.add(self.roots)
                self.worker.run()
            self._result = self._summarize()
        except KeyboardInterrupt as exc:
            if not background:
                self._error = exc
                raise
            # a task in the run thread was interrupted: the run is cancelled
            self._result = self._summarize()
        except BaseException as exc:  # noqa: BLE001  (re-raised by wait())
            self._error = exc
        finally:
            try:
                self._views.finish()
            except Exception:  # a view's failure must not leave wait() waiting
                logger.exception("nbflow run %s: a view failed as the run ended", self)
            finally:
                self._done.set()

    def _summarize(self) -> RunResult:
        worker = self.worker
        result = summarize(
            worker.scheduler.tasks(), worker.scheduling_errors, worker=worker
        )
        logger.info(result.summary_text)
        return result

    def wait(self, timeout: float | None = None) -> RunResult:
        """Block until the run ends and return its result.

        Raises
        ------
        TimeoutError
            The run did not end within ``timeout`` seconds.
        NbflowError
            The build could not start (e.g. a bad executor name), re-raised here.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(timeout)
        if self._error is not None:
            raise self._error
        if self._result is None:  # pragma: no cover  (set before _done)
            raise RuntimeError(self)
        return self._result

    def cancel(self) -> None:
        """Stop starting tasks and give up on running ones; ``wait()`` still returns."""
        self.worker.cancel()

    def done(self) -> bool:
        """Return whether the run has ended."""
        return self._done.is_set()

    @property
    def state(self) -> str:
        """The state: running until the end, then succeeded, failed or cancelled."""
        if not self._done.is_set():
            return "running"
        if self._error is not None:
            return "failed"
        return self.worker.state

    @property
    def result(self) -> RunResult | None:
        """The result once the run has ended, else None."""
        return self._result

    @property
    def error(self) -> BaseException | None:
        """What stopped the build from starting or finishing, if anything."""
        return self._error

    # --- the event stream -----------------------------------------------------------

    def subscribe(
        self, listener: Listener, *, replay: bool = True
    ) -> Callable[[], None]:
        """Attach ``listener``; with ``replay``, first deliver the notifications so far.

        Live output snapshots (``TaskOutput``) are not replayed; the model
        (:attr:`progress`) holds each task's latest output.
        """
        with self.lock:
            if replay:
                for notification in self._history or ():
                    listener.on_notification(notification)
            remove = self._listeners.subscribe(listener)

        def unsubscribe() -> None:
            with self.lock:
                remove()

        return unsubscribe

    @property
    def notifications(self) -> list[Notification]:
        """A copy of the notifications so far, live output aside (background runs)."""
        with self.lock:
            return list(self._history or ())

    def on_notification(self, notification: Notification) -> None:
        """Apply ``notification`` and pass it to the listeners (run thread)."""
        with self.lock:
            # live output snapshots are not kept: a noisy task would make the
            # history grow by its whole tail twice a second (the end carries it)
            if self._history is not None and type(notification) is not TaskOutput:
                self._history.append(notification)
            if self.progress is not None:
                self.progress.on_notification(notification)
            if self._listeners.listeners:  # most kernel runs have none
                self._listeners.publish(notification)
        self._views.poke(notification)

    def watch(
        self, callback: Callable[[Changes], None], *, interval: float = 0.1
    ) -> Callable[[], None]:
        """Call ``callback(changes)`` when the run's progress changes, throttled.

        The first call says everything changed (so a view attached mid-run draws it
        all). Calls come at most once per ``interval`` seconds from the run's view
        thread, then once more in the run's thread as it ends. Read
        :attr:`progress` under :attr:`lock` inside the callback. A callback that
        raises is logged and detached. Returns a function that stops the calls.
        """
        if self.progress is None:
            msg = "this run does not track progress (start_run(track_progress=False))"
            raise RuntimeError(msg)
        return self._views.add(callback, interval)

    # --- display --------------------------------------------------------------------

    def __repr__(self) -> str:
        roots = ", ".join(repr(task) for task in self.roots[:3])
        more = f" and {len(self.roots) - 3} more" if len(self.roots) > 3 else ""  # noqa: PLR2004
        return f"<nbflow.Run {self.state}: {roots}{more}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """Show the attached view in Jupyter, else plain text."""
        view = self.view
        if view is not None and hasattr(view, "_repr_mimebundle_"):
            bundle: dict[str, Any] | None = view._repr_mimebundle_(**kwargs)
            return bundle
        return {"text/plain": repr(self)}
