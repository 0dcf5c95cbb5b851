"""Executors: where task runs happen. Any ``concurrent.futures.Executor`` fits.

The worker only needs ``submit(fn, *args) -> Future`` and ``shutdown()``. nbflow ships
three: :class:`SyncExecutor` (in the calling thread, one task at a time),
:class:`ThreadExecutor` and :class:`ProcessExecutor`. Other backends (Dask) register
under the ``nbflow.executors`` entry-point group and are found by name.

Two of them do more, for Ctrl-C and for crashes. :class:`ThreadExecutor` can
:meth:`~ThreadExecutor.interrupt` its calls: it raises ``KeyboardInterrupt`` inside them,
as Ctrl-C would if the task ran in the main thread, so an interrupted task unwinds (and
its atomic writes remove their temporaries) instead of running on. :class:`ProcessExecutor`
remembers how its processes died when one of them broke the pool
(:attr:`~ProcessExecutor.deaths`), so the worker can say which task's process died, and
how, instead of a bare ``BrokenProcessPool``.

Tasks defined in ``__main__`` (a notebook) travel to process executors by value, with
cloudpickle; see :mod:`nbflow.core.execution`.

An executor that runs tasks on other machines (the Dask plugin) implements
:class:`TaskRunner`: the worker hands it each task with a reporter, and the executor
carries the task's runtime reports (progress, status messages, tracking URLs) back
by its own means instead of the process bridge's local queue.

Imports: stdlib, nbflow.core.{errors, plugins}.
"""

from __future__ import annotations

import _thread
import ctypes
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait as wait_for
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from nbflow.core.errors import NbflowError
from nbflow.core.plugins import load_plugin

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

T = TypeVar("T")

#: Names understood by :func:`make_executor` without any plugin.
BUILTIN_EXECUTORS = ("sync", "threads", "processes")


class ExecutorLike(Protocol):
    """The part of ``concurrent.futures.Executor`` the worker uses."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` and return its future."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Release the executor's resources."""


@runtime_checkable
class Interruptible(Protocol):
    """An executor that can stop the calls it runs (the worker's Ctrl-C uses it)."""

    def interrupt(self) -> int:
        """Raise ``KeyboardInterrupt`` in every call submitted so far; return how many run."""


@runtime_checkable
class TaskRunner(Protocol):
    """An executor that runs nbflow tasks itself, carrying their reports back.

    The worker calls :meth:`submit_task` instead of ``submit`` (see the module's doc).
    """

    def submit_task(
        self,
        task_id: str,
        task: Any,
        report: Callable[[str, str, Any], None],
        capture: str,
    ) -> Future[Any]:
        """Start running ``task``; return the future of its ``Outcome``.

        ``report(task_id, kind, value)`` takes the task's runtime reports (any
        thread); ``capture`` is the capture mode for what the task prints.
        """


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


class _Call:
    """One submitted call: the thread running it (if any), and whether it is stopped."""

    __slots__ = ("interrupted", "thread")

    def __init__(self) -> None:
        self.thread: int | None = None
        self.interrupted = False


class ThreadExecutor(ThreadPoolExecutor):
    """Run tasks on a pool of threads in this process; :meth:`interrupt` stops them.

    A thread cannot be killed, but it can be made to raise: :meth:`interrupt` raises
    ``KeyboardInterrupt`` in every call submitted so far, at once in those running and
    on arrival in those still queued. The exception lands at the call's next Python
    bytecode, so a call blocked in one long C call (a ``time.sleep(60)``) stops when that
    call returns.

    Examples
    --------
    >>> pool = ThreadExecutor(1)
    >>> pool.submit(pow, 2, 5).result()
    32
    >>> pool.interrupt(), pool.busy
    (0, 0)
    >>> pool.shutdown()
    """

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="nbflow-task")
        #: guards the calls' threads: interrupt() raises only while holding it
        self._calls_lock = threading.Lock()
        #: calls submitted and not done yet (done: the call has fully unwound)
        self._calls: set[_Call] = set()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)``, remembering the thread that runs it."""
        call = _Call()
        with self._calls_lock:
            self._calls.add(call)
        try:
            future = super().submit(self._tracked, call, fn, args, kwargs)
        except BaseException:
            self._forget(call)
            raise
        future.add_done_callback(lambda _: self._forget(call))
        return future

    @property
    def busy(self) -> int:
        """How many submitted calls are queued or still running (unwinding included)."""
        return len(self._calls)

    def interrupt(self) -> int:
        """Raise ``KeyboardInterrupt`` in every call submitted so far; return how many run.

        Queued calls raise as soon as they start. Each call is interrupted once: a second
        ``interrupt()`` leaves it alone. Calls submitted later run as usual.
        """
        running = 0
        with self._calls_lock:
            for call in self._calls:
                if call.interrupted:
                    continue
                call.interrupted = True
                if call.thread is not None:
                    _raise_in_thread(call.thread, KeyboardInterrupt)
                    running += 1
        return running

    def _tracked(
        self,
        call: _Call,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        with self._calls_lock:
            if call.interrupted:  # interrupted while it was queued
                raise KeyboardInterrupt
            call.thread = threading.get_ident()
        try:
            return fn(*args, **kwargs)
        finally:
            # interrupt() raises only while holding this lock, so its exception lands
            # in this call (in fn or here), never in the pool's own loop
            with self._calls_lock:
                call.thread = None

    def _forget(self, call: _Call) -> None:
        with self._calls_lock:
            self._calls.discard(call)


def _raise_in_thread(ident: int, exception: type[BaseException]) -> None:
    """Make thread ``ident`` raise ``exception`` at its next Python bytecode."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(exception)
    )


def interrupt_thread(ident: int) -> None:
    """Raise ``KeyboardInterrupt`` in thread ``ident`` as Ctrl-C would.

    The main thread gets a simulated SIGINT (Python's own handler raises it there);
    another thread gets the exception at its next Python bytecode.
    """
    if ident == threading.main_thread().ident:
        _thread.interrupt_main()
    else:
        _raise_in_thread(ident, KeyboardInterrupt)


def end_with_process(pid: int, every: float = 0.5) -> None:
    """In a helper process: exit as soon as process ``pid`` (nbflow's) is gone.

    A killed nbflow (SIGKILL, the OOM killer) runs no clean-up: its pool processes
    would finish their tasks for nothing, and hold its stdout open meanwhile.
    """

    def watch() -> None:
        while not is_gone(pid):
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="nbflow-parent-watch").start()


def is_gone(pid: int) -> bool:
    """Return whether process ``pid`` has ended (a zombie not yet reaped has, too)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123  (Linux: cheap)
            return stat.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except FileNotFoundError:
        return True
    except OSError:  # no /proc here: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


class ProcessExecutor(ProcessPoolExecutor):
    """Run tasks in a pool of worker processes (``forkserver`` where available).

    When a process dies (killed, or it called ``os._exit``), the pool breaks and every
    call in flight fails with ``BrokenProcessPool``. At that moment the pool records the
    exit codes of its dead processes in :attr:`deaths`, before it stops the others.
    """

    def __init__(
        self, max_workers: int | None = None, start_method: str | None = None
    ) -> None:
        method = (
            start_method or os.environ.get("NBFLOW_START_METHOD") or _default_method()
        )
        super().__init__(
            max_workers=max_workers,
            mp_context=multiprocessing.get_context(method),
            initializer=end_with_process,
            initargs=(os.getpid(),),
        )
        #: Exit codes (by pid) of the processes found dead when the pool broke, if it did.
        self.deaths: dict[int, int] | None = None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Schedule ``fn(*args, **kwargs)`` in a worker process and return its future."""
        future = super().submit(fn, *args, **kwargs)
        # registered first, so it runs before the caller's callbacks see the break
        future.add_done_callback(self._note_break)
        return future

    def exit_code(self, pid: int) -> int | None:
        """Return how process ``pid`` of this pool ended, if it has and that is known."""
        if self.deaths and pid in self.deaths:
            return self.deaths[pid]
        process = (self._processes or {}).get(pid)
        if process is None:
            return None
        process.join(timeout=0.2)  # its end is reported a moment after it dies
        return process.exitcode

    def terminate(self) -> None:
        """Stop every process of the pool now (their runs are given up on)."""
        for process in list((self._processes or {}).values()):
            process.terminate()

    def _note_break(self, future: Future[Any]) -> None:
        if self.deaths is not None or future.cancelled():
            return
        if isinstance(future.exception(), BrokenProcessPool):
            # the pool's manager thread fails the futures before it terminates the
            # processes still alive: only the ones that broke it are dead yet
            self.deaths = self._exit_codes()

    def _exit_codes(self) -> dict[int, int]:
        processes = list((self._processes or {}).values())
        by_sentinel = {process.sentinel: process for process in processes}
        codes = {}
        for sentinel in wait_for(list(by_sentinel), timeout=0):
            process = by_sentinel[sentinel]  # type: ignore[index]
            process.join(timeout=1)  # its pipe closes a moment before it can be reaped
            if process.pid is not None and process.exitcode is not None:
                codes[process.pid] = process.exitcode
        return codes


def describe_exit(code: int) -> str:
    """Say how a process ended, from its exit code (negative: the signal that killed it).

    Examples
    --------
    >>> describe_exit(-9)
    'killed by signal SIGKILL'
    >>> describe_exit(3)
    'exited with code 3'
    """
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"killed by signal {name}"
    return f"exited with code {code}"


class ProcessDiedError(NbflowError):
    """A task's process died (killed, or it exited) before the task returned."""

    def __init__(self, task: str, got: str, *, own: bool) -> None:
        super().__init__(task, got, own)
        #: The task, how its (or the other) process ended, and whether it was its own.
        self.task, self.got, self.own = task, got, own

    def __str__(self) -> str:
        if self.own:
            return (
                f"{self.task}: its process died while it ran (got {self.got}). "
                "Expected the process to live until run() returns. Fix: find what "
                "stopped it (the OOM killer: see `dmesg`; a kill; os._exit or a crash "
                "in native code), or run with --executor threads to see a Python error."
            )
        return (
            f"{self.task}: stopped because another process of the pool died (got "
            f"{self.got}). Expected every process of the pool to live until its task "
            "returns. Fix: fix the task whose process died, then run again; this "
            "task did not fail by itself."
        )


def process_died(
    task: str,
    pid: int | None,
    deaths: Mapping[int, int],
    tasks_by_pid: Mapping[int, str],
) -> ProcessDiedError:
    """Explain why ``task``, which ran in process ``pid``, failed with a broken pool.

    ``deaths`` holds the exit codes of the processes that broke the pool
    (:attr:`ProcessExecutor.deaths`), ``tasks_by_pid`` what each process ran.

    Examples
    --------
    >>> process_died("A()", 7, {7: -9}, {7: "A()"}).got
    'pid 7 killed by signal SIGKILL'
    >>> process_died("B()", 8, {7: -9}, {7: "A()"}).got
    'the process running A() (pid 7) killed by signal SIGKILL'
    """
    if pid is not None and pid in deaths:
        return ProcessDiedError(
            task, f"pid {pid} {describe_exit(deaths[pid])}", own=True
        )
    culprits = [
        f"the process running {tasks_by_pid[dead]} (pid {dead}) {describe_exit(code)}"
        if dead in tasks_by_pid
        else f"a process of the pool (pid {dead}) {describe_exit(code)}"
        for dead, code in sorted(deaths.items())
    ]
    return ProcessDiedError(
        task, "; ".join(culprits) or "a process of the pool died", own=False
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


def adapt_executor(given: Executor) -> tuple[Executor, bool]:
    """Return the executor for ``given``, and whether it was made here (to shut down).

    A Dask ``distributed.Client`` (not an executor itself) is adapted by the ``dask``
    executor plugin; its cluster is left as it is. Anything else is returned as is.
    """
    if type(given).__module__.partition(".")[0] != "distributed":
        return given, False
    factory = load_plugin("nbflow.executors", "dask", BUILTIN_EXECUTORS, extra="dask")
    executor: Executor = factory(client=given)
    return executor, True
