"""Executors: where task runs happen. Any ``concurrent.futures.Executor`` fits.

The worker only needs ``submit(fn, *args) -> Future`` and ``shutdown()``. nbflow ships
three: :class:`SyncExecutor` (in the calling thread, one task at a time),
:class:`ThreadExecutor` and :class:`ProcessExecutor`. Other backends (Dask) register
under the ``nbflow.executors`` entry-point group and are found by name.

Tasks defined in ``__main__`` (a notebook) travel to process executors by value, with
cloudpickle; see :mod:`nbflow.core.execution`.

Imports: stdlib, nbflow.core.{errors, plugins}.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from nbflow.core.plugins import load_plugin

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

#: Names understood by :func:`make_executor` without any plugin.
BUILTIN_EXECUTORS = ("sync", "threads", "processes")


class ExecutorLike(Protocol):
    """The part of ``concurrent.futures.Executor`` the worker uses."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` and return its future."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the executor's resources."""


class SyncExecutor(Executor):
    """Run each submitted call at once, in the calling thread.

    Examples
    --------
    >>> SyncExecutor().submit(pow, 2, 10).result()
    1024
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Call ``fn`` now and return a future that is already done."""
        future: Future[T] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001  (handed to the future's owner)
            future.set_exception(exc)
        return future


class ThreadExecutor(ThreadPoolExecutor):
    """Run tasks on a pool of threads in this process."""

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="nbflow-task")


class ProcessExecutor(ProcessPoolExecutor):
    """Run tasks in a pool of worker processes (``fork`` where available)."""

    def __init__(
        self, max_workers: int | None = None, start_method: str | None = None
    ) -> None:
        method = (
            start_method or os.environ.get("NBFLOW_START_METHOD") or _default_method()
        )
        super().__init__(
            max_workers=max_workers, mp_context=multiprocessing.get_context(method)
        )


def _default_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def is_in_process(executor: object) -> bool:
    """Return whether tasks submitted to ``executor`` run in this process."""
    return isinstance(executor, (SyncExecutor, ThreadPoolExecutor))


def make_executor(name: str, workers: int) -> Executor:
    """Return a new executor by name: sync, threads, processes, or a plugin's name.

    Raises
    ------
    PluginNotFoundError
        No built-in executor nor installed plugin has that name.
    """
    if name == "sync":
        return SyncExecutor()
    if name == "threads":
        return ThreadExecutor(workers)
    if name == "processes":
        return ProcessExecutor(workers)
    factory = load_plugin("nbflow.executors", name, BUILTIN_EXECUTORS, extra=name)
    executor: Executor = factory(workers)
    return executor
