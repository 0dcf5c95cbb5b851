"""Sidecars: the small JSON files beside a task's outputs that record fingerprints.

For an output ``data/clean.csv`` made with fingerprint ``3fa0...`` the sidecar is
``data/.clean.csv.3fa0....nbflow.json``: the digest is in the *name*, so checking that an
output is up to date needs no file to be opened — one directory listing per folder per
build answers it for every output in that folder. The content (the fingerprint's parts)
is read only to explain a change. Sidecars go through the same filesystem as the output
(local, ``memory://``, any fsspec URL) and are written atomically; writing one removes
the output's older sidecars. Outputs of other target types (a database row, say) get no
sidecar, and their tasks are reported as unversioned.

Imports: stdlib, nbflow.core.{fingerprint, fsspec_target, target}.
"""

from __future__ import annotations

import json
import os
import posixpath
from typing import Any

from nbflow.core.fingerprint import Fingerprint
from nbflow.core.fsspec_target import FsspecTarget
from nbflow.core.target import LocalTarget, MemoryTarget

_SUFFIX = ".nbflow.json"
_DIGEST_LENGTH = 32
_HEX = frozenset("0123456789abcdef")


def sidecar_path(path: str, digest: str) -> str:
    """Return the path of the sidecar recording ``digest`` for the output at ``path``.

    Examples
    --------
    >>> sidecar_path("data/clean.csv", "0" * 32)
    'data/.clean.csv.00000000000000000000000000000000.nbflow.json'
    """
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.{digest}.nbflow.json")


def _sibling(output: Any, path: str) -> Any:
    if isinstance(output, LocalTarget):
        return LocalTarget(path)
    if isinstance(output, MemoryTarget):
        return MemoryTarget(path, store=output.store)
    if isinstance(output, FsspecTarget):
        return FsspecTarget(path, **output.storage_options)
    return None


def can_record(output: Any) -> bool:
    """Return whether ``output`` is a kind of target that can have sidecars."""
    return isinstance(output, (LocalTarget, MemoryTarget, FsspecTarget))


class SidecarIndex:
    """The sidecars of every folder looked at in one build (one listing per folder)."""

    def __init__(self) -> None:
        self._listed: set[tuple[int, str]] = set()
        #: (filesystem key, output path) -> digests recorded for that output
        self._digests: dict[tuple[int, str], tuple[str, ...]] = {}

    def digests(self, output: Any) -> tuple[str, ...]:
        """Return the digests recorded for ``output`` (empty: unversioned)."""
        path = output.path
        key = (id(getattr(output, "store", None)), path)
        found = self._digests.get(key)
        if found is not None:
            return found
        folder = path.rpartition("/")[0]
        if (key[0], folder) in self._listed:
            return _NONE
        self._list_folder(output, key[0], folder)
        return self._digests.get(key, _NONE)

    def read(self, output: Any, digest: str) -> Fingerprint | None:
        """Return the fingerprint recorded under ``digest`` (None if unreadable)."""
        sidecar = _sibling(output, sidecar_path(output.path, digest))
        try:
            with sidecar.open("r") as stream:
                return Fingerprint.from_json(json.load(stream))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, output: Any, fingerprint: Fingerprint, task_id: str) -> None:
        """Record ``fingerprint`` beside ``output`` and drop its older sidecars."""
        if not can_record(output):
            return
        old = set(self.digests(output))
        with _sibling(output, sidecar_path(output.path, fingerprint.digest)).open(
            "w"
        ) as f:
            json.dump(
                {"task_id": task_id, **fingerprint.to_json()},
                f,
                indent=1,
                sort_keys=True,
            )
        for digest in old - {fingerprint.digest}:
            _sibling(output, sidecar_path(output.path, digest)).remove()
        store = id(getattr(output, "store", None))
        self._digests[store, output.path] = (fingerprint.digest,)

    def _list_folder(self, output: Any, store: int, folder: str) -> None:
        self._listed.add((store, folder))
        prefix = folder + "/" if folder else ""
        cut = len(_SUFFIX)
        for name in _list(output, folder):
            if not name.endswith(_SUFFIX) or not name.startswith("."):
                continue  # most files in an output folder are outputs, not sidecars
            stem, _, digest = name[1:-cut].rpartition(".")
            if stem and len(digest) == _DIGEST_LENGTH and _HEX.issuperset(digest):
                key = (store, prefix + stem)
                self._digests[key] = (*self._digests.get(key, ()), digest)


_NONE: tuple[str, ...] = ()


def _list(output: Any, folder: str) -> list[str]:
    """Return the names of the files directly in ``folder`` (empty if it is missing)."""
    if isinstance(output, LocalTarget):
        try:
            return os.listdir(folder or ".")  # noqa: PTH208  (names, not Paths: hot)
        except (FileNotFoundError, NotADirectoryError):
            return []
    prefix = folder.rstrip("/") + "/" if folder else ""
    names = []
    for path in output.fs.listdir(folder):
        text = str(path)
        rest = (
            text[len(prefix) :] if text.startswith(prefix) else posixpath.basename(text)
        )
        if "/" not in rest:
            names.append(rest)
    return names
