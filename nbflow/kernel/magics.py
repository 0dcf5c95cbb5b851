"""The ``%nbflow`` line and cell magic: parse the arguments, call the session.

No scheduling happens here: each subcommand is a few lines over
:class:`~nbflow.kernel.session.Session`. Every nbflow error ends as one
``UsageError: ...`` line (IPython shows those without a traceback, and the cell still
fails, so *Run All* and papermill stop there).

Imports: stdlib, IPython, nbflow.core.*, nbflow.kernel.session.
"""

from __future__ import annotations

import inspect
import re
import shlex
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from nbflow.core import cmdline, interface, planning
from nbflow.core.config import current_settings
from nbflow.core.errors import NbflowError, did_you_mean
from nbflow.kernel import display as _display
from nbflow.kernel.session import Session, completeness_mode, current_session

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow.core.task import Task

#: Switches the magics take themselves (the rest goes to nbflow.core.cmdline).
RUN_FLAGS = ("background", "text")
GRAPH_FLAGS = ("dot", "text", "stop-at-complete")


class UnknownSubcommandError(NbflowError, LookupError):
    """``%nbflow`` was given a subcommand it does not have."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(name, known)
        self.name, self.known = name, known

    def __str__(self) -> str:
        return (
            f"%nbflow: unknown subcommand (got {self.name!r}). "
            f"Expected one of: {', '.join(self.known)}. "
            f"Fix: see %nbflow help.{did_you_mean(self.name, self.known)}"
        )


def split_arguments(line: str, cell: str | None = None) -> list[str]:
    r"""Split the magic's line (and a ``%%nbflow`` cell's lines) like a shell would.

    Examples
    --------
    >>> split_arguments("run Report --day 1", "--Clean-n 2  # note\n# comment")
    ['run', 'Report', '--day', '1', '--Clean-n', '2']
    """
    argv: list[str] = []
    for text in [line, *(cell or "").splitlines()]:
        try:
            argv.extend(shlex.split(text, comments=True))
        except ValueError as exc:
            raise cmdline.UsageError(
                f"cannot split the arguments ({exc})", text, "close the quotes"
            ) from None
    return argv


def take_flags(argv: list[str], names: tuple[str, ...], keep: set[str]) -> set[str]:
    """Remove the switches ``--name`` in ``names`` from ``argv``; return those found.

    Names in ``keep`` (parameters the task declares) are left for the task.

    Examples
    --------
    >>> argv = ["Report", "--background", "--day", "1"]
    >>> take_flags(argv, ("background", "text"), set()), argv
    ({'background'}, ['Report', '--day', '1'])
    """
    found = set()
    for name in names:
        flag = f"--{name}"
        if name not in keep and flag in argv:
            argv.remove(flag)
            found.add(name)
    return found


@magics_class
class NbflowMagics(Magics):
    """The ``%nbflow`` magic, bound to one kernel's :class:`Session`."""

    def __init__(self, shell: Any, session: Session | None = None) -> None:
        super().__init__(shell)  # type: ignore[no-untyped-call]
        self.session = session or current_session(shell)
        self._commands: dict[str, Callable[[list[str]], Any]] = {
            "run": self._run,
            "graph": self._graph,
            "status": self._status,
            "attach": self._attach,
            "show": self._show,
            "why": self._why,
            "cancel": self._cancel,
            "connect": self._connect,
            "disconnect": self._disconnect,
            "help": self._help,
        }

    @line_cell_magic  # type: ignore[untyped-decorator]
    def nbflow(self, line: str, cell: str | None = None) -> Any:
        """Run nbflow pipelines from this kernel.

        usage: %nbflow SUBCOMMAND [ARGS]     (%%nbflow: the cell's lines add ARGS)

          run TASK [--PARAM V ...] [--FAMILY-PARAM V ...] [--workers N]
                   [--executor threads|processes|sync|dask] [--background] [--text]
                   [--dask-scheduler tcp://HOST:8786]
              Run TASK and everything it needs that is not complete yet. The cell
              waits while the view updates; interrupting the kernel (Ctrl-C, the stop
              button) cancels the run and its running tasks, leaving no partial
              outputs. --background returns the run's handle at once and the kernel
              stays usable. TASK is a class defined in the notebook (its newest
              definition) or in an imported module (module:TASK imports it first);
              parameters are written as for the nbflow command.
              `%nbflow run TASK --help` lists the task's parameters.
          graph TASK [--PARAM V ...] [--dot] [--text] [--stop-at-complete]
              Show TASK's whole dependency graph and what is already complete,
              without running anything (--dot: as Graphviz DOT text).
              --stop-at-complete draws complete tasks without their requirements,
              as a run's walk sees them (smaller, for huge graphs).
          status
              List this kernel's runs: number, state, task counts, elapsed time.
          attach [N] [--text]
              Show run N (default: the latest) again, running or finished.
          show TASK [--PARAM V ...]
              Show a task's parameters, state, status message, tracking URL and
              error with traceback, from the latest run that contains it (else
              whether it is complete).
          why TASK [--PARAM V ...] [--completeness exists|fingerprint] [--force T]
              For every task in TASK's graph: would a run run it, and why (output
              missing; stale: code changed in a function, a parameter changed, an
              upstream task changed; forced) -- or why not (up to date, unversioned).
          cancel [N]
              Cancel run N (default: the latest), interrupting its running tasks.
          connect URL [--token T]
              Schedule this kernel's next runs on the nbflow server at URL
              (http://host:port; the token may also come from the url as
              http://user:TOKEN@host:port, NBFLOW_TOKEN or [scheduler] token). Tasks
              still run in this kernel unless a worker of the server takes them; a
              task id never runs twice at once across everyone using the server.
          disconnect
              Go back to the kernel's embedded scheduler.
          help [SUBCOMMAND]
              Show this help.

        In a notebook a task is complete when its outputs exist *and* were made by the
        same code, parameters and inputs (completeness "fingerprint"; set
        [core] completeness = "exists" for Luigi's rule). `run` also takes
        --completeness MODE, --force TASK (run it and everything downstream again),
        --accept TASK (record its current fingerprint without running) and --dry-run.

        Runs are shown as live widgets in JupyterLab and Notebook, and as concise
        text elsewhere (papermill, nbconvert, terminals). NBFLOW_DISPLAY=widgets|text
        forces the choice; --text forces text for one call.

        From code: ``session = nbflow.kernel.current_session()``, then
        ``session.run(task)``, ``session.run(task, background=True)`` (a Run
        handle), ``session.graph(task)``, ``session.runs``, ``session.attach(n)``.
        """
        try:
            argv = split_arguments(line, cell)
            if not argv or argv[0] in ("-h", "--help"):
                return self._help([])
            command = self._commands.get(argv[0])
            if command is None:
                raise UnknownSubcommandError(argv[0], tuple(self._commands))
            return command(argv[1:])
        except NbflowError as exc:
            raise IPythonUsageError(str(exc)) from None

    # --- subcommands ----------------------------------------------------------------

    def _run(self, argv: list[str]) -> Any:
        flags = take_flags(argv, RUN_FLAGS, self._declared(argv))
        # --dask-scheduler A is short for --dask-scheduler-address A ([dask] key)
        argv = [re.sub(r"^--dask-scheduler(?==|$)", "\\g<0>-address", a) for a in argv]
        if _wants_help(argv):
            return self._help(["run"])
        cls, invocation = self.session.parse(argv)
        if invocation.wants_help:
            _print(cmdline.describe_params(cls, prog="%nbflow run"))
            return None
        mode = "text" if "text" in flags else None
        with interface.overrides_in_force(invocation):
            task = interface.instantiate(invocation)
            if self._plan_only(task, invocation):
                return None
            outcome = self.session.run(
                task,
                background="background" in flags,
                display=mode,
                **interface.given_options(invocation),
            )
        if "background" not in flags:
            return None
        record = self.session.runs[-1]
        if record.display == "text":
            _print(
                f"nbflow run {record.number} started in the background ({task!r}): "
                f"%nbflow attach {record.number} shows it, "
                f"%nbflow cancel {record.number} stops it."
            )
        return outcome

    def _plan_only(self, task: Task, invocation: cmdline.Invocation) -> bool:
        """Carry out --accept and --dry-run; True when nothing is to be run."""
        preflight = planning.prepare_run([task], _plan_options(invocation))
        if preflight.text:
            _print(preflight.text)
        return preflight.stop

    def _why(self, argv: list[str]) -> None:
        if _wants_help(argv):
            self._help(["why"])
            return
        _cls, invocation = self.session.parse(argv)
        with interface.overrides_in_force(invocation):
            text = planning.why(
                [interface.instantiate(invocation)], _plan_options(invocation)
            )
        _print(text)

    def _graph(self, argv: list[str]) -> None:
        flags = take_flags(argv, GRAPH_FLAGS, self._declared(argv))
        if _wants_help(argv):
            self._help(["graph"])
            return
        _cls, invocation = self.session.parse(argv)
        with interface.overrides_in_force(invocation):
            graph = self.session.graph(
                interface.instantiate(invocation),
                display="text" if "text" in flags else None,
                stop_at_complete="stop-at-complete" in flags,
            )
        if "dot" in flags:
            _print(graph.to_dot())
        elif graph.display == "widgets":
            _display.show_widget(graph)
        else:
            _print(graph.to_text())

    def _status(self, argv: list[str]) -> None:
        _no_more(argv, "status")
        _print(self.session.status())

    def _attach(self, argv: list[str]) -> None:
        text = take_flags(argv, ("text",), set())
        number = _run_number(argv, "attach")
        self.session.attach(number, display="text" if text else None)

    def _cancel(self, argv: list[str]) -> None:
        record = self.session.cancel(_run_number(argv, "cancel"))
        _print(f"nbflow run {record.number}: {record.state}; cancelling.")

    def _show(self, argv: list[str]) -> None:
        if _wants_help(argv):
            self._help(["show"])
            return
        _cls, invocation = self.session.parse(argv)
        with interface.overrides_in_force(invocation):
            task = interface.instantiate(invocation)
        _print(self.session.show(task))

    def _connect(self, argv: list[str]) -> None:
        if _wants_help(argv) or not argv:
            self._help(["connect"])
            return
        token = None
        if "--token" in argv:
            at = argv.index("--token")
            if at + 1 >= len(argv):
                raise cmdline.UsageError(
                    "%nbflow connect: --token needs a value",
                    " ".join(argv),
                    "write %nbflow connect URL --token TOKEN",
                )
            token = argv[at + 1]
            del argv[at : at + 2]
        url = argv.pop(0)
        _no_more(argv, "connect")
        _print(self.session.connect(url, token))

    def _disconnect(self, argv: list[str]) -> None:
        _no_more(argv, "disconnect")
        _print(self.session.disconnect())

    def _help(self, argv: list[str]) -> None:
        text = inspect.cleandoc(NbflowMagics.nbflow.__doc__ or "")
        if argv and argv[0] in self._commands:
            wanted = argv[0]
            lines = text.splitlines()
            start = next(i for i, s in enumerate(lines) if s.startswith(f"  {wanted}"))
            end = next(
                (
                    i
                    for i in range(start + 1, len(lines))
                    if lines[i].startswith("  ") and not lines[i].startswith("   ")
                ),
                len(lines),
            )
            text = "\n".join(["usage: %nbflow", *lines[start:end]]).rstrip()
        elif argv:
            raise UnknownSubcommandError(argv[0], tuple(self._commands))
        _print(text)

    def _declared(self, argv: list[str]) -> set[str]:
        """Return the parameter names of the task ``argv`` names, if it can be found."""
        names = [arg for arg in argv if not arg.startswith("-")]
        cls = self.session.find_class(names[0]) if names else None
        return {name for name, _ in cls.get_params()} if cls is not None else set()


def _plan_options(invocation: cmdline.Invocation) -> planning.PlanOptions:
    """Return the planning options; the notebook's default mode is fingerprint."""
    default = completeness_mode(current_settings())
    return planning.PlanOptions.from_invocation(invocation, default_mode=default)


def _wants_help(argv: list[str]) -> bool:
    """Return whether ``argv`` asks for help before naming a task."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return True
        if not arg.startswith("-"):
            return False
    return False


def _no_more(argv: list[str], command: str) -> None:
    if argv:
        raise cmdline.UsageError(
            f"%nbflow {command} takes no arguments",
            " ".join(argv),
            f"write just %nbflow {command}",
        )


def _run_number(argv: list[str], command: str) -> int | None:
    if not argv:
        return None
    if len(argv) > 1 or not argv[0].isdigit():
        raise cmdline.UsageError(
            f"%nbflow {command} takes one run number",
            " ".join(argv),
            f"write %nbflow {command} N, with N from %nbflow status",
        )
    return int(argv[0])


def _print(text: str) -> None:
    print(text)  # noqa: T201  (the magics' output, printed in the main thread)
