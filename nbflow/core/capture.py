"""Capturing what each task prints and logs while it runs: a bounded log, and its tail.

A task's ``print()``, its writes to ``sys.stderr`` and its log records that reach the
console are kept per run as written: the last ``[worker] log_max_bytes`` bytes
(:data:`LOG_MAX_BYTES`, 1 MB, by default; UTF-8), the older text dropped and counted
(:meth:`CapturedOutput.log` gives the text, the characters dropped before it and the
characters written in all). The log also hands out *deltas*
(:meth:`CapturedOutput.delta`): the text written since the last delta, with its offset
(the characters written before it), so it can be streamed without sending anything
twice; a scheduler server keeps each run's log that way (:mod:`nbflow.core.remote`).

The views show the *tail*, made from the log when asked: the last :data:`MAX_LINES`
lines as a terminal shows them (a carriage return starts a line again), each cut to
:data:`MAX_LINE_CHARS` characters. The tail travels with the task's outcome
(:attr:`nbflow.core.execution.Outcome.output`, with the last delta in ``log``) to the
``TaskStatusChanged`` notification and so to ``TaskState.output``, which every view
shows. While a task prints, a :class:`LiveOutput` (its tail and its latest delta) is
also sent to the task's runtime reporter (kind ``"output"``) at most every
:data:`LIVE_INTERVAL` seconds; the worker publishes the tail as a ``TaskOutput``
notification and streams the delta to a scheduler server.

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
(files). A task that prints nothing costs one small object and two dict operations;
one that prints costs a list append per write (small writes are joined in 4 KB
chunks), whatever it printed before.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

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
#: Bytes of each run's log kept by default (``[worker] log_max_bytes``): 1 MB.
LOG_MAX_BYTES = 1_048_576
#: Characters of small writes gathered before they become one chunk of the log.
_CHUNK = 4096
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


class LogDelta(NamedTuple):
    """What a run wrote since the last delta: ``text``, after ``offset`` characters."""

    #: Characters the run wrote before ``text`` (where ``text`` starts in its log).
    offset: int
    text: str


class LogText(NamedTuple):
    """A run's kept log: ``text`` is its characters ``dropped`` to ``written``."""

    text: str
    #: Characters dropped from the front to keep the log within its bytes.
    dropped: int
    #: Characters written in all (the offset of the log's end).
    written: int


class LiveOutput(NamedTuple):
    """A live report of a running task's output: its tail, and its newest text."""

    lines: tuple[str, ...]
    delta: LogDelta | None


class _Log:
    """The bounded log of a task that printed something (most print nothing).

    ``chunks`` hold the kept text but the newest small writes, which wait in ``parts``
    until :data:`_CHUNK` characters are there (one append per ``print()``, not a copy).
    """

    __slots__ = (
        "chunks",
        "dropped",
        "limit",
        "lock",
        "parts",
        "parts_chars",
        "sent",
        "size",
        "written",
    )

    def __init__(self, limit: int) -> None:
        self.chunks: collections.deque[str] = collections.deque()
        self.parts: list[str] = []
        self.parts_chars = 0
        self.lock = threading.Lock()
        self.limit = limit
        #: UTF-8 bytes kept (chunks and parts).
        self.size = 0
        self.written = self.dropped = 0
        #: Characters handed out as deltas so far.
        self.sent = 0

    def add(self, text: str) -> None:
        """Append ``text``, dropping the oldest text beyond the limit (lock held)."""
        self.parts.append(text)
        self.parts_chars += len(text)
        self.written += len(text)
        self.size += _size(text)
        if self.parts_chars >= _CHUNK or self.size > self.limit:
            self.join_parts()
            if self.size > self.limit:
                self.trim()

    def join_parts(self) -> None:
        """Move the small writes into one chunk (lock held)."""
        if self.parts:
            self.chunks.append("".join(self.parts))
            self.parts.clear()
            self.parts_chars = 0

    def trim(self) -> None:
        """Drop the oldest text until the log fits its limit (lock held, parts joined)."""
        excess = self.size - self.limit
        chunks = self.chunks
        while excess > 0 and chunks:
            head = chunks[0]
            size = _size(head)
            if size <= excess:
                chunks.popleft()
                self.dropped += len(head)
                self.size -= size
                excess -= size
                continue
            kept = _without_bytes(head, excess)
            chunks[0] = kept
            self.dropped += len(head) - len(kept)
            self.size -= size - _size(kept)
            return

    def text_from(self, offset: int) -> str:
        """Return the kept text from character ``offset`` on (lock held, parts joined)."""
        need = self.written - max(offset, self.dropped)
        if need <= 0:
            return ""
        found: list[str] = []
        have = 0
        for chunk in reversed(self.chunks):
            found.append(chunk)
            have += len(chunk)
            if have >= need:
                break
        text = "".join(reversed(found))
        return text[len(text) - need :]

    def tail_text(self) -> tuple[str, bool]:
        """Return enough of the end for MAX_LINES lines, and whether it is all of it."""
        found: list[str] = []
        newlines = 0
        for chunk in reversed(self.chunks):
            found.append(chunk)
            newlines += chunk.count("\n")
            if newlines > MAX_LINES:
                return "".join(reversed(found)), False
        return "".join(reversed(found)), True


def _size(text: str) -> int:
    """Return the UTF-8 size of ``text`` (its length when ASCII: no encoding needed)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


def _without_bytes(text: str, count: int) -> str:
    """Return ``text`` without its first ``count`` UTF-8 bytes (and any split character)."""
    if text.isascii():
        return text[count:]
    return text.encode("utf-8", "replace")[count:].decode("utf-8", "ignore")


class CapturedOutput:
    r"""The bounded log of what one task wrote, and its tail of lines.

    The log keeps the last ``max_bytes`` bytes as written (default: the run's
    ``[worker] log_max_bytes``, see :func:`installed`). The tail (:meth:`lines`) shows
    it as a terminal would: a carriage return starts the current line again
    (progress bars), and a line longer than :data:`MAX_LINE_CHARS` is cut. As a
    context manager, it captures what the current thread writes (see
    :func:`capturing`).

    Examples
    --------
    >>> output = CapturedOutput("A_1")
    >>> output.write("loading\n50%\r100%\n")
    >>> output.write("no newline yet")
    >>> output.lines()
    ('loading', '100%', 'no newline yet')
    >>> output.delta(), output.delta()
    (LogDelta(offset=0, text='loading\n50%\r100%\nno newline yet'), None)
    >>> output.write("!")
    >>> output.delta()
    LogDelta(offset=31, text='!')
    >>> small = CapturedOutput("B_1", max_bytes=8)
    >>> small.write("0123456789\nabc")
    >>> small.log()
    LogText(text='6789\nabc', dropped=6, written=14)
    """

    __slots__ = (
        "_ident",
        "_log",
        "_outer",
        "_owns",
        "closed",
        "echo",
        "max_bytes",
        "reporter",
        "task_id",
    )

    def __init__(
        self,
        task_id: str,
        *,
        echo: bool = False,
        reporter: Callable[[str, str, Any], object] | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.task_id = task_id
        #: Also write to the console (tee mode).
        self.echo = echo
        #: Called as ``reporter(task_id, "output", LiveOutput(...))`` at most every
        #: LIVE_INTERVAL seconds while the task writes (a task's runtime reporter).
        self.reporter = reporter
        #: Set when the task has ended: no more live reports.
        self.closed = False
        #: Bytes of the log kept (the newest).
        self.max_bytes = _CAPTURE.max_bytes if max_bytes is None else max(0, max_bytes)
        # made on the first write, in the task's thread, before anyone else sees it
        self._log: _Log | None = None

    def write(self, text: str) -> None:
        """Add ``text`` to the log."""
        log = self._log
        if log is None:
            log = self._log = _Log(self.max_bytes)
        with log.lock:
            log.add(text)
        if self.reporter is not None:
            _LIVE.note(self)

    def lines(self) -> tuple[str, ...]:
        """Return the tail: the last complete lines, then the line still being written."""
        log = self._log
        if log is None:
            return ()
        with log.lock:
            log.join_parts()
            text, whole = log.tail_text()
            whole = whole and log.dropped == 0
        found = text.split("\n")
        if not found[-1]:
            found.pop()  # the text ends with a newline
        if not whole and len(found) > 1:
            found.pop(0)  # the rest of a line that began before
        return tuple(_clean(line) for line in found[-MAX_LINES:])

    def log(self) -> LogText:
        """Return the kept log: its text, the characters dropped before, the total."""
        log = self._log
        if log is None:
            return LogText("", 0, 0)
        with log.lock:
            log.join_parts()
            return LogText(log.text_from(0), log.dropped, log.written)

    def delta(self) -> LogDelta | None:
        """Return what was written since the last delta (None: nothing new).

        Text written and dropped in between (more than the log keeps) is skipped:
        the delta's offset then starts after a gap.
        """
        log = self._log
        if log is None:
            return None
        with log.lock:
            if log.sent >= log.written:
                return None
            log.join_parts()
            start = max(log.sent, log.dropped)
            text = log.text_from(start)
            log.sent = log.written
        return LogDelta(start, text)

    def live(self) -> LiveOutput:
        """Return the tail and the newest delta (what a live report carries)."""
        return LiveOutput(self.lines(), self.delta())

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
        #: Bytes of each run's log kept (set by the run: ``[worker] log_max_bytes``).
        self.max_bytes = LOG_MAX_BYTES

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
                    send(output.task_id, "output", output.live())
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
def installed(mode: str, max_bytes: int | None = None) -> Iterator[None]:
    """Keep the dispatching streams in place for a run (unless ``mode`` is off).

    ``max_bytes``: the bytes of each task's log to keep from now on (``[worker]
    log_max_bytes``); None leaves the setting as it is.
    """
    if max_bytes is not None:
        _CAPTURE.max_bytes = max(0, max_bytes)
    if mode == "off":
        yield
        return
    _CAPTURE.install()
    try:
        yield
    finally:
        _CAPTURE.uninstall()


def install_for_process(max_bytes: int | None = None) -> None:
    """Install the dispatching streams for good (in a process executor's child)."""
    if max_bytes is not None:
        _CAPTURE.max_bytes = max(0, max_bytes)
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
