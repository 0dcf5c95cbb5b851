"""The keys of the config sections nbflow itself owns, and the warning for the others.

``[core]``, ``[worker]``, ``[scheduler]`` and ``[retcode]`` belong to nbflow (and to
Luigi before it), ``[dask]`` to nbflow's Dask executor: a key there that neither
reads, such as ``[core] workerz = 3``, is a typo that would otherwise be ignored in
silence. Loading the files warns once per key with
:class:`~nbflow.core.errors.UnknownConfigKeyWarning`, naming the closest known key,
as Luigi warns about unconsumed parameters. ``[resources]`` is free-form; other
sections are task families, checked by their parameters.

Luigi's keys are known even where nbflow gives them no effect, so a ``luigi.cfg``
reads without warnings. Code that reads a new key from these sections adds it here.

Imports: stdlib, nbflow.core.errors.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

from nbflow.core.errors import UnknownConfigKeyWarning

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Section -> the keys nbflow or Luigi reads there ("-" written as "_").
KNOWN_KEYS: Mapping[str, frozenset[str]] = {
    "core": frozenset(
        [
            "assistant",
            "autoload_range",
            "completeness",
            "default_scheduler_host",
            "default_scheduler_port",
            "default_scheduler_url",
            "executor",
            "help",
            "help_all",
            "local_scheduler",
            "lock_pid_dir",
            "lock_size",
            "log_level",
            "logging_conf_file",
            "module",
            "no_configure_logging",
            "no_lock",
            "parallel_scheduling",
            "parallel_scheduling_processes",
            "rpc_connect_timeout",
            "rpc_log_retries",
            "rpc_retry_attempts",
            "rpc_retry_wait",
            "scheduler_host",
            "scheduler_port",
            "scheduler_token",
            "scheduler_url",
            "take_lock",
            "workers",
        ]
    ),
    "worker": frozenset(
        [
            "cache_task_completion",
            "capture_output",
            "check_complete_on_run",
            "check_unfulfilled_deps",
            "count_last_scheduled",
            "count_uniques",
            "executor",
            "force_multiprocessing",
            "id",
            "keep_alive",
            "max_keep_alive_idle_duration",
            "max_reschedules",
            "no_install_shutdown_handler",
            "log_max_bytes",
            "ping_interval",
            "retry_external_tasks",
            "send_failure_email",
            "task_limit",
            "task_process_context",
            "timeout",
            "wait_interval",
            "wait_jitter",
        ]
    ),
    "scheduler": frozenset(
        [
            "batch_emails",
            "disable_hard_timeout",
            "disable_persist",
            "disable_window",
            "max_graph_nodes",
            "max_shown_tasks",
            "metrics_collector",
            "metrics_custom_import",
            "pause_enabled",
            "prune_on_get_work",
            "reconnect_timeout",
            "record_task_history",
            "remove_delay",
            "retry_count",
            "retry_delay",
            "schedule_log_dir",
            "send_messages",
            "stable_done_cooldown_secs",
            "state_path",
            "token",
            "worker_disconnect_delay",
        ]
    ),
    "retcode": frozenset(
        [
            "already_running",
            "missing_data",
            "not_run",
            "scheduling_error",
            "task_failed",
            "unhandled_exception",
        ]
    ),
    # the Dask executor plugin (nbflow.dask): the cluster to run on
    "dask": frozenset(["scheduler_address"]),
}

#: The keys of a ``[schedule.NAME]`` section (nbflow server's trigger), besides
#: ``param.NAME``; an unknown one is an error there (nbflow.server.schedules).
SCHEDULE_KEYS: frozenset[str] = frozenset(
    [
        "catch_up",
        "cron",
        "cwd",
        "date_format",
        "date_param",
        "executor",
        "max_running",
        "module",
        "params",
        "paused",
        "task",
        "timezone",
        "workers",
    ]
)

_WARNED: set[tuple[str, str]] = set()
_WARNED_LOCK = threading.Lock()


def warn_unknown_keys(
    sections: Mapping[str, Mapping[str, str]],
    source: str,
    inherited: frozenset[str] = frozenset(),
) -> None:
    """Warn about each unknown key of nbflow's own sections, once per process.

    ``inherited`` keys come from an INI file's ``[DEFAULT]`` section, which puts them
    in every section: they are not typos.
    """
    for section, known in KNOWN_KEYS.items():
        for key in sections.get(section, {}):
            normalized = key.replace("-", "_")
            if normalized in known or normalized in inherited:
                continue
            with _WARNED_LOCK:
                if (section, normalized) in _WARNED:
                    continue
                _WARNED.add((section, normalized))
            warning = UnknownConfigKeyWarning(
                source, section, key, tuple(sorted(known))
            )
            warnings.warn(warning, stacklevel=4)


def forget_warnings() -> None:
    """Warn again about keys already warned about (for tests and config reloads)."""
    with _WARNED_LOCK:
        _WARNED.clear()
