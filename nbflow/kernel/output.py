"""The notebook outputs that show a run, turned into its last state when it ends.

A run's live view is a widget, shown with a display id. When the run ends,
:class:`RunOutput` replaces every output that shows it (``update_display``, from the
thread that sees the end) with the static bundle of :mod:`nbflow.widgets.snapshot`:
HTML of the final graph, summary and failures, and the final text. So the notebook
that is saved keeps the run's last state, readable without a kernel (JupyterLab after
a restart, nbviewer, GitHub, nbconvert), and never a "model not found" widget or the
"running" text recorded when the view first appeared. A background run that fails or
is cancelled also says so at once: a one-line notice is displayed in the output of the
cell that started it.

Displays go out in the context of the cell that made the :class:`RunOutput` (ipykernel
keeps the cell's message header in a context variable), so a notice from the run's
thread lands under that cell, and an update finds its display whichever thread sends it.

Threads: :meth:`RunOutput.show` runs in the kernel's main thread; the end is seen in
the run's view thread or its own thread. One lock orders them: a display shown after
the end shows the last state, and no update can pass a display still being made.

Imports: stdlib, nbflow.core.progress, nbflow.kernel.{display, errors, range_strip, record};
IPython and nbflow.widgets.snapshot lazily.
"""

from __future__ import annotations

import contextvars
import html
import threading
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.core.progress import STATE_WORDS, format_seconds, last_line
from nbflow.kernel.display import run_snapshot
from nbflow.kernel.errors import show_command
from nbflow.kernel.range_strip import range_root, strip_bundle

if TYPE_CHECKING:
    from nbflow.core.progress import Changes, RunProgress
    from nbflow.kernel.record import RunRecord

#: Seconds between looks at the run's progress (the end is seen at once anyway).
WATCH_INTERVAL = 0.5
#: Run outcomes announced the moment a background run ends.
NOTICE_OUTCOMES = frozenset({"failed", "cancelled"})


class Publisher(Protocol):
    """Where displays go: IPython's display machinery, or a recording fake in tests."""

    def display(self, bundle: dict[str, Any], display_id: str) -> None:
        """Show ``bundle`` as a new output that ``display_id`` names."""

    def update(self, bundle: dict[str, Any], display_id: str) -> None:
        """Replace every output named ``display_id`` with ``bundle``."""


class IPythonPublisher:
    """Publish through IPython's ``display``; nothing without a running IPython."""

    def display(self, bundle: dict[str, Any], display_id: str) -> None:
        """Show ``bundle`` as a new output that ``display_id`` names."""
        self._send(bundle, display_id, update=False)

    def update(self, bundle: dict[str, Any], display_id: str) -> None:
        """Replace every output named ``display_id`` with ``bundle``."""
        self._send(bundle, display_id, update=True)

    @staticmethod
    def _send(bundle: dict[str, Any], display_id: str, *, update: bool) -> None:
        from IPython.core.interactiveshell import InteractiveShell  # noqa: PLC0415
        from IPython.display import display  # noqa: PLC0415

        if not InteractiveShell.initialized():
            return  # plain Python: there is no output to show or update
        if update and getattr(InteractiveShell.instance(), "kernel", None) is None:
            return  # a terminal prints displays: an update would print it all again
        display(bundle, raw=True, display_id=display_id, update=update)  # type: ignore[no-untyped-call]


def cell_token(shell: Any) -> tuple[object, ...]:
    """Return what identifies the cell running now in ``shell`` (None: no shell)."""
    if shell is None:
        return ()
    header = getattr(shell, "parent_header", None) or {}
    message = header.get("header", header).get("msg_id") if header else None
    return (getattr(shell, "execution_count", None), message)


class RunOutput:
    """Every output that shows one run; static from the moment the run ends.

    Parameters
    ----------
    record
        The run.
    background
        Whether the cell that started it returned at once (a failure or a cancel is
        then announced with a notice).
    publisher
        Where displays go (default: IPython).
    """

    def __init__(
        self,
        record: RunRecord,
        *,
        background: bool = False,
        publisher: Publisher | None = None,
    ) -> None:
        self.record = record
        self.background = background
        self.publisher: Publisher = publisher or IPythonPublisher()
        #: The cell that last showed the run (see :func:`cell_token`).
        self.shown_in: tuple[object, ...] | None = None
        self._context = contextvars.copy_context()  # the starting cell's
        self._lock = threading.Lock()
        self._display_ids: list[str] = []
        self._final: dict[str, Any] | None = None
        self._unwatch: Any = None
        #: A range run's calendar strip, shown under each view of it (else None).
        self._range = range_root(getattr(record.run, "roots", ()))
        self._strip_ids: list[str] = []
        self._strip_shown: dict[str, Any] | None = None

    @property
    def final(self) -> dict[str, Any] | None:
        """The static bundle, once the run has ended and it was made."""
        return self._final

    @property
    def display_ids(self) -> tuple[str, ...]:
        """The display ids of the outputs that show the run."""
        return tuple(self._display_ids)

    def watch(self) -> None:
        """Start looking for the run's end (once)."""
        if self._unwatch is None:
            self._unwatch = self.record.run.watch(
                self._on_changes, interval=WATCH_INTERVAL
            )

    def show(self, widget: Any = None, *, token: tuple[object, ...] = ()) -> str:
        """Display the run: ``widget`` while it runs, its last state once it ended.

        Returns the new output's display id.
        """
        self.watch()
        display_id = uuid.uuid4().hex
        with self._lock:
            bundle = self._final
            if bundle is None and self._ended():
                bundle = self._final = self._render()
            if bundle is None:
                bundle = _live_bundle(widget, self.record)
            self._display_ids.append(display_id)
            self.shown_in = token
            self.publisher.display(bundle, display_id)  # in the calling cell
            if self._range is not None:
                self._strip_ids.append(uuid.uuid4().hex)
                self._strip_shown = self._strip()
                self.publisher.display(self._strip_shown, self._strip_ids[-1])
        return display_id

    def finish(self) -> None:
        """Make every output of the run static (idempotent; any thread)."""
        with self._lock:
            if self._final is not None:
                return
            wanted = self._display_ids or self.background
            if not wanted:
                return
            self._final = self._render()
            for display_id in self._display_ids:
                self._publish(self.publisher.update, self._final, display_id)
            self._refresh_strips()
            if self.background and self.record.progress.outcome in NOTICE_OUTCOMES:
                notice = notice_bundle(self.record)
                self._publish(self.publisher.display, notice, uuid.uuid4().hex)
        if self._unwatch is not None:
            self._unwatch()

    # --- inside ---------------------------------------------------------------------

    def _on_changes(self, _changes: Changes) -> None:
        if self._ended():
            self.finish()
        elif self._strip_ids:
            with self._lock:
                self._refresh_strips()

    def _strip(self) -> dict[str, Any]:
        assert self._range is not None  # noqa: S101  (only called for range runs)
        with self.record.run.lock:
            return strip_bundle(self._range, self.record.progress)

    def _refresh_strips(self) -> None:
        """Redraw the calendar strips if a date changed state (hold ``_lock``)."""
        if not self._strip_ids:
            return
        bundle = self._strip()
        if bundle != self._strip_shown:
            self._strip_shown = bundle
            for strip_id in self._strip_ids:
                self._publish(self.publisher.update, bundle, strip_id)

    def _ended(self) -> bool:
        run = self.record.run
        return (
            self.record.progress.finished is not None
            or run.result is not None
            or run.error is not None
        )

    def _render(self) -> dict[str, Any]:
        from nbflow.widgets.snapshot import snapshot_bundle, take_snapshot  # noqa: PLC0415

        record = self.record
        with record.run.lock:
            snapshot = take_snapshot(record.progress, title_of(record))
        return snapshot_bundle(snapshot)

    def _publish(self, send: Any, bundle: dict[str, Any], display_id: str) -> None:
        self._context.copy().run(send, bundle, display_id)


def title_of(record: RunRecord) -> str:
    """Return ``nbflow run 3 (Report(day=1))``."""
    roots = ", ".join(record.roots[:3])
    more = f" and {len(record.roots) - 3} more" if len(record.roots) > 3 else ""  # noqa: PLR2004
    return f"nbflow run {record.number} ({roots}{more})"


def notice_text(record: RunRecord) -> str:
    """Return the one line that announces the end of a background run."""
    progress = record.progress
    with record.run.lock:
        outcome, counts = progress.outcome, progress.counts_text()
        wall = format_seconds(progress.wall())
        first = _first_failure(progress)
    line = f"{title_of(record)} {outcome} after {wall}: {counts}."
    if first is not None:
        state, command = first
        line += f" First failure: {state}; see it with {command}."
    elif outcome == "cancelled":
        line += " Run it again to finish; complete tasks are not run twice."
    return line


def notice_bundle(record: RunRecord) -> dict[str, Any]:
    """Return the notice as text and as HTML that reads in light and dark themes."""
    text = notice_text(record)
    outcome = record.progress.outcome
    colour = "#e57373" if outcome == "failed" else "#ce93d8"
    mark = "\N{BALLOT X}" if outcome == "failed" else "\N{BLACK SQUARE}"
    return {
        "text/plain": text,
        "text/html": (
            f'<div class="nbflow-notice nbflow-notice-{html.escape(outcome)}" '
            f'style="border-left: 4px solid {colour}; padding: 2px 8px; '
            "color: var(--jp-ui-font-color1, #1f1f1f); "
            'font-family: var(--jp-ui-font-family, system-ui, sans-serif)">'
            f"{mark} {html.escape(text)}</div>"
        ),
    }


def _first_failure(progress: RunProgress) -> tuple[str, str] | None:
    for task_id in progress.failed:
        record = progress.tasks[task_id]
        error = last_line(record.error, STATE_WORDS.get(record.state, record.state))
        return f"{record.label}: {error}", show_command(record.family, record.params)
    return None


def _live_bundle(widget: Any, record: RunRecord) -> dict[str, Any]:
    """Return the live widget's bundle, or the run's text while it runs."""
    if widget is not None and hasattr(widget, "_repr_mimebundle_"):
        made = widget._repr_mimebundle_()
        bundle: dict[str, Any] = (
            made[0] if isinstance(made, tuple) else made
        )  # (data, metadata)
        return bundle
    return {"text/plain": run_snapshot(record)}
