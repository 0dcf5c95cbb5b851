"""``build()`` and ``run()``: Luigi's entry points, on the embedded scheduler.

``build(tasks)`` returns a bool (Luigi's meaning: no task failed and every task could
be scheduled) or, with ``detailed_summary=True``, a :class:`RunResult`.
``run(cmdline_args)`` parses a Luigi command line; ``run(task)`` (nbflow's form, for
notebooks and scripts) builds the task and raises :class:`TaskFailedError` if it failed,
unless ``check=False``.

Both start their runs with :func:`nbflow.core.run.start_run`, as the kernel and the
``nbflow`` command do. ``run(cmdline_args)`` sets logging up as the ``luigi`` command
does (once per process, :mod:`nbflow.core.logging_setup`; INFO, so the execution
summary shows); ``build()`` leaves logging alone unless given ``log_level`` or
``logging_conf_file`` (a notebook has its own displays).

:class:`core` is Luigi's ``[core]`` section as a Config class: ``core().workers``
reads ``[core] workers``.

Imports: stdlib, nbflow.core.*.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any, Literal, overload

from nbflow.core import cmdline
from nbflow.core import config as _config
from nbflow.core.errors import (
    DefinitionError,
    DefinitionTypeError,
    ParameterValueError,
    TaskFailedError,
    UnknownParameterError,
)
from nbflow.core.logging_setup import (
    InterfaceLogging,
    LoggingOptions,
    LogLevelError,
    level_name,
)
from nbflow.core.parameter import (
    BoolParameter,
    ChoiceParameter,
    IntParameter,
    Parameter,
)
from nbflow.core.registry import REGISTRY
from nbflow.core.remote import ServerScheduler, scheduler_url
from nbflow.core.rpc import RemoteScheduler
from nbflow.core.run import Run, RunOptions, start_run
from nbflow.core.scheduler import Scheduler
from nbflow.core.task import Config, Task
from nbflow.core.worker import Worker, WorkerOptions

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from concurrent.futures import Executor

    from nbflow.core.completeness import CompletenessCheck
    from nbflow.core.events import Listener
    from nbflow.core.summary import RunResult

#: Luigi's build() keywords that have no meaning for the embedded scheduler.
_LUIGI_ONLY = frozenset(
    {
        "local_scheduler",
        "scheduler_host",
        "scheduler_port",
        "scheduler_url",
        "lock_pid_dir",
        "lock_size",
        "no_lock",
        "take_lock",
        "assistant",
        "logging_conf_file",
        "log_level",
        "help",
        "help_all",
        "module",
        "detailed_summary",
    }
)


class core(Config):  # noqa: N801  (Luigi's name: luigi.interface.core)
    """Luigi's ``[core]`` options, read as a Config (``core().workers``).

    Defaults are Luigi's, except where nbflow's are documented on the parameter;
    ``nbflow run`` and ``luigi.run`` take each as ``--name`` (``--workers 4``).
    """

    use_cmdline_section = False
    _nbflow_register = False  # the run options themselves are on every command line

    local_scheduler = BoolParameter(
        default=False, description="Accepted: nbflow always runs its own scheduler."
    )
    scheduler_host = Parameter(
        default="localhost",
        description="Host of a central scheduler.",
        config_path={"section": "core", "name": "default-scheduler-host"},
    )
    scheduler_port = IntParameter(
        default=8082,
        description="Port of a central scheduler.",
        config_path={"section": "core", "name": "default-scheduler-port"},
    )
    scheduler_url = Parameter(
        default="",
        description="Full URL of a central scheduler.",
        config_path={"section": "core", "name": "default-scheduler-url"},
    )
    lock_size = IntParameter(
        default=1, description="How many runs of the same command may work at once."
    )
    no_lock = BoolParameter(
        default=False, description="Run even if the same command is running."
    )
    lock_pid_dir = Parameter(
        default="",
        description="Where the command lock lives (empty: nbflow-<uid> in the "
        "temporary directory).",
    )
    take_lock = BoolParameter(
        default=False,
        description="Take over from a running copy of the command.",
    )
    workers = IntParameter(default=1, description="How many tasks run at once.")
    logging_conf_file = Parameter(
        default="", description="A logging config file (logging.config.fileConfig)."
    )
    log_level = ChoiceParameter(
        default="INFO",
        choices=["NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        description="Level of the default logging set-up of luigi.run and the luigi "
        "command (nbflow: INFO; Luigi: DEBUG; `nbflow run`: WARNING).",
    )
    module = Parameter(default="", description="Import this module first.")
    parallel_scheduling = BoolParameter(
        default=False, description="Check completeness in parallel threads."
    )
    parallel_scheduling_processes = IntParameter(
        default=0,
        description="How many threads check completeness (0: nbflow's default, 4).",
    )
    assistant = BoolParameter(
        default=False, description="Accepted: nbflow has no assistant workers."
    )
    help = BoolParameter(default=False, description="Show the main options.")
    help_all = BoolParameter(default=False, description="Show every option.")


class _WorkerSchedulerFactory:
    """Make the scheduler and worker of a run (Luigi's hook, for code that builds one).

    ``build()`` and ``run()`` make their own; this is for code that builds a
    :class:`~nbflow.core.worker.Worker` the way Luigi's interface does.
    """

    def create_local_scheduler(self) -> Scheduler:
        """Return a new embedded scheduler."""
        return Scheduler()

    def create_remote_scheduler(self, url: str) -> RemoteScheduler:
        """Return a client of the central scheduler at ``url``."""
        return RemoteScheduler(url)

    def create_worker(
        self,
        scheduler: Scheduler | RemoteScheduler,
        worker_processes: int = 1,
        assistant: bool = False,
    ) -> Worker:
        """Return a worker running ``worker_processes`` tasks at once for ``scheduler``.

        A remote scheduler is driven through nbflow's own client of ``nbflow server``.
        """
        options = WorkerOptions(workers=worker_processes, assistant=assistant)
        return Worker(scheduler, options=options)


def setup_logging(options: Mapping[str, Any], *, default_level: str = "INFO") -> bool:
    """Set logging up for a Luigi-form run, once per process; return whether it did.

    ``options`` holds ``log_level`` and ``logging_conf_file`` (None: ``[core]``'s).

    Raises
    ------
    LogLevelError, LoggingConfigFileError
        The level is not a level name, or the logging config file is missing.
    """
    return InterfaceLogging.setup(
        LoggingOptions.from_config(
            log_level=options.get("log_level"),
            logging_conf_file=options.get("logging_conf_file"),
            default_level=default_level,
        )
    )


@overload
def build(
    tasks: Iterable[Task] | Task,
    worker_scheduler_factory: Any = ...,
    detailed_summary: Literal[False] = ...,
    *,
    wait: Literal[True] = ...,
    **options: Any,
) -> bool: ...


@overload
def build(
    tasks: Iterable[Task] | Task,
    worker_scheduler_factory: Any = ...,
    *,
    detailed_summary: Literal[True],
    wait: Literal[True] = ...,
    **options: Any,
) -> RunResult: ...


@overload
def build(
    tasks: Iterable[Task] | Task,
    worker_scheduler_factory: Any = ...,
    detailed_summary: bool = ...,
    *,
    wait: Literal[False],
    **options: Any,
) -> Run: ...


def build(  # noqa: PLR0913  (Luigi's signature plus nbflow's keyword-only options)
    tasks: Iterable[Task] | Task,
    worker_scheduler_factory: Any = None,
    detailed_summary: bool = False,
    *,
    workers: int | None = None,
    executor: str | Executor | None = None,
    listeners: Iterable[Listener] = (),
    completeness: CompletenessCheck | str | None = None,
    force: Iterable[Task | str] = (),
    keep_alive: bool | None = None,
    parallel_scheduling: bool | None = None,
    parallel_scheduling_processes: int | None = None,
    settings: _config.Settings | None = None,
    scheduler: Scheduler | ServerScheduler | None = None,
    wait: bool = True,
    **env_params: Any,
) -> bool | RunResult | Run:
    """Run ``tasks`` and everything they need on the embedded scheduler.

    Parameters
    ----------
    tasks
        Task instances (a single task is accepted too).
    worker_scheduler_factory
        Accepted for Luigi compatibility and ignored.
    detailed_summary
        Return a :class:`RunResult` instead of a bool.
    workers
        How many tasks run at once (default ``[core] workers``, else 1).
    executor
        "auto", "sync", "threads", "processes", an executor plugin's name, or any
        ``concurrent.futures.Executor`` instance (which the caller shuts down).
    listeners
        Subscribers of the event stream (widgets, progress displays).
    completeness
        "exists" (Luigi's rule: outputs exist), "fingerprint" (outputs exist and were
        made by the same code, parameters and inputs), or a CompletenessCheck; default
        ``[core] completeness``, else "exists".
    force
        Tasks (or task ids, or family names) to run again even if complete, with
        everything downstream of them.
    keep_alive
        Wait for failed tasks' retry delay and retry them (``[worker] keep_alive``).
    parallel_scheduling
        Check completeness in parallel threads.
    parallel_scheduling_processes
        How many threads check completeness (default 4).
    settings
        Configuration to use instead of the ambient one.
    scheduler
        A scheduler to use instead of a fresh one (a ``ServerScheduler``: a run on
        an ``nbflow server``; so do Luigi's ``scheduler_url``, ``scheduler_host``
        and ``scheduler_port`` keywords, unless ``local_scheduler=True``).
    wait
        With False, return at once a :class:`~nbflow.core.run.Run` handle running the
        build in a background thread (``wait()``, ``cancel()``, ``result``).
    **env_params
        Luigi's other keywords (``local_scheduler``, ``no_lock``, ...), accepted;
        ``log_level`` or ``logging_conf_file`` set logging up (once per process).

    Returns
    -------
    bool or RunResult or Run
        True when no task failed and every task could be scheduled; the result with
        ``detailed_summary=True``; a running handle with ``wait=False``.

    Raises
    ------
    DefinitionTypeError
        An unknown keyword was passed, or ``tasks`` holds something that is not a task.

    Examples
    --------
    >>> class Noop(Task):
    ...     def run(self):
    ...         pass
    >>> build([Noop()], local_scheduler=True)
    True
    """
    del worker_scheduler_factory
    unknown = sorted(set(env_params) - _LUIGI_ONLY)
    if unknown:
        raise DefinitionTypeError("build", "keywords", unknown, "known build() options")
    if env_params.get("log_level") or env_params.get("logging_conf_file"):
        setup_logging(env_params)
    roots = [tasks] if isinstance(tasks, Task) else list(tasks)
    named = {"scheduler_url", "scheduler_host", "scheduler_port"} & set(env_params)
    if scheduler is None and named:  # Luigi's keywords name a scheduler server
        url = scheduler_url(
            settings or _config.current_settings(),
            url=env_params.get("scheduler_url"),
            host=env_params.get("scheduler_host"),
            port=env_params.get("scheduler_port"),
            local=bool(env_params.get("local_scheduler")),
        )
        scheduler = None if url is None else ServerScheduler(url)
    options = RunOptions(
        workers=workers,
        executor=executor,
        keep_alive=keep_alive,
        parallel_scheduling=parallel_scheduling,
        parallel_scheduling_processes=parallel_scheduling_processes,
        completeness=completeness,
        force=tuple(force),
        settings=settings,
        scheduler=scheduler,
    )
    run = start_run(
        roots,
        options,
        listeners=listeners,
        background=not wait,
        track_progress=not wait,  # a blocking build has no view to feed
    )
    if not wait:
        return run
    result = run.wait()
    return result if detailed_summary else result.scheduling_succeeded


def run(*args: Any, **kwargs: Any) -> bool | RunResult | Run:
    """Run from a Luigi command line, or (nbflow's form) run a task and check it.

    ``run(["--module", "m", "Task", "--x", "1"])`` (or ``run()`` reading ``sys.argv``)
    behaves like ``luigi.run``. ``run(task, check=True, **build_options)`` builds the
    task(s) and returns the :class:`RunResult`, raising :class:`TaskFailedError` if a
    task failed and ``check`` is true.
    """
    first = args[0] if args else kwargs.get("tasks")
    if isinstance(first, Task) or (
        isinstance(first, (list, tuple))
        and first
        and all(isinstance(t, Task) for t in first)
    ):
        return _run_tasks(first, **kwargs)
    return _run_cmdline(*args, **kwargs)


def _run_tasks(tasks: Any, *, check: bool = True, **kwargs: Any) -> RunResult | Run:
    kwargs.pop("tasks", None)
    kwargs.pop("detailed_summary", None)
    if kwargs.pop("wait", True) is False:
        handle: Run = build(tasks, wait=False, **kwargs)
        return handle
    result: RunResult = build(tasks, detailed_summary=True, **kwargs)
    if check and not result.scheduling_succeeded:
        failed = (
            result.tasks.get("failed") or result.tasks.get("scheduling_error") or ["?"]
        )
        raise TaskFailedError(failed[0], result.one_line_summary)
    return result


class ArgvTypeError(DefinitionError, TypeError):
    """``run(cmdline_args)`` was given something other than a list of words."""

    def __init__(self, got: object) -> None:
        super().__init__(got)
        self.got = got

    def __str__(self) -> str:
        kind = type(self.got).__name__
        return (
            f"nbflow.run: cmdline_args is a {kind} (got {self.got!r}). Expected a "
            "list or tuple of command-line words, or a Task. Fix: pass e.g. "
            "['--module', 'pipeline', 'Report', '--date', '2024-06-01']."
        )


def _run_cmdline(
    cmdline_args: list[str] | tuple[str, ...] | None = None,
    main_task_cls: type[Task] | None = None,
    worker_scheduler_factory: Any = None,
    use_dynamic_argparse: Any = None,
    local_scheduler: bool = False,
    detailed_summary: bool = False,
) -> bool | RunResult:
    del worker_scheduler_factory, local_scheduler
    if use_dynamic_argparse is not None:
        warnings.warn(
            "run(use_dynamic_argparse=...) has no effect (as in Luigi); leave it out",
            DeprecationWarning,
            stacklevel=3,
        )
    with parsed(cmdline_args, main_task_cls) as invocation:
        setup_logging(invocation.options)
        task = instantiate(invocation)
        result = start_run([task], run_options(invocation), track_progress=False)
        summary = result.wait()
    return summary if detailed_summary else summary.scheduling_succeeded


@contextlib.contextmanager
def parsed(
    cmdline_args: list[str] | tuple[str, ...] | None,
    main_task_cls: type[Task] | None = None,
) -> Iterator[cmdline.Invocation]:
    """Parse a Luigi command line and keep its overrides in force inside the block.

    As ``luigi.run`` does, ``--help`` and ``--help-all`` print the help and exit 0,
    and a command line that cannot be understood exits with its error.

    Raises
    ------
    ArgvTypeError
        ``cmdline_args`` is not a list or tuple (None reads ``sys.argv``).
    SystemExit
        For ``--help``, or a usage error, an unknown option or bad ``--log-level``
        (the message says what to fix).
    """
    import sys  # noqa: PLC0415

    if cmdline_args is None:
        cmdline_args = sys.argv[1:]
    if not isinstance(cmdline_args, (list, tuple)):
        raise ArgvTypeError(cmdline_args)
    try:
        invocation = cmdline.parse(list(cmdline_args), main_task_cls=main_task_cls)
        if invocation.options.get("log_level") is not None:
            level_name(invocation.options["log_level"])
    # an option nothing declares exits too, as Luigi's argparse does
    except (cmdline.UsageError, UnknownParameterError, LogLevelError) as error:
        raise SystemExit(str(error)) from error
    if invocation.wants_help:
        from nbflow.core.cmdline_help import luigi_help  # noqa: PLC0415  (argparse)

        sys.stdout.write(luigi_help(invocation) + "\n")
        raise SystemExit(0)
    with overrides_in_force(invocation):
        yield invocation


@contextlib.contextmanager
def overrides_in_force(invocation: cmdline.Invocation) -> Iterator[None]:
    """Make the invocation's ``--Family-param`` values ambient (config values too)."""
    with _config.use_overrides(invocation.overrides):
        yield


def instantiate(invocation: cmdline.Invocation) -> Task:
    """Construct the invocation's root task, with its own ``--param`` values.

    Call inside :func:`overrides_in_force`, so ``--Family-param`` values apply.

    Raises
    ------
    ParameterValueError
        A ``--param`` value does not parse.
    """
    assert invocation.task_name is not None  # noqa: S101  (parse() guarantees it)
    task_cls = invocation.task_cls or REGISTRY.lookup(invocation.task_name)
    return task_cls(**root_kwargs(task_cls, invocation.params))


def root_kwargs(task_cls: type[Task], params: Mapping[str, str]) -> dict[str, Any]:
    """Return the root task's own command-line values, each parsed by its parameter."""
    own = dict(task_cls.get_params())
    family = task_cls.get_task_family()
    kwargs: dict[str, Any] = {}
    for name, text in params.items():
        try:
            kwargs[name] = own[name].parse(text)
        except ParameterValueError as error:
            raise ParameterValueError(family, name, error.got, error.expected) from None
        except (ValueError, TypeError) as error:
            raise ParameterValueError(family, name, text, str(error)) from error
    return kwargs


def run_options(
    invocation: cmdline.Invocation, *, token: str | None = None
) -> RunOptions:
    """Return the run options given on the command line, its scheduler server too.

    ``token`` is the server's (``--scheduler-token``); else the client finds it.
    """
    server = server_for(invocation.options, token)
    return RunOptions(**given_options(invocation), scheduler=server)


def server_for(options: dict[str, Any], token: str | None) -> ServerScheduler | None:
    """Return the client of the scheduler server the options name, if any.

    ``--scheduler-url``, Luigi's ``--scheduler-host``/``--scheduler-port`` or
    ``[core] default_scheduler_url`` name a server; ``--local-scheduler`` (or
    ``[core] local_scheduler``) keeps the embedded scheduler.
    """
    settings = _config.current_settings()
    local = bool(options.get("local_scheduler")) or settings.get_bool(
        "core", "local_scheduler", False
    )
    url = scheduler_url(
        settings,
        url=options.get("scheduler_url"),
        host=options.get("scheduler_host"),
        port=options.get("scheduler_port"),
        local=local,
    )
    return None if url is None else ServerScheduler(url, token=token)


def given_options(invocation: cmdline.Invocation) -> dict[str, Any]:
    """Return the :class:`RunOptions` fields the command line sets, by name."""
    options = invocation.options
    given: dict[str, Any] = {}
    if options.get("workers") is not None:
        given["workers"] = _positive_int("--workers", options["workers"])
    for name in ("executor", "keep_alive", "parallel_scheduling", "completeness"):
        if options.get(name) is not None:
            given[name] = options[name]
    if options.get("force"):
        given["force"] = list(options["force"])
    processes = options.get("parallel_scheduling_processes")
    if processes is not None:
        given["parallel_scheduling_processes"] = _positive_int(
            "--parallel-scheduling-processes", processes
        )
    if "force" in given:
        given["force"] = tuple(given["force"])
    return given


def _positive_int(flag: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise cmdline.UsageError(
            f"{flag} must be a positive whole number", text, f"write e.g. {flag} 4"
        )
    return value
