"""Reading the kernels' run boards, and shaping them into the ``/nbflow/api`` documents.

Each kernel with nbflow loaded writes ``<runtime_dir>/nbflow/kernel-<id>.json``
(:mod:`nbflow.kernel.board`). :class:`BoardReader` reads them (a file is parsed again
only when it changed) and keeps the boards whose kernel process still runs;
:func:`run_summary` and :func:`run_detail` shape one run for the API, resolving the
local paths a task names against Lab's root directory (``lab_path``: the path relative
to it, or None outside it).

Threads: called on a pool thread (files are read there, never on tornado's loop); the
reader's cache has its own lock.

Imports: stdlib.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The board format read here (nbflow.kernel.board.BOARD_VERSION; the layers keep
#: nbflow.lab and nbflow.kernel apart, so the number is written in both).
BOARD_VERSION = 1
#: Bytes at the start of a board that name its write (version, serial, pid, time).
STAMP_BYTES = 80
#: The fields of a task with details, for a board that left one out.
_DETAILS: dict[str, Any] = {
    "params": {},
    "status_message": "",
    "progress": None,
    "tracking_url": "",
    "error": "",
    "traceback": "",
    "log": "",
    "outputs": [],
    "notebook": None,
}

__all__ = ["BoardReader", "lab_path", "run_detail", "run_summary"]


class BoardReader:
    """The boards in one folder, parsed again only when their file changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._parsed: dict[Path, tuple[bytes, dict[str, Any]]] = {}

    def boards(self) -> list[dict[str, Any]]:
        """Return the boards whose kernel process still runs.

        A kernel that crashed leaves its board behind; restarted, it has the same id
        and a new process, so the old board's runs are not shown as its own.
        """
        try:
            paths = sorted(self.folder.glob("kernel-*.json"))
        except OSError:
            return []
        found = []
        for path in paths:
            board = self._read(path)
            if board is None:
                continue
            if _is_running(board.get("pid")):
                found.append(board)
        return found

    def board(self, kernel_id: str) -> dict[str, Any] | None:
        """Return one kernel's board, or None if it has none."""
        if "/" in kernel_id or kernel_id.startswith("."):
            return None
        return self._read(self.folder / f"kernel-{kernel_id}.json")

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            with path.open("rb") as board_file:  # one file, even if replaced meanwhile
                # the board's start names its write ("serial"): file times are too
                # coarse to tell two writes a few milliseconds apart
                stamp = board_file.read(STAMP_BYTES)
                with self._lock:
                    kept = self._parsed.get(path)
                if kept is not None and kept[0] == stamp:
                    return kept[1]
                board = json.loads(stamp + board_file.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning(
                "nbflow: skipping the unreadable run board %s: %s", path, exc
            )
            return None
        if not isinstance(board, dict) or board.get("version") != BOARD_VERSION:
            return None
        with self._lock:
            self._parsed[path] = (stamp, board)
        return board


def _is_running(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


def lab_path(path: str, root: str) -> str | None:
    """Return ``path`` relative to Lab's ``root`` (``/``-separated), or None outside it.

    Examples
    --------
    >>> lab_path("/home/me/work/out.csv", "/home/me")
    'work/out.csv'
    >>> lab_path("/tmp/out.csv", "/home/me") is None
    True
    """
    real, base = os.path.realpath(path), os.path.realpath(root)
    try:
        relative = os.path.relpath(real, base)
    except ValueError:  # another drive
        return None
    if relative == os.curdir or relative.startswith(os.pardir):
        return None
    return Path(relative).as_posix()


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """Return the run without its tasks (the runs list)."""
    return {key: value for key, value in run.items() if key != "tasks"}


def run_detail(run: dict[str, Any], root: str) -> dict[str, Any]:
    """Return the run with its tasks, local paths resolved against ``root``.

    A task whose details the board kept has every field (``detailed``: true); the
    others (in a run of more than 2,000 tasks) only label, family, state and deps.
    """
    tasks = {}
    for task_id, entry in (run.get("tasks") or {}).items():
        if "log" not in entry:
            tasks[task_id] = {**entry, "detailed": False}
            continue
        task = {**_DETAILS, **entry, "detailed": True}
        task["outputs"] = [
            {"path": path, "lab_path": lab_path(path, root)}
            for path in entry.get("outputs") or ()
        ]
        notebook = entry.get("notebook")
        task["notebook"] = (
            {"path": notebook, "lab_path": lab_path(notebook, root)}
            if notebook
            else None
        )
        tasks[task_id] = task
    return {**run_summary(run), "tasks": tasks}
