"""Pointing errors at the user's code and paths, not at nbflow's internals.

A definition error (``requires()`` returning a target, a ``run()`` yielding a number)
is best shown as the place in the user's code that is wrong, without the frames of
nbflow's own modules that found it. A file-system error while writing an output is
best shown with the output's path, not the temporary file nbflow wrote first. These
helpers are used where an exception becomes a task's failure or a scheduling error.

A failure keeps two tracebacks: the user's frames only (what views show) and the
full one (behind a toggle). Both name notebook code as IPython does
(``Cell In[3], line 12``) once a shell has registered how, with
:func:`set_filename_namer` (the core itself knows nothing of IPython).

Imports: stdlib, nbflow.core.{errors, structure}.
"""

from __future__ import annotations

import inspect
import linecache
import os
import re
import sysconfig
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.errors import DefinitionError, OutputWriteError
from nbflow.core.structure import flatten

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_NBFLOW_DIR = str(Path(__file__).resolve().parent.parent) + os.sep
_STDLIB_DIR = str(Path(sysconfig.get_paths()["stdlib"]).resolve()) + os.sep


def definition_site(function: Any) -> str:
    """Return ``file:line`` where ``function`` (a method, possibly decorated) starts.

    Examples
    --------
    >>> file, line = definition_site(definition_site).rsplit(":", 1)
    >>> file.endswith("diagnosis.py"), line.isdigit()
    (True, True)
    >>> definition_site(len)
    ''
    """
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return ""
    return f"{code.co_filename}:{code.co_firstlineno}"


def generator_site(generator: Any) -> str:
    """Return ``file:line`` where a suspended generator stopped (its last ``yield``)."""
    frame = getattr(generator, "gi_frame", None)
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def is_users_frame(filename: str) -> bool:
    """Return whether a traceback frame belongs to the user (not nbflow, not stdlib)."""
    resolved = str(Path(filename).resolve()) if Path(filename).is_absolute() else ""
    if resolved.startswith((_NBFLOW_DIR, _STDLIB_DIR)):
        return False
    return not filename.startswith("<frozen")


#: Turns a code file's name into the name tracebacks show (None: keep it).
_namer: Callable[[str], str | None] | None = None
_FRAME = re.compile(
    r'^(?P<indent> *)File "(?P<file>[^"]+)", line (?P<line>\d+)(?P<rest>.*)$'
)


def set_filename_namer(
    namer: Callable[[str], str | None] | None,
) -> Callable[[str], str | None] | None:
    """Make tracebacks name code files with ``namer`` (None: plain paths again).

    ``namer(filename)`` returns the name to show (``Cell In[3]``) or None to keep the
    ``File "..."`` form. Returns the namer it replaces.
    """
    global _namer  # one hook per process, set by the shell
    previous, _namer = _namer, namer
    return previous


def name_frames(text: str) -> str:
    r"""Rename the frames of ``text`` (a formatted traceback) that the namer knows.

    A renamed frame without its source line (formatted in another process, where the
    notebook's code is unknown) gets it from this process's line cache.

    Examples
    --------
    >>> previous = set_filename_namer(lambda f: "Cell In[3]" if f == "/t/1.py" else None)
    >>> print(name_frames('  File "/t/1.py", line 2, in run\nValueError: x'))
      Cell In[3], line 2, in run
    ValueError: x
    >>> _ = set_filename_namer(previous)
    """
    namer = _namer
    if namer is None or 'File "' not in text:
        return text
    lines = text.split("\n")
    named: list[str] = []
    for index, line in enumerate(lines):
        found = _FRAME.match(line)
        name = namer(found["file"]) if found else None
        if found is None or name is None:
            named.append(line)
            continue
        indent, number = found["indent"], int(found["line"])
        named.append(f"{indent}{name}, line {number}{found['rest']}")
        following = lines[index + 1] if index + 1 < len(lines) else ""
        source = linecache.getline(found["file"], number).strip()
        if source and not following.startswith(indent + "  "):
            named.append(f"{indent}  {source}")
    return "\n".join(named)


def user_traceback(exc: BaseException, *, chain: bool = True) -> str:
    r"""Format ``exc`` with only the user's frames (none of nbflow's or the stdlib's).

    Without any user frame, this is just the exception's line, which for nbflow's
    errors names the place and the fix. With ``chain``, the exceptions it was raised
    from (or while handling) are shown too, each with its user frames.

    Examples
    --------
    >>> user_traceback(ValueError("bad"))
    'ValueError: bad\n'
    """
    report = traceback.TracebackException(
        type(exc), exc, exc.__traceback__, compact=True
    )
    if not chain:
        report.__cause__ = report.__context__ = None
    for part in _chained(report):
        part.stack = traceback.StackSummary.from_list(
            [frame for frame in part.stack if is_users_frame(frame.filename)]
        )
    return name_frames("".join(report.format()))


def _chained(
    report: traceback.TracebackException,
) -> Iterator[traceback.TracebackException]:
    """Yield ``report`` and every report it chains to (causes, contexts, groups)."""
    todo = [report]
    while todo:
        part = todo.pop()
        yield part
        todo.extend(p for p in (part.__cause__, part.__context__) if p is not None)
        todo.extend(getattr(part, "exceptions", None) or ())


def full_traceback(exc: BaseException) -> str:
    """Format ``exc`` with every frame, nbflow's included (named like the user's)."""
    return name_frames("".join(traceback.format_exception(exc)))


def explain_failure(task: Any, exc: Exception) -> tuple[Exception, str, str]:
    """Return the error to report for ``task``'s failure and its two tracebacks.

    The tracebacks are the user's frames (what views show) and the full one. An
    ``OSError`` on one of the task's outputs becomes an :class:`OutputWriteError`
    naming the output's path.
    """
    if isinstance(exc, OSError):
        translated = output_write_error(task, exc)
        if translated is not None:
            translated.__cause__ = exc
            translated.__traceback__ = exc.__traceback__
            shown = user_traceback(translated, chain=False)
            return translated, shown, full_traceback(translated)
    chain = not isinstance(exc, DefinitionError)
    return exc, user_traceback(exc, chain=chain), full_traceback(exc)


def output_write_error(task: Any, exc: OSError) -> OutputWriteError | None:
    """Return ``exc`` as an :class:`OutputWriteError` if it concerns one of the outputs.

    It does when the failing path is an output, a file next to one (the temporary
    file or backup nbflow writes first, whatever its name), or a folder above one.
    """
    failing = [name for name in (exc.filename, exc.filename2) if name]
    if not failing:
        return None
    try:
        outputs = flatten(task.output())
    except Exception:  # noqa: BLE001  (a broken output() is reported elsewhere)
        return None
    for output in outputs:
        path = getattr(output, "path", None)
        if isinstance(path, str) and any(_concerns(str(f), path) for f in failing):
            reason = exc.strerror or type(exc).__name__
            return OutputWriteError(repr(task), path, f"{type(exc).__name__}: {reason}")
    return None


def _concerns(failing: str, output: str) -> bool:
    """Whether ``failing`` is the output, a folder above it, or a hidden sibling.

    A hidden sibling is nbflow's temporary file or backup (named from the output,
    behind a dot): matched by place rather than by name, so that naming may change.
    """
    failing_path, output_path = Path(failing).absolute(), Path(output).absolute()
    if failing_path == output_path or failing_path in output_path.parents:
        return True
    return (
        failing_path.parent == output_path.parent
        and failing_path.name.startswith(".")
        and not output_path.name.startswith(".")
    )
