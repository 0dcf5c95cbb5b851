"""Luigi's ``CmdlineParser``: a parsed command line, in force for a ``with`` block.

Inside :meth:`CmdlineParser.global_instance`, every task constructed reads the
command line's ``--Family-param`` values (and a sectionless Config's ``--param``)
before the configuration, as in Luigi; :meth:`CmdlineParser.get_task_obj` builds the
root task with its own ``--param`` values too (those reach the root task only).

Imports: stdlib, nbflow.core.{cmdline, interface, registry, task}.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, ClassVar

from nbflow.core import cmdline, interface
from nbflow.core import config as _config

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from nbflow.core.task import Task

__all__ = ["CmdlineParser"]


class CmdlineParser:
    """A parsed Luigi command line (``--module m Task --param v --Family-param v``).

    Parsing imports ``--module``, checks the task and every option, and prints the
    help and exits for ``--help``/``--help-all``, as ``luigi.run`` does.

    .. versionadded:: 0.1
    """

    _instance: ClassVar[CmdlineParser | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, cmdline_args: Sequence[str]) -> None:
        with interface.parsed(list(cmdline_args)) as invocation:
            self.invocation = invocation

    @classmethod
    def get_instance(cls) -> CmdlineParser | None:
        """Return the parser in force, if any."""
        return cls._instance

    @classmethod
    @contextlib.contextmanager
    def global_instance(
        cls, cmdline_args: Sequence[str], *, allow_override: bool = False
    ) -> Iterator[CmdlineParser]:
        """Parse ``cmdline_args`` and keep them in force inside the ``with`` block.

        Raises
        ------
        RuntimeError
            Another parser is in force and ``allow_override`` is false.
        """
        original = cls._instance
        if original is not None and not allow_override:
            message = (
                "a command line is already in force (CmdlineParser.global_instance "
                "inside another); pass allow_override=True to replace it"
            )
            raise RuntimeError(message)
        parser = cls(cmdline_args)
        with interface.overrides_in_force(parser.invocation):
            cls._instance = parser
            try:
                yield parser
            finally:
                cls._instance = original

    @classmethod
    @contextlib.contextmanager
    def fresh(cls) -> Iterator[None]:
        """Run the block with no command line in force (restored after)."""
        original = cls._instance
        cls._instance = None
        try:
            with _config.use_overrides({}):
                yield
        finally:
            cls._instance = original

    @property
    def known_args(self) -> cmdline.Invocation:
        """The parsed command line (Luigi's attribute name)."""
        return self.invocation

    def get_task_obj(self) -> Task:
        """Construct the root task, with its own ``--param`` values and the others."""
        with interface.overrides_in_force(self.invocation):
            return interface.instantiate(self.invocation)
