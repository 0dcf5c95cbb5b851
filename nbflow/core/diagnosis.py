"""Pointing errors at the user's code and paths, not at nbflow's internals.

A definition error (``requires()`` returning a target, a ``run()`` yielding a number)
is best shown as the place in the user's code that is wrong, without the frames of
nbflow's own modules that found it. A file-system error while writing an output is
best shown with the output's path, not the temporary file nbflow wrote first. These
helpers are used where an exception becomes a task's failure or a scheduling error.

Imports: stdlib, nbflow.core.{errors, structure}.
"""

from __future__ import annotations

import inspect
import os
import sysconfig
import traceback
from pathlib import Path
from typing import Any

from nbflow.core.errors import DefinitionError, OutputWriteError
from nbflow.core.structure import flatten

_NBFLOW_DIR = str(Path(__file__).resolve().parent.parent) + os.sep
_STDLIB_DIR = str(Path(sysconfig.get_paths()["stdlib"]).resolve()) + os.sep


def definition_site(function: Any) -> str:
    """Return ``file:line`` where ``function`` (a method, possibly decorated) starts.

    Examples
    --------
    >>> definition_site(definition_site).endswith("diagnosis.py:28")
    True
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


def user_traceback(exc: BaseException) -> str:
    r"""Format ``exc`` with only the user's frames (none of nbflow's or the stdlib's).

    Without any user frame, this is just the exception's line, which for nbflow's
    errors names the place and the fix.

    Examples
    --------
    >>> user_traceback(ValueError("bad"))
    'ValueError: bad\n'
    """
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if is_users_frame(frame.filename)
    ]
    last = "".join(traceback.format_exception_only(type(exc), exc))
    if not frames:
        return last
    shown = "".join(traceback.StackSummary.from_list(frames).format())
    return f"Traceback (most recent call last):\n{shown}{last}"


def explain_failure(task: Any, exc: Exception) -> tuple[Exception, str]:
    """Return the error to report for ``task``'s failure, and the traceback to show.

    An ``OSError`` on one of the task's outputs becomes an :class:`OutputWriteError`
    naming the output's path; it and definition errors show only the user's frames.
    Any other error is returned as it is, with its full traceback.
    """
    if isinstance(exc, OSError):
        translated = output_write_error(task, exc)
        if translated is not None:
            translated.__cause__ = exc
            translated.__traceback__ = exc.__traceback__
            return translated, user_traceback(translated)
    if isinstance(exc, DefinitionError):
        return exc, user_traceback(exc)
    return exc, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


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
