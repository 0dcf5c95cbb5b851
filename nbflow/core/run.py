"""A build running in a background thread: the handle ``build(..., wait=False)`` returns.

The kernel's ``%nbflow run --background`` and views attached later use it: ``wait()``,
``cancel()``, ``state``, ``result``, and ``subscribe(listener, replay=True)``, which
first replays every notification so far, so a view attached mid-run (or after it) shows
the same as one attached at the start.

Threads: the run thread owns the worker; ``subscribe``/``cancel``/``wait`` may be called
from any thread. Notifications are delivered to listeners in the run thread, under a lock
that also guards the history, so a listener sees each notification exactly once, in order.

Imports: stdlib, nbflow.core.{config, errors, events, summary, worker}.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import TYPE_CHECKING, Any

from nbflow.core import config as _config
from nbflow.core.summary import RunResult, summarize

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.events import Listener, Notification
    from nbflow.core.task import Task
    from nbflow.core.worker import Worker

logger = logging.getLogger("nbflow-interface")


class Run:
    """A handle on a build running in the background.

    Examples
    --------
    >>> import nbflow
    >>> class Quick(nbflow.Task):
    ...     def run(self):
    ...         pass
    >>> handle = nbflow.build([Quick()], wait=False)
    >>> handle.wait().status.name, handle.state
    ('SUCCESS', 'succeeded')
    """

    def __init__(
        self, worker: Worker, roots: list[Task], settings: _config.Settings
    ) -> None:
        self.worker = worker
        self.roots = roots
        self.settings = settings
        #: set by the kernel to the widget view shown for this run
        self.view: Any = None
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._lock = threading.RLock()
        self._history: list[Notification] = []
        self._listeners: list[Listener] = []
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        worker.stream.subscribe(self)

    # --- control --------------------------------------------------------------------

    def start(self) -> Run:
        """Start the run thread (once) and return ``self``."""
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._main,), name="nbflow-run", daemon=True
        )
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            with _config.use_settings(self.settings), self.worker:
                self.worker.prepare()
                self.worker.add(self.roots)
                self.worker.run()
            self._result = summarize(
                self.worker.scheduler.tasks(),
                self.worker.scheduling_errors,
                worker=self.worker,
            )
            logger.info(self._result.summary_text)
        except (
            KeyboardInterrupt
        ):  # a task was interrupted: the run is cancelled, not broken
            self._result = summarize(
                self.worker.scheduler.tasks(),
                self.worker.scheduling_errors,
                worker=self.worker,
            )
        except BaseException as exc:  # noqa: BLE001  (re-raised by wait() in the caller)
            self._error = exc
        finally:
            self._done.set()

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
        assert self._result is not None  # noqa: S101  (set before _done)
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

    # --- the event stream, replayable -----------------------------------------------

    def subscribe(
        self, listener: Listener, *, replay: bool = True
    ) -> Callable[[], None]:
        """Attach ``listener``; with ``replay``, first deliver every notification so far."""
        with self._lock:
            if replay:
                for notification in self._history:
                    listener.on_notification(notification)
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def notifications(self) -> list[Notification]:
        """A copy of every notification published so far, in order."""
        with self._lock:
            return list(self._history)

    def on_notification(self, notification: Notification) -> None:
        """Record ``notification`` and pass it to the listeners (run thread)."""
        with self._lock:
            self._history.append(notification)
            for listener in tuple(self._listeners):
                try:
                    listener.on_notification(notification)
                except Exception:
                    logger.exception("listener %r raised and was detached", listener)
                    self._listeners.remove(listener)

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
