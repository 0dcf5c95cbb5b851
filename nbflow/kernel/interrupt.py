"""A thread pool whose running tasks can be interrupted, for Ctrl-C in a notebook cell.

A task running in a thread cannot be killed, and the worker's ``cancel()`` only stops
starting tasks and ignores the results of running ones: a slow task would go on to
finish (and write its output) after the user pressed Ctrl-C. The kernel runs in-process
tasks on :class:`InterruptibleThreadExecutor` instead, whose :meth:`interrupt` raises
``KeyboardInterrupt`` inside every task it is running, as Ctrl-C would if the task ran
in the cell itself. Outputs are written atomically, so an interrupted task leaves none.

Limits: the exception arrives at the task's next Python bytecode, so a task blocked in
one long C call (a ``time.sleep(60)``, a big numpy operation) stops when that call
returns.

Imports: stdlib, nbflow.core.executor.
"""

from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.core.executor import ThreadExecutor

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

T = TypeVar("T")


class InterruptibleThreadExecutor(ThreadExecutor):
    """A :class:`~nbflow.core.executor.ThreadExecutor` that can interrupt running calls.

    Examples
    --------
    >>> pool = InterruptibleThreadExecutor(1)
    >>> pool.submit(pow, 2, 5).result()
    32
    >>> pool.interrupt(), pool.busy
    (0, 0)
    >>> pool.shutdown()
    """

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self._running_lock = threading.Lock()
        #: idents of the threads running a submitted call right now
        self._running: set[int] = set()
        #: futures not done yet (a future is done once its call has fully unwound)
        self._pending: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)``, remembering the thread that runs it."""
        future = super().submit(self._tracked, fn, args, kwargs)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    @property
    def busy(self) -> int:
        """How many submitted calls are queued or still running (unwinding included)."""
        return len(self._pending)

    def _tracked(
        self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        ident = threading.get_ident()
        with self._running_lock:
            self._running.add(ident)
        try:
            return fn(*args, **kwargs)
        finally:
            # interrupt() holds this lock while it raises, so its exception lands
            # in this call (in fn or here), never in the pool's own loop
            with self._running_lock:
                self._running.discard(ident)

    def interrupt(self) -> int:
        """Raise ``KeyboardInterrupt`` in every running call; return how many.

        Each call is interrupted once: a second ``interrupt()`` leaves it alone.
        """
        with self._running_lock:
            running, self._running = self._running, set()
            for ident in running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt)
                )
            return len(running)
