"""Name notebook code in task tracebacks as IPython does: ``Cell In[3], line 12``.

IPython compiles each cell under a file name of its own (``/tmp/ipykernel_<pid>/<n>.py``
in a kernel) and remembers which execution count each name belongs to (its compiler's
``format_code_name``). The core formats task tracebacks without knowing IPython; this
module hands it a namer (:func:`nbflow.core.diagnosis.set_filename_namer`) that asks
the shell's compiler, so a failing task defined in a cell reads
``Cell In[3], line 12, in run`` rather than the temporary file's path.

Imports: nbflow.core.diagnosis (IPython only through the shell it is given).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.core.diagnosis import set_filename_namer

if TYPE_CHECKING:
    from collections.abc import Callable


def install_cell_names(shell: Any) -> None:
    """Make task tracebacks name the code of ``shell``'s cells ``Cell In[n]``.

    A shell without IPython's caching compiler leaves tracebacks as they are.
    """
    compiler = getattr(shell, "compile", None)
    if callable(getattr(compiler, "format_code_name", None)):
        set_filename_namer(cell_namer(compiler))


def cell_namer(compiler: Any) -> Callable[[str], str | None]:
    """Return a namer asking ``compiler`` (IPython's ``CachingCompiler``) for names.

    Examples
    --------
    >>> class Compiler:
    ...     def format_code_name(self, name):
    ...         return ("Cell", "In[3]") if name == "/tmp/ipykernel_1/9.py" else None
    >>> namer = cell_namer(Compiler())
    >>> namer("/tmp/ipykernel_1/9.py"), namer("/home/me/pipeline.py")
    ('Cell In[3]', None)
    """

    def name(filename: str) -> str | None:
        named = compiler.format_code_name(filename)
        if not named:
            return None
        label, number = named
        return f"{label} {number}"

    return name
