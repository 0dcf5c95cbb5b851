"""Capturing what each task prints and logs while it runs, as a bounded tail.

A task's ``print()``, its writes to ``sys.stderr`` and its log records that reach the
console are kept per task: the last :data:`MAX_LINES` lines, each cut to
:data:`MAX_LINE_CHARS` characters. The tail travels with the task's outcome
(:attr:`nbflow.core.execution.Outcome.output`) to the ``TaskStatusChanged`` notification
and so to ``TaskState.output``, which every view shows. While a task prints, a snapshot
of its tail is also sent to the task's runtime reporter (kind ``"output"``) at most
every :data:`LIVE_INTERVAL` seconds; the worker publishes it as a ``TaskOutput``
notification.

Modes (``RunOptions.capture_output``, ``[worker] capture_output``):

- ``"tee"``: capture, and still write to the console (the CLI: users expect to see it);
- ``"capture"``: capture only (the kernel: a background run's output would otherwise
  land in whichever cell happens to run);
- ``"off"``: touch nothing;
- ``"auto"`` (the default): ``capture`` for a run in the background, ``tee`` for one
  that blocks its caller (whose console is where the output belongs).

How, in one process with many task threads: while any run captures, ``sys.stdout``
and ``sys.stderr`` are :class:`DispatchingStream` objects. A write from a thread running
a task goes to that task's :class:`CapturedOutput` (and, in tee mode, on to the stream that
was there before); a write from any other thread goes to that stream unchanged, so
IPython's own output is untouched. Logging handlers that write to the console are
pointed at the dispatching streams for as long, so log records are captured where the
console would show them, once. Everything is put back when the last run ends (on
error or interrupt too); a stream someone else has replaced meanwhile is left alone.
A process executor's child installs the streams for its lifetime and sends the tail
back with the result.

Not captured: writes from threads a task starts itself, output of C code writing to
file descriptors 1 and 2 directly, and log records whose handlers write elsewhere
(files). A task that prints nothing costs one small object and two dict operations.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from nbflow.core.errors import CaptureModeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

#: The values ``capture_output`` accepts.
MODES = ("auto", "tee", "capture", "off")
#: Lines kept per task (the last ones).
MAX_LINES = 200
#: Characters kept per line.
MAX_LINE_CHARS = 2_000
#: Seconds between two live snapshots of one task's output.
LIVE_INTERVAL = 0.5
_CUT = " [... cut]"


def resolve_mode(value: str | None, *, background: bool) -> str:
    """Return the capture mode to use: tee, capture or off.

    ``auto`` (and None) captures the output of a run in the background and tees that
    of a run the caller waits for.

    Raises
    ------
    CaptureModeError
        ``value`` is not one of :data:`MODES`.

    Examples
    --------
    >>> resolve_mode(None, background=True), resolve_mode("auto", background=False)
    ('capture', 'tee')
    >>> resolve_mode("OFF", background=True)
    'off'
    """
    mode = (value or "auto").strip().lower()
    if mode not in MODES:
        raise CaptureModeError(value or "", MODES)
    if mode == "auto":
        return "capture" if background else "tee"
    return mode


class _Tail:
    """The lines of a task that printed something (most print nothing)."""

    __slots__ = ("lines", "lock", "partial")

    def __init__(self) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        self.lock = threading.Lock()
        #: The line still being written (no newline yet).
        self.partial = ""


class CapturedOutput:
    r"""The bounded tail of what one task wrote, line by line.

    A carriage return starts the current line again (progress bars), and a line
    longer than :data:`MAX_LINE_CHARS` is cut. As a context manager, it captures
    what the current thread writes (see :func:`capturing`).

    Examples
    --------
    >>> output = CapturedOutput("A_1")
    >>> output.write("loading\n50%\r100%\n")
    >>> output.write("no newline yet")
    >>> output.lines()
    ('loading', '100%', 'no newline yet')
    """

    __slots__ = (
        "_ident",
        "_outer",
        "_owns",
        "_tail",
        "closed",
        "echo",
        "reporter",
        "task_id",
    )

    def __init__(
        self,
        task_id: str,
        *,
        echo: bool = False,
        reporter: Callable[[str, str, Any], object] | None = None,
    ) -> None:
        self.task_id = task_id
        #: Also write to the console (tee mode).
        self.echo = echo
        #: Called as ``reporter(task_id, "output", lines)`` with a snapshot of the
        #: tail, at most every LIVE_INTERVAL seconds (a task's runtime reporter).
        self.reporter = reporter
        #: Set when the task has ended: no more live snapshots.
        self.closed = False
        # made on the first write, in the task's thread, before anyone else sees it
        self._tail: _Tail | None = None

    def write(self, text: str) -> None:
        """Add ``text`` to the tail."""
        tail = self._tail
        if tail is None:
            tail = self._tail = _Tail()
        with tail.lock:
            *complete, partial = (tail.partial + text).split("\n")
            tail.lines.extend(_clean(line) for line in complete[-MAX_LINES:])
            tail.partial = _squeeze(partial)
        if self.reporter is not None:
            _LIVE.note(self)

    def lines(self) -> tuple[str, ...]:
        """Return the tail: the complete lines, then the line still being written."""
        tail = self._tail
        if tail is None:
            return ()
        with tail.lock:
            if tail.partial:
                return (*tail.lines, _clean(tail.partial))[-MAX_LINES:]
            return tuple(tail.lines)

    def __enter__(self) -> CapturedOutput:
        """Route the current thread's writes here (the run keeps streams installed)."""
        self._ident = ident = threading.get_ident()
        outputs = _CAPTURE.outputs
        self._outer = outputs.get(ident)
        outputs[ident] = self
        self._owns = _CAPTURE.streams is None  # no run keeps the streams in place
        if self._owns:
            _CAPTURE.install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.closed = True
        if self._outer is None:
            del _CAPTURE.outputs[self._ident]
        else:
            _CAPTURE.outputs[self._ident] = self._outer
        if self._owns:
            _CAPTURE.uninstall()


def _squeeze(partial: str) -> str:
    r"""Keep what a terminal shows of a line still being written, cut short.

    A trailing ``\r`` is kept: the next text starts the line again.
    """
    if "\r" not in partial:
        return partial[:MAX_LINE_CHARS]
    head, _, rest = partial.rpartition("\r")
    if rest:
        return "\r" + rest[:MAX_LINE_CHARS]
    return head.rpartition("\r")[2][:MAX_LINE_CHARS] + "\r"


def _clean(line: str) -> str:
    r"""Keep what a terminal would show of ``line`` (after its last ``\r``), cut short."""
    if "\r" in line:
        line = line.rstrip("\r").rpartition("\r")[2]
    if len(line) > MAX_LINE_CHARS:
        return line[: MAX_LINE_CHARS - len(_CUT)] + _CUT
    return line


class DispatchingStream:
    """A stand-in for ``sys.stdout``/``sys.stderr`` that routes writes by thread.

    Writes from a thread with a registered :class:`CapturedOutput` go there (and on to
    the original stream if it echoes); all others go to the original unchanged.
    Every other attribute is the original's.
    """

    def __init__(self, original: TextIO, outputs: dict[int, CapturedOutput]) -> None:
        self.original = original
        self._outputs = outputs

    def write(self, text: str) -> int:
        """Write ``text`` for the current thread."""
        output = self._outputs.get(threading.get_ident())
        if output is None:
            return self.original.write(text)
        output.write(text)
        if output.echo:
            self.original.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush the original stream."""
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _Capture:
    """The process's dispatching streams, installed while any run captures."""

    def __init__(self) -> None:
        #: thread ident -> the output of the task it runs
        self.outputs: dict[int, CapturedOutput] = {}
        self._lock = threading.Lock()
        self._users = 0
        #: The dispatching streams for stdout and stderr, while installed.
        self.streams: tuple[DispatchingStream, DispatchingStream] | None = None
        #: console handlers pointed at a dispatching stream, with their own stream
        self._handlers: list[tuple[logging.StreamHandler[Any], Any]] = []

    def install(self) -> None:
        """Put the dispatching streams in place (once for all users)."""
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            stdout = DispatchingStream(sys.stdout, self.outputs)
            stderr = DispatchingStream(sys.stderr, self.outputs)
            self.streams = stdout, stderr
            sys.stdout, sys.stderr = stdout, stderr
            self._handlers = _point_console_handlers(stdout, stderr)

    def uninstall(self) -> None:
        """Put the original streams back once the last user is done."""
        with self._lock:
            self._users -= 1
            if self._users > 0 or self.streams is None:
                return
            stdout, stderr = self.streams
            self.streams = None
            if sys.stdout is stdout:  # else someone replaced it since: leave theirs
                sys.stdout = stdout.original
            if sys.stderr is stderr:
                sys.stderr = stderr.original
            for handler, stream in self._handlers:
                if handler.stream in (stdout, stderr):
                    handler.setStream(stream)
            self._handlers = []


def _point_console_handlers(
    stdout: DispatchingStream, stderr: DispatchingStream
) -> list[tuple[logging.StreamHandler[Any], Any]]:
    """Point every logging handler that writes to the console at the dispatchers.

    Handlers that look up ``sys.stderr`` at each write (``logging.lastResort``, the
    CLI's) find the dispatcher by themselves.
    """
    targets = {
        id(stdout.original): stdout,
        id(sys.__stdout__): stdout,
        id(stderr.original): stderr,
        id(sys.__stderr__): stderr,
    }
    loggers = [logging.getLogger()] + [
        item
        for item in list(logging.Logger.manager.loggerDict.values())
        if isinstance(item, logging.Logger)
    ]
    pointed = []
    for handler in {h for each in loggers for h in each.handlers}:
        if not isinstance(handler, logging.StreamHandler):  # sockets, queues, ...
            continue
        stream = handler.__dict__.get("stream")  # a property: dynamic, leave it
        # a file handler's stream is a file: only console streams are matched
        target = targets.get(id(stream)) if stream is not None else None
        if target is not None:
            handler.setStream(target)
            pointed.append((handler, stream))
    return pointed


class _LiveOutputs:
    """Hands tails that changed to their callbacks, from one thread that comes and goes.

    The thread runs only while some task prints, and stops after an interval with
    nothing new.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dirty: dict[CapturedOutput, None] = {}
        self._thread: threading.Thread | None = None

    def note(self, output: CapturedOutput) -> None:
        """Note that ``output`` changed (the thread sends it within an interval)."""
        if output in self._dirty:  # unlocked peek: the common case, cheap
            return
        with self._lock:
            self._dirty[output] = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="nbflow-task-output", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(LIVE_INTERVAL)
            with self._lock:
                dirty, self._dirty = list(self._dirty), {}
                if not dirty:
                    self._thread = None
                    return
            for output in dirty:
                send = output.reporter
                if output.closed or send is None:
                    continue
                try:
                    send(output.task_id, "output", output.lines())
                except Exception:  # a broken pipe to the worker: stop sending
                    logger.warning(
                        "live output of %s could not be sent; it comes at the end",
                        output.task_id,
                        exc_info=True,
                    )
                    output.reporter = None


_CAPTURE = _Capture()
_LIVE = _LiveOutputs()


@contextlib.contextmanager
def installed(mode: str) -> Iterator[None]:
    """Keep the dispatching streams in place for a run (unless ``mode`` is off)."""
    if mode == "off":
        yield
        return
    _CAPTURE.install()
    try:
        yield
    finally:
        _CAPTURE.uninstall()


def install_for_process() -> None:
    """Install the dispatching streams for good (in a process executor's child)."""
    if _CAPTURE.streams is None:
        _CAPTURE.install()


_OFF: contextlib.nullcontext[None] = contextlib.nullcontext()


def capturing(
    task_id: str,
    mode: str,
    reporter: Callable[[str, str, Any], object] | None = None,
) -> CapturedOutput | contextlib.nullcontext[None]:
    """Return a context that captures what the current thread writes meanwhile.

    ``with capturing(task_id, mode, reporter) as output:`` gives the task's
    :class:`CapturedOutput` (None with mode ``off``). The streams stay installed by the
    run around it (:func:`installed`); without one, they are installed for the block.
    Blocks nest (a task run inside a task's thread captures for the inner one).
    """
    if mode == "off":
        return _OFF
    return CapturedOutput(task_id, echo=mode == "tee", reporter=reporter)
