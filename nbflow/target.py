"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.target``.

Holds targets and filesystems. The code lives in nbflow.core.target and
nbflow.core.fsspec_target; nbflow's own modules import it from there, never from here
(tests/test_luigi_compat.py checks both).
"""

from __future__ import annotations

from nbflow.core.fsspec_target import FsspecFileSystem, FsspecTarget
from nbflow.core.target import (
    FileAlreadyExists,
    FileSystem,
    FileSystemException,
    FileSystemTarget,
    LocalFileSystem,
    LocalTarget,
    MemoryTarget,
    MissingParentDirectory,
    NotADirectory,
    Target,
)

__all__ = [
    "FileAlreadyExists",
    "FileSystem",
    "FileSystemException",
    "FileSystemTarget",
    "FsspecFileSystem",
    "FsspecTarget",
    "LocalFileSystem",
    "LocalTarget",
    "MemoryTarget",
    "MissingParentDirectory",
    "NotADirectory",
    "Target",
]
