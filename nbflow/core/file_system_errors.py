"""The errors of file systems and targets (Luigi's names), with nbflow's messages.

Imports: :mod:`nbflow.core.errors`.
"""

from __future__ import annotations

from nbflow.core.errors import DefinitionError, NbflowError

__all__ = [
    "FileAlreadyExists",
    "FileSystemException",
    "InvalidModeError",
    "MissingParentDirectory",
    "MissingPathError",
    "NotADirectory",
    "UnsupportedOperationError",
]


class FileSystemException(NbflowError):  # noqa: N818 - Luigi's name
    """A file system operation could not be done; ``path`` is the offending path."""

    problem = "the file system operation failed"
    expected = "the operation to succeed"
    fix = "check the path and its permissions"

    def __init__(self, path: str, operation: str) -> None:
        super().__init__(path, operation)
        self.path, self.operation = path, operation

    def __str__(self) -> str:
        return (
            f"{self.operation}: {self.problem} (got {self.path!r}). "
            f"Expected {self.expected}. Fix: {self.fix}."
        )


class FileAlreadyExists(FileSystemException):
    """The destination of a move, copy, mkdir or commit already exists."""

    problem = "the destination already exists"
    expected = "nothing at the destination"
    fix = (
        "remove the existing file or choose another destination "
        "(move, copy and mkdir also accept raise_if_exists=False)"
    )


class MissingParentDirectory(FileSystemException):
    """``mkdir(parents=False)`` was asked for a path whose parent is missing."""

    problem = "the parent directory does not exist"
    expected = "an existing parent directory"
    fix = "create the parent first, or pass parents=True"


class NotADirectory(FileSystemException):
    """A file stands where a directory is needed."""

    problem = "a part of the path is a file, not a directory"
    expected = "directories along the path"
    fix = "remove or rename the file that is in the way"


class UnsupportedOperationError(FileSystemException, NotImplementedError):
    """A :class:`FileSystem` subclass does not implement an operation."""

    problem = "this file system does not implement the operation"
    expected = "a file system that implements it"
    fix = "override the method in your FileSystem subclass"


class InvalidModeError(DefinitionError, ValueError):
    """A target was opened with a mode other than read or write."""

    def __init__(self, where: str, mode: str) -> None:
        super().__init__(where, mode)
        self.where, self.mode = where, mode

    def __str__(self) -> str:
        return (
            f"{self.where}: unsupported mode (got {self.mode!r}). Expected one of "
            "'r', 'w', 'rb', 'wb', since a target is read or replaced whole. Fix: "
            "open with 'r' to read or 'w' to write; to append, read the old content "
            "and write old and new together."
        )


class MissingPathError(DefinitionError, ValueError):
    """A target was created without a path."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target

    def __str__(self) -> str:
        return (
            f"{self.target}: no path given (got path=None, is_tmp=False). Expected "
            "a path, or is_tmp=True for a temporary file. Fix: pass "
            f"{self.target}('data/out.csv') or {self.target}(is_tmp=True)."
        )
