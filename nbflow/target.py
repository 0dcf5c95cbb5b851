"""Luigi's ``luigi.target`` module: targets and filesystems."""

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
