"""The papermill side of :class:`~nbflow.notebook.task.NotebookTask`: run, watch, link.

:func:`execute` runs a notebook with papermill through an engine registered as
``"nbflow"``: papermill's own nbclient engine, whose execution manager is wrapped so
that each cell start and end reaches a :class:`CellProgress` (progress percentage and
status message of the running task). The kernel's working directory is handed to
nbclient (``resources.metadata.path``) rather than to papermill's ``cwd``, which
changes the directory of the whole process and would race between worker threads.

:func:`notebook_url` turns an executed notebook's path into the link shown as the
task's tracking URL: a JupyterLab URL when a Jupyter server serves the folder, a plain
path otherwise.

Imports: stdlib; papermill, nbclient and jupyter_client lazily (only to run).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.core.task import Task

#: The name of nbflow's papermill engine.
ENGINE_NAME = "nbflow"
#: papermill's tag on the cell it injects.
INJECTED_TAG = "injected-parameters"
_STATUS_CHARS = 60
#: Set in threads running a notebook for nbflow (papermill logs from those threads).
_INSIDE = threading.local()


class _QuietUnknownParameters(logging.Filter):
    """Drop papermill's "Passed unknown parameter" inside nbflow's runs.

    nbflow checks the parameters itself, more strictly and before the kernel starts;
    papermill's inference also misses annotation-only names (``day: str``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        inside = getattr(_INSIDE, "running", False)
        return not (inside and record.getMessage().startswith("Passed unknown param"))


class RunOptions(NamedTuple):
    """How to run one notebook."""

    execution_timeout: float | None
    start_timeout: float
    cwd: str | None


class CellProgress:
    """Report a running notebook's cells to its task: progress and status message."""

    def __init__(self, task: Task) -> None:
        self.task = task
        #: Per cell of the executed notebook: (is code, is injected, source).
        self.cells: list[tuple[bool, bool, str]] = []
        self.total = 0
        self.done = 0
        self.current: int | None = None

    def attach(self, manager: Any) -> None:
        """Wrap papermill's execution manager so cell starts and ends reach us."""
        for cell in manager.nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            is_code = cell.get("cell_type") == "code"
            self.cells.append((is_code, INJECTED_TAG in tags, source))
        self.total = sum(1 for is_code, _, _ in self.cells if is_code) or 1
        start, complete = manager.cell_start, manager.cell_complete

        def cell_start(cell: Any, cell_index: int | None = None, **kwargs: Any) -> Any:
            self.started(cell_index)
            return start(cell, cell_index, **kwargs)

        def cell_complete(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
            self.completed(cell_index)
            return complete(cell, cell_index, **kw)

        manager.cell_start, manager.cell_complete = cell_start, cell_complete

    def started(self, index: int | None) -> None:
        """Note that cell ``index`` (of the executed notebook) starts running."""
        if index is None or not self.cells[index][0]:
            return
        self.current = index
        count = f"({self.done + 1}/{self.total})"
        if self.cells[index][1]:
            self.task.set_status_message(f"running the injected parameters {count}")
            return
        source_index, source = self.source_position(index)
        first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
        if len(first) > _STATUS_CHARS:
            first = first[: _STATUS_CHARS - 3] + "..."
        self.task.set_status_message(f"running cell {source_index} {count}: {first}")

    def completed(self, index: int | None) -> None:
        """Note that cell ``index`` has finished; report the new percentage."""
        if index is None or not self.cells[index][0]:
            return
        self.done += 1
        self.task.set_progress_percentage(round(100.0 * self.done / self.total, 1))

    def source_position(self, index: int | None) -> tuple[int, str]:
        """Return (index in the source notebook, source) of an executed cell.

        ``None`` means the cell that was running last. Cells papermill injected are
        not counted, so the index is the one the user sees in their notebook.
        """
        if index is None:
            index = self.current
        if index is None or not 0 <= index < len(self.cells):
            return -1, ""
        injected = sum(1 for _, is_injected, _ in self.cells[:index] if is_injected)
        return index - injected, self.cells[index][2]


@functools.cache
def _register_engine() -> None:
    from papermill.engines import (  # noqa: PLC0415  (papermill is heavy: load on use)
        NBClientEngine,
        papermill_engines,
    )

    class _ReportingEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            nbflow_progress: CellProgress | None = None,
            **kwargs: Any,
        ) -> Any:
            if nbflow_progress is not None:
                nbflow_progress.attach(nb_man)
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register(ENGINE_NAME, _ReportingEngine)
    logging.getLogger("papermill").addFilter(_QuietUnknownParameters())


def execute(
    notebook: str,
    output: str,
    parameters: dict[str, Any],
    *,
    kernel: str,
    progress: CellProgress,
    options: RunOptions,
) -> None:
    """Run ``notebook`` with papermill, saving the executed copy at ``output``.

    Raises whatever papermill raises: ``PapermillExecutionError`` for a failing cell,
    nbclient's ``CellTimeoutError`` or ``DeadKernelError``.
    """
    import papermill  # noqa: PLC0415  (papermill is heavy: load on use)

    _register_engine()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    if options.cwd is not None:
        extra["resources"] = {"metadata": {"path": str(Path(options.cwd).resolve())}}
    if options.execution_timeout is not None:
        extra["execution_timeout"] = options.execution_timeout
    context = contextvars.copy_context()
    _INSIDE.running = True
    try:
        context.run(
            papermill.execute_notebook,
            notebook,
            output,
            parameters=parameters,
            engine_name=ENGINE_NAME,
            kernel_name=kernel,
            progress_bar=False,
            start_timeout=options.start_timeout,
            nbflow_progress=progress,
            **extra,
        )
    finally:
        _INSIDE.running = False
        context.run(_close_event_loop)


def _close_event_loop() -> None:
    """Close the event loop nbclient made for this run (it never closes it itself).

    nbclient runs its coroutines on a loop that jupyter_core keeps per context; in a
    worker thread that loop would be left open until garbage collection (a
    ``ResourceWarning``). The run happened in a copy of the caller's context, so the
    loop closed here is the run's own, never a loop that is running (a kernel's).
    """
    from jupyter_core.utils import ensure_event_loop  # noqa: PLC0415  (with nbclient)

    loop = ensure_event_loop()
    if loop.is_running():
        return
    loop.close()
    asyncio.set_event_loop(None)


def classify(exc: BaseException) -> str | None:
    """Return "cell", "timeout" or "dead" for papermill's errors, None for others."""
    from nbclient.exceptions import (  # noqa: PLC0415  (loaded with papermill)
        CellTimeoutError,
        DeadKernelError,
    )
    from papermill.exceptions import PapermillExecutionError  # noqa: PLC0415

    if isinstance(exc, PapermillExecutionError):
        return "cell"
    if isinstance(exc, CellTimeoutError):
        return "timeout"
    if isinstance(exc, DeadKernelError):
        return "dead"
    return None


def installed_kernels() -> set[str]:
    """Return the names of the installed Jupyter kernels."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    return set(KernelSpecManager().find_kernel_specs())


def notebook_url(path: str, environ: Mapping[str, str] | None = None) -> str:
    """Return where a person can open the notebook at ``path``.

    Inside a Jupyter server (``JPY_SESSION_NAME`` is set in its kernels, or
    ``JUPYTER_SERVER_URL`` / ``NBFLOW_JUPYTER_URL`` are set) and when the file lies
    under the server's root, this is ``<server>/lab/tree/<path>``; a remote URL stays
    as it is; anything else is the absolute local path.

    Examples
    --------
    >>> notebook_url("/srv/work/executed/A/a.ipynb",
    ...              {"NBFLOW_JUPYTER_URL": "http://localhost:8888/",
    ...               "NBFLOW_JUPYTER_ROOT": "/srv/work"})
    'http://localhost:8888/lab/tree/executed/A/a.ipynb'
    >>> notebook_url("s3://bucket/a.ipynb", {})
    's3://bucket/a.ipynb'
    """
    env = os.environ if environ is None else environ
    if "://" in path and not path.startswith("file://"):
        return path
    absolute = Path(path.removeprefix("file://")).absolute()
    for base, root in _servers(env):
        try:
            relative = absolute.relative_to(root)
        except ValueError:
            continue
        return f"{base.rstrip('/')}/lab/tree/{quote(relative.as_posix())}"
    return str(absolute)


def _servers(env: Mapping[str, str]) -> list[tuple[str, Path]]:
    """Return (base URL, root folder) of the Jupyter servers that may serve files."""
    base = env.get("NBFLOW_JUPYTER_URL") or env.get("JUPYTER_SERVER_URL")
    root = env.get("NBFLOW_JUPYTER_ROOT") or env.get("JUPYTER_SERVER_ROOT")
    if base:
        return [(base, Path(root or Path.cwd()).absolute())]
    if not env.get("JPY_SESSION_NAME"):
        return []
    return _running_servers(env)


def _running_servers(env: Mapping[str, str]) -> list[tuple[str, Path]]:
    """Read the Jupyter runtime folder's ``jpserver-*.json`` files (no server import)."""
    folder = env.get("JUPYTER_RUNTIME_DIR")
    if folder is None:
        try:
            from jupyter_core.paths import jupyter_runtime_dir  # noqa: PLC0415
        except ImportError:
            return []
        folder = jupyter_runtime_dir()
    found = []
    for info_file in sorted(Path(folder).glob("jpserver-*.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a server that is just starting or stopping
        if isinstance(info, dict) and info.get("url") and info.get("root_dir"):
            found.append((str(info["url"]), Path(info["root_dir"]).absolute()))
    return found
