"""What stopping a run with Ctrl-C leaves: the exception that says so, and no temporaries.

The worker stops a run on Ctrl-C (see :meth:`nbflow.core.worker.Worker.run`): it starts
nothing more, interrupts the tasks running in its threads, waits for them to unwind
(their atomic writes remove their temporaries) and raises :class:`RunInterrupted`. A
second Ctrl-C ends that wait: the worker then removes what the runs it gives up on were
writing (:func:`remove_own_temporaries`), so that the process can quit at once.

Imports: stdlib, nbflow.core.{journal, structure, target, task, temporary}.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from nbflow.core.journal import BACKUP, JOURNAL
from nbflow.core.structure import flatten
from nbflow.core.target import LocalTarget
from nbflow.core.temporary import PREFIX, current_owner, parse_leftover

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbflow.core.task import Task
    from nbflow.core.worker import Worker

logger = logging.getLogger(__name__)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; ``worker`` holds the state it stopped in.

    Running tasks were interrupted and reported cancelled; ``abandoned`` counts those
    still running in this process's threads (they had not stopped when a second
    Ctrl-C ended the wait for them).
    """

    def __init__(self, worker: Worker, abandoned: int) -> None:
        super().__init__(worker.run_id, abandoned)
        self.worker, self.abandoned = worker, abandoned


def remove_own_temporaries(
    tasks: Iterable[Task], *, outputs_only: bool = False
) -> None:
    """Remove what this process was writing next to ``tasks``' outputs.

    Only temporaries named by this process are touched; with ``outputs_only``, only
    those of ``tasks``' own outputs (an interrupt can land after a temporary file is
    made and before its writer can remove it; another run of this process may write
    other files in the same folder). A rerun's journal and backups stay: the next run
    that looks at the folder restores the previous outputs.
    """
    me = current_owner()
    folders: set[Path] = set()
    names: set[str] = set()
    for task in tasks:
        try:
            outputs = flatten(task.output())
        except Exception:
            logger.debug("cannot list the outputs of %r", task, exc_info=True)
            continue
        local = [
            Path(out.path).absolute() for out in outputs if isinstance(out, LocalTarget)
        ]
        folders.update(path.parent for path in local)
        names.update(path.name for path in local)
    for folder in folders:
        for path in folder.glob(f"{PREFIX}*"):
            leftover = parse_leftover(path.name)
            if leftover is None or leftover.owner != me:
                continue
            if outputs_only and leftover.name not in names:
                continue
            if path.name.endswith((JOURNAL, BACKUP)):
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
