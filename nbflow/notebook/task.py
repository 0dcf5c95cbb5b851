"""NotebookTask: a task whose ``run()`` executes a parameterised notebook with papermill.

A subclass names its notebook and declares parameters, ``requires()`` and ``output()``
like any task. ``run()`` then:

1. reads the notebook and checks its ``parameters`` cell against the task (unknown
   names, missing required values, wrong types) and that its kernel is installed,
   all before any kernel starts (:meth:`NotebookTask.validate`);
2. injects the task's significant parameters, ``upstream`` (name -> path of each
   requirement's output) and ``product`` (name -> path of each output) into the
   parameters cell, and runs the notebook with papermill, reporting progress (code
   cells run / all code cells), the running cell as the status message, and the
   executed notebook as the tracking URL;
3. on success, moves the products and the executed notebook into place; on failure,
   removes the products and keeps the partial executed notebook at its own path,
   marked failed, and raises :class:`NotebookCellError` or :class:`NotebookTimeoutError`.

Products are written whole or not at all: ``product`` holds *temporary* sibling paths
(``data/.nbflow-tmp-<random>-clean.csv``, same suffix), published by a rename only
after every cell succeeded. The executed notebook of each run is kept under
``executed_dir`` (any fsspec URL) as ``<family>/<task_id>.ipynb``, and a failed run's
as ``<family>/<task_id>.failed-<UTC time>.ipynb``; it counts as one of the task's outputs
(:meth:`NotebookTask.complete` requires it).

Imports: stdlib, nbflow.core.*, nbflow.notebook.{params, engine}; papermill and
jupyter_client lazily, inside ``run()``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from nbflow.core.errors import DefinitionError, NbflowError, OutputMissingError
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.structure import flatten, getpaths
from nbflow.core.target import temporary_sibling
from nbflow.core.task import Task
from nbflow.notebook import engine
from nbflow.notebook.params import (
    NotebookNotFoundError,
    check_signature,
    inspect_parameters,
    read_notebook,
)

#: Class attributes that configure the run; never injected into the notebook.
OPTION_NAMES = frozenset(
    {"notebook", "kernel_name", "execution_timeout", "start_timeout", "cwd"}
    | {"executed_dir"}
)
#: Names injected beside the task's parameters, when the notebook declares them.
INJECTED_NAMES = ("upstream", "product")
_EXCERPT_LINES = 3


class NotebookKernelError(DefinitionError, LookupError):
    """The kernel a notebook needs is not installed (or none is named)."""

    def __init__(
        self, task: str, notebook: str, kernel: str, installed: tuple[str, ...]
    ) -> None:
        super().__init__(task, notebook, kernel, installed)
        self.task, self.notebook = task, notebook
        self.kernel, self.installed = kernel, installed

    def __str__(self) -> str:
        listed = ", ".join(self.installed) or "none"
        return (
            f"{self.task} ({self.notebook}): kernel not installed (got "
            f"{self.kernel!r}; installed: {listed}). Expected the name of an installed "
            "Jupyter kernel. Fix: install it (for Python: python -m ipykernel install "
            "--user --name python3), or set kernel_name on the task."
        )


class NotebookCellError(NbflowError):
    """A cell of a notebook task raised; the partial executed notebook is kept."""

    def __init__(
        self,
        task: str,
        notebook: str,
        cell_index: int,
        excerpt: str,
        error: str,
        executed: str,
    ) -> None:
        super().__init__(task, notebook, cell_index, excerpt, error, executed)
        self.task, self.notebook, self.cell_index = task, notebook, cell_index
        self.excerpt, self.error, self.executed = excerpt, error, executed

    def __str__(self) -> str:
        kept = f" The failed run is kept at {self.executed}." if self.executed else ""
        return (
            f"{self.task} ({self.notebook}): cell {self.cell_index} failed (got "
            f"{self.error}, in `{self.excerpt}`). Expected every cell to run without "
            f"error.{kept} Fix: correct cell {self.cell_index} of {self.notebook} "
            "(or the task's inputs) and run again."
        )


class NotebookTimeoutError(NbflowError, TimeoutError):
    """A cell ran longer than the task's ``execution_timeout``."""

    def __init__(
        self,
        task: str,
        notebook: str,
        cell_index: int,
        excerpt: str,
        timeout: float,
        executed: str,
    ) -> None:
        super().__init__(task, notebook, cell_index, excerpt, timeout, executed)
        self.task, self.notebook, self.cell_index = task, notebook, cell_index
        self.excerpt, self.timeout, self.executed = excerpt, timeout, executed

    def __str__(self) -> str:
        kept = f" The failed run is kept at {self.executed}." if self.executed else ""
        return (
            f"{self.task} ({self.notebook}): cell {self.cell_index} timed out (got more "
            f"than {self.timeout:g} s in `{self.excerpt}`). Expected each cell to finish "
            f"within execution_timeout = {self.timeout:g} s.{kept} Fix: make the cell "
            "faster, or raise execution_timeout on the task."
        )


class NotebookTask(Task):
    """A task whose ``run()`` executes a notebook with papermill.

    Set :attr:`notebook`; declare parameters, ``requires()`` and ``output()`` as usual.
    The notebook receives the significant parameters in its ``parameters`` cell, plus
    ``upstream`` and ``product`` (dicts of paths) if that cell declares them.
    ``upstream`` is keyed by the key of ``requires()`` when it returns a dict, else by
    each requirement's family (``Family_0``, ``Family_1``, ... when one repeats);
    ``product`` by the key of ``output()`` when it returns a dict, else ``"output"``.

    Examples
    --------
    >>> import nbflow
    >>> class Clean(NotebookTask):
    ...     notebook = "tasks/clean.ipynb"
    ...     day = nbflow.DateParameter()
    ...     def output(self):
    ...         return nbflow.LocalTarget(f"data/clean/{self.day}.csv")
    >>> Clean(day="2024-06-01").executed_notebook().path
    'executed/Clean/Clean_2024_06_01_...ipynb'

    .. versionadded:: 0.1
    """

    _nbflow_register = False  # the base class is not a task anyone runs

    #: Path (or fsspec URL) of the notebook to run, relative to the current directory.
    notebook: ClassVar[str] = ""
    #: Kernel to run it with; default: the notebook's own kernelspec.
    kernel_name: ClassVar[str | None] = None
    #: Seconds one cell may run before the task fails as timed out; None: no limit.
    execution_timeout: ClassVar[float | None] = None
    #: Seconds to wait for the kernel to start.
    start_timeout: ClassVar[float] = 60.0
    #: Working directory of the kernel; default: the current directory.
    cwd: ClassVar[str | None] = None
    #: Where executed notebooks are kept (a path or fsspec URL).
    executed_dir: ClassVar[str] = "executed"

    # --- the targets -------------------------------------------------------------------

    def executed_notebook(self) -> FsspecTarget:
        """Return the target of this task's executed notebook (kept per task id)."""
        return FsspecTarget(self._executed_url("ipynb"))

    def output(self) -> Any:
        """Return the executed notebook; override to declare the notebook's products."""
        return self.executed_notebook()

    def complete(self) -> bool:
        """Return whether every output and the executed notebook exist."""
        return super().complete() and self.executed_notebook().exists()

    # --- what the notebook receives ------------------------------------------------------

    def notebook_parameters(self) -> dict[str, Any]:
        """Return the significant parameters as the plain values to inject.

        Strings, numbers, booleans, None, lists and dicts are injected as they are;
        any other value (a date, a path, an enum) as its command-line text.
        """
        params = dict(self.get_params())
        return {
            name: _plain(value, params[name].serialize)
            for name, value in self.param_kwargs.items()
            if params[name].significant and name not in OPTION_NAMES
        }

    def upstream_paths(self) -> dict[str, Any]:
        """Return ``{name: path(s)}`` of the outputs of ``requires()``."""
        required = self.requires()
        absolute = self._kernel_elsewhere()
        if isinstance(required, Mapping):
            return {
                str(key): _paths(getpaths(value), absolute=absolute)
                for key, value in required.items()
            }
        deps = flatten(required)
        return {
            name: _paths(getpaths(dep), absolute=absolute)
            for name, dep in zip(_family_keys(deps), deps)
        }

    def product_paths(self) -> dict[str, Any]:
        """Return ``{name: path(s)}`` of the outputs, without the executed notebook."""
        return _paths(self._products(), absolute=self._kernel_elsewhere())  # type: ignore[no-any-return]

    # --- checking and running ------------------------------------------------------------

    def validate(self) -> tuple[dict[str, Any], str]:
        """Check the notebook, its parameters cell and its kernel without running it.

        Returns
        -------
        tuple
            The notebook (a JSON dict) and the name of the kernel to run it with.

        Raises
        ------
        NotebookNotFoundError, NotebookFormatError
            The notebook is missing or not a readable nbformat 4 file.
        NotebookParameterError
            The task's parameters do not match the parameters cell.
        NotebookKernelError
            The kernel is not installed.
        """
        where = f"{self!r}.notebook"
        if not self.notebook:
            raise NotebookNotFoundError(where, "")
        source = read_notebook(self.notebook, where=where)
        cell = inspect_parameters(source, self.notebook)
        values = self.notebook_parameters()
        if cell is not None:
            values.update(
                {name: {} for name in INJECTED_NAMES if name in cell.parameters}
            )
        check_signature(repr(self), self.notebook, cell, values)
        return source, self._installed_kernel(source)

    def run(self) -> None:
        """Execute the notebook; publish its products and executed notebook."""
        notebook, kernel = self.validate()
        cell = inspect_parameters(notebook, self.notebook)
        parameters = self.notebook_parameters()
        staged = _Staged(self._products())
        for name, value in (("upstream", self.upstream_paths()), ("product", None)):
            if cell is not None and name in cell.parameters:
                parameters[name] = (
                    value
                    if value is not None
                    else _paths(staged.shape, absolute=self._kernel_elsewhere())
                )
        running = self._running_path()
        self.set_tracking_url(engine.notebook_url(running))
        progress = engine.CellProgress(self)
        try:
            engine.execute(
                self.notebook,
                running,
                parameters,
                kernel=kernel,
                progress=progress,
                options=engine.RunOptions(
                    self.execution_timeout, self.start_timeout, self.cwd
                ),
            )
            staged.publish(repr(self))
        except Exception as exc:
            staged.discard()
            failed = self._keep(running, "failed", error=type(exc).__name__)
            self.set_tracking_url(engine.notebook_url(failed or running))
            error = self._translate(exc, failed, progress)
            if error is exc:
                raise
            raise error from exc
        done = self._keep(running, "done")
        self.set_tracking_url(engine.notebook_url(done))

    # --- internals -------------------------------------------------------------------------

    def _executed_url(self, suffix: str) -> str:
        base = str(self.executed_dir).rstrip("/")
        return f"{base}/{self.get_task_family()}/{self.task_id}.{suffix}"

    def _running_path(self) -> str:
        url = self._executed_url("running.ipynb")
        if _is_local(url):
            return str(Path(url.removeprefix("file://")).absolute())
        import tempfile  # noqa: PLC0415  (remote executed_dir only)

        folder = Path(tempfile.gettempdir()) / "nbflow-running"
        return str(folder / f"{self.task_id}.running.ipynb")

    def _kernel_elsewhere(self) -> bool:
        """Whether the kernel's working directory differs from ours (paths go absolute)."""
        return self.cwd is not None and Path(self.cwd).resolve() != Path.cwd().resolve()

    def _products(self) -> dict[str, Any]:
        outputs = self.output()
        executed = self._executed_url("ipynb")
        found = dict(outputs) if isinstance(outputs, Mapping) else {"output": outputs}
        return {
            name: value
            for name, value in found.items()
            if not all(
                getattr(leaf, "path", None) == executed for leaf in flatten(value)
            )
        }

    def _installed_kernel(self, notebook: dict[str, Any]) -> str:
        spec = notebook.get("metadata", {}).get("kernelspec", {})
        name = self.kernel_name or (spec.get("name") if isinstance(spec, dict) else "")
        installed = engine.installed_kernels()
        if not name or name not in installed:
            raise NotebookKernelError(
                repr(self), self.notebook, str(name or ""), tuple(sorted(installed))
            )
        return str(name)

    def _keep(self, running: str, status: str, error: str = "") -> str:
        """Move the running notebook to its final (or failed) URL; return that URL."""
        path = Path(running)
        if not path.exists():
            return ""
        executed = json.loads(path.read_text(encoding="utf-8"))
        executed.setdefault("metadata", {})["nbflow"] = {
            "task": repr(self),
            "task_id": self.task_id,
            "source": self.notebook,
            "status": status,
            **({"error": error} if error else {}),
        }
        if status == "done":
            url = self._executed_url("ipynb")
        else:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            url = self._executed_url(f"failed-{stamp}.ipynb")
        with FsspecTarget(url).open("w") as out:
            out.write(json.dumps(executed, indent=1, ensure_ascii=False) + "\n")
        path.unlink()
        return url

    def _translate(
        self, exc: Exception, failed: str, progress: engine.CellProgress
    ) -> Exception:
        """Return the nbflow error for a failed papermill run (or ``exc`` itself)."""
        kind = engine.classify(exc)
        if kind is None:
            return exc
        index, source = progress.source_position(getattr(exc, "cell_index", None))
        excerpt = _excerpt(getattr(exc, "source", None) or source)
        if kind == "timeout":
            return NotebookTimeoutError(
                repr(self),
                self.notebook,
                index,
                excerpt,
                float(self.execution_timeout or 0),
                failed,
            )
        error = (
            f"{exc.ename}: {exc.evalue}"  # type: ignore[attr-defined]
            if kind == "cell"
            else f"the kernel died ({exc})"
        )
        return NotebookCellError(
            repr(self), self.notebook, index, excerpt, error, failed
        )


class _Staged:
    """The products' temporary siblings: injected, then published or discarded."""

    def __init__(self, products: dict[str, Any]) -> None:
        self.pairs: list[tuple[Any, str]] = []
        self.shape = {name: self._stage(value) for name, value in products.items()}

    def _stage(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: self._stage(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._stage(item) for item in value]
        path = getattr(value, "path", None)
        if path is None or not hasattr(value, "fs"):
            return value
        temporary = temporary_sibling(str(path))
        if _is_local(temporary):
            Path(temporary.removeprefix("file://")).parent.mkdir(
                parents=True, exist_ok=True
            )
        self.pairs.append((value, temporary))
        return _PathOnly(temporary)

    def publish(self, task: str) -> None:
        missing = tuple(
            str(target.path)
            for target, temporary in self.pairs
            if not target.fs.exists(temporary)
        )
        if missing:
            self.discard()
            raise OutputMissingError(task, missing)
        for target, temporary in self.pairs:
            target.fs.move(temporary, str(target.path))

    def discard(self) -> None:
        for target, temporary in self.pairs:
            if target.fs.exists(temporary):
                target.fs.remove(temporary)


class _PathOnly:
    """A stand-in target that only has a path (a staged product's temporary)."""

    def __init__(self, path: str) -> None:
        self.path = path


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _paths(struct: Any, *, absolute: bool) -> Any:
    """Replace each target in a nested structure by its path (a string)."""
    if isinstance(struct, Mapping):
        return {
            str(key): _paths(value, absolute=absolute) for key, value in struct.items()
        }
    if isinstance(struct, (list, tuple)):
        return [_paths(value, absolute=absolute) for value in struct]
    path = getattr(struct, "path", None)
    if path is None:
        return str(struct)
    text = str(path)
    return str(Path(text).absolute()) if absolute and "://" not in text else text


def _family_keys(deps: list[Task]) -> list[str]:
    """Return each dependency's family, with ``_0``, ``_1``, ... when one repeats.

    Examples
    --------
    >>> class A(Task): pass
    >>> class B(Task):
    ...     n = __import__("nbflow").IntParameter()
    >>> _family_keys([A(), B(n=1), B(n=2)])
    ['A', 'B_0', 'B_1']
    """
    counts = Counter(dep.get_task_family() for dep in deps)
    seen: Counter[str] = Counter()
    keys = []
    for dep in deps:
        family = dep.get_task_family()
        if counts[family] > 1:
            keys.append(f"{family}_{seen[family]}")
            seen[family] += 1
        else:
            keys.append(family)
    return keys


def _plain(value: Any, serialize: Any) -> Any:
    """Return ``value`` as a plain Python literal papermill can inject."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, str) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item, str) for key, item in value.items()}
    return serialize(value)


def _excerpt(source: str) -> str:
    r"""Return the first few non-blank lines of a cell, joined by `` / ``.

    Examples
    --------
    >>> _excerpt("\nx = 1\ny = 1 / 0\nz = 2\nw = 3\n")
    'x = 1 / y = 1 / 0 / z = 2 ...'
    """
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    more = " ..." if len(lines) > _EXCERPT_LINES else ""
    return " / ".join(lines[:_EXCERPT_LINES]) + more
