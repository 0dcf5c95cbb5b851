"""Run a Luigi command line and exit with the code its outcome has in ``[retcode]``.

``luigi_run(argv)`` (Luigi's ``luigi`` command as a function) and
``run_with_retcodes(argv)``: the codes are :class:`~nbflow.core.config.RetCodes`,
read with the command line in force, so ``--retcode-task-failed 3`` counts. When
several outcomes apply the highest code wins. nbflow's defaults differ from Luigi's
where Luigi's hide a failure (``task_failed`` and ``scheduling_error`` are 1); set
them to 0 in ``[retcode]`` for Luigi's behaviour. Logging is set up as for
``luigi.run`` (:func:`nbflow.core.interface.setup_logging`).

Imports: stdlib, nbflow.core.{config, interface, lock}.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, NoReturn

from nbflow.core import interface
from nbflow.core.config import RetCodes, current_settings
from nbflow.core.lock import command_lock
from nbflow.core.run import start_run

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["luigi_run", "run_with_retcodes"]

logger = logging.getLogger("nbflow.interface")


def run_with_retcodes(argv: Sequence[str]) -> NoReturn:
    """Run the command line ``argv`` and exit with its ``[retcode]`` code.

    Raises
    ------
    SystemExit
        Always: with the code of the run's outcome; ``unhandled_exception`` when
        the task could not be built or nbflow failed; 0 after ``--help``.
    """
    words = list(argv)
    with interface.parsed(words) as invocation:
        codes = RetCodes.from_settings(current_settings())
        try:
            interface.setup_logging(invocation.options)
            task = interface.instantiate(invocation)
            options = interface.run_options(invocation)
            with command_lock(words, invocation):
                result = start_run([task], options, track_progress=False).wait()
        except SystemExit:
            raise  # the command lock's "already running" exit carries its code
        except Exception:
            logger.exception("nbflow could not run %s", " ".join(words))
            sys.exit(codes.unhandled_exception)
    sys.exit(result.exit_code(codes))


def luigi_run(argv: Sequence[str] | None = None) -> NoReturn:
    """Run Luigi's command line (default ``sys.argv[1:]``) and exit with its code."""
    run_with_retcodes(sys.argv[1:] if argv is None else argv)
