"""Sidecars: the small JSON file beside a task's output that records its fingerprint.

For an output at ``data/clean.csv`` the sidecar is ``data/.clean.csv.nbflow.json``,
written through the same filesystem as the output (local, ``memory://``, any fsspec
URL) and atomically, like every nbflow write. Outputs of other target types (a
database row, say) get no sidecar: such tasks are reported as unversioned.

Imports: stdlib, nbflow.core.{fingerprint, fsspec_target, target}.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from nbflow.core.fingerprint import Fingerprint
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.target import LocalTarget, MemoryTarget

SUFFIX = ".nbflow.json"


def sidecar_path(path: str) -> str:
    """Return the sidecar's path for an output path.

    Examples
    --------
    >>> sidecar_path("data/clean.csv")
    'data/.clean.csv.nbflow.json'
    """
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}{SUFFIX}")


def sidecar_for(output: Any) -> Any:
    """Return a target for ``output``'s sidecar, or None if it cannot have one."""
    if isinstance(output, LocalTarget):
        return LocalTarget(sidecar_path(output.path))
    if isinstance(output, MemoryTarget):
        return MemoryTarget(sidecar_path(output.path), store=output.store)
    if isinstance(output, FsspecTarget):
        return FsspecTarget(sidecar_path(output.path), **output.storage_options)
    return None


def read(output: Any) -> Fingerprint | None:
    """Return the fingerprint recorded beside ``output``, or None if there is none."""
    sidecar = sidecar_for(output)
    if sidecar is None or not sidecar.exists():
        return None
    with sidecar.open("r") as stream:
        try:
            return Fingerprint.from_json(json.load(stream))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: treat the output as unversioned


def write(output: Any, fingerprint: Fingerprint, task_id: str) -> bool:
    """Record ``fingerprint`` beside ``output`` atomically; False if it cannot have one."""
    sidecar = sidecar_for(output)
    if sidecar is None:
        return False
    data = {"task_id": task_id, **fingerprint.to_json()}
    with sidecar.open("w") as stream:
        json.dump(data, stream, indent=1, sort_keys=True)
    return True
