"""``nbflow server [options]`` and ``nbflow server db upgrade [--db URL]``.

Parses the options, settles the token (given, from a file, from ``NBFLOW_TOKEN``, or
generated into a file only the user can read and printed once), refuses to listen
beyond loopback without a token given, and runs :func:`nbflow.server.app.serve`.
Problems a user can fix (an outdated database, a taken port, a bad option) end as one
``nbflow: error:`` line and exit code 2.

Imports: stdlib, nbflow.core.{cmdline, errors}, nbflow.server (lazily: tornado, SQLAlchemy).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from nbflow.core import cmdline
from nbflow.core.config import current_settings
from nbflow.core.errors import DefinitionError

#: The token variable shared with nbflow's clients.
TOKEN_ENV = "NBFLOW_TOKEN"  # noqa: S105  (a variable name, not a secret)

SERVER_EPILOG = """\
The token: --token, --token-file, or $NBFLOW_TOKEN; without one (loopback only) a new
token is generated, printed once, and written to a file only you can read. Workers
connect with `nbflow worker --scheduler-url URL` and the token (--scheduler-token,
$NBFLOW_TOKEN, or http://user:TOKEN@host:port); Luigi's workers with
`--scheduler-url http://user:TOKEN@host:port`.

Schedules: each [schedule.NAME] section of the config (cron, task, module, params,
date_param, catch_up, ...) fires `nbflow run` against this server; see the README.

Exit codes: 0 stopped (SIGINT, SIGTERM); 2 bad options, a bad schedule, a database that
needs `nbflow server db upgrade`, or an address that cannot be bound."""


class ServerStartError(DefinitionError):
    """The server cannot start as asked; the message says how to fix it."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem

    def __str__(self) -> str:
        return self.problem


class _Parser(argparse.ArgumentParser):
    """argparse that raises nbflow's UsageError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise cmdline.UsageError(
            message, " ".join(sys.argv[1:]), f"see `{self.prog} --help`"
        )


def _server_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nbflow server",
        description="Run the central nbflow scheduler: durable state, an HTTP API, "
        "luigid's protocol for Luigi's workers, metrics. "
        "`nbflow server db upgrade [--db URL]` upgrades its database.",
        epilog=SERVER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8082, help="port (default 8082; 0: any free port)")
    add("--db", metavar="URL", help="sqlite:///FILE or postgresql://... (default: "
        "server.db in nbflow's data folder)")  # fmt: skip
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument("--token", help="the token clients must present")
    tokens.add_argument("--token-file", type=Path, help="read the token from this file")
    add("--worker-disconnect-delay", type=float, default=None, metavar="S",
        help="seconds of silence after which a worker's running tasks fail "
        "(default: [scheduler] worker_disconnect_delay, else 60)")  # fmt: skip
    add("--remove-delay", type=float, default=None, metavar="S",
        help="finished tasks unchanged this long leave the scheduler (their runs stay "
        "in the history; default: [scheduler] remove_delay, else 600; 0: never)")  # fmt: skip
    add("--cors-origin", action="append", default=[], metavar="ORIGIN",
        help="allow browser calls from this origin (repeatable; default: none)")  # fmt: skip
    add("--max-body-size", type=float, default=32.0, metavar="MB",
        help="largest request body in MiB (default 32)")  # fmt: skip
    add("--resource", action="append", default=[], metavar="NAME=N",
        help="a global resource's limit (repeatable; default: the [resources] "
        "section)")  # fmt: skip
    add("--schedule-log-dir", metavar="DIR", default=None,
        help="where each schedule fire's output goes (default: [scheduler] "
        "schedule_log_dir, else schedule-logs in nbflow's data folder)")  # fmt: skip
    add("--read-only-schedules", action="store_true",
        help="refuse adding and removing schedules through the API (the config's "
        "[schedule.NAME] sections still run; pausing still works)")  # fmt: skip
    add(
        "--log-level",
        default="WARNING",
        help="logging level on stderr (default WARNING)",
    )
    return parser


def _db_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nbflow server db upgrade",
        description="Apply the database migrations this nbflow needs (back it up first).",
    )
    parser.add_argument(
        "--db", metavar="URL", help="the server's database (as for nbflow server)"
    )
    return parser


def server_command(argv: list[str]) -> int:
    """Run ``nbflow server ...``; return the exit code."""
    if argv[:1] == ["db"]:
        if argv[1:2] != ["upgrade"]:
            raise cmdline.UsageError(
                "unknown database command",
                " ".join(argv),
                "use `nbflow server db upgrade`",
            )
        return _upgrade(_db_parser().parse_args(argv[2:]).db)
    options = _server_parser().parse_args(argv)
    logging.basicConfig(
        level=options.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    return _serve(options)


def default_db_url() -> str:
    """Return the default database: ``server.db`` in nbflow's data folder."""
    from nbflow.server.auth import data_dir  # noqa: PLC0415

    folder = data_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'server.db'}"


def _upgrade(db: str | None) -> int:
    from nbflow.server.store import StoreError, upgrade  # noqa: PLC0415  (SQLAlchemy)

    url = db or default_db_url()
    try:
        revision = upgrade(url)
    except StoreError as error:
        raise ServerStartError(str(error)) from error
    sys.stdout.write(
        f"nbflow server db upgrade: the database is at revision {revision}\n"
    )
    return 0


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve beyond this machine


def _token(options: argparse.Namespace) -> tuple[str, Path | None, bool]:
    """Return (token, the file it was generated into or None when given, new)."""
    from nbflow.server.auth import (  # noqa: PLC0415
        TOKEN_FILE_NAME,
        data_dir,
        new_token_file,
        read_token_file,
    )

    if options.token:
        return options.token, None, False
    if options.token_file is not None:
        return read_token_file(options.token_file), None, False
    if os.environ.get(TOKEN_ENV, "").strip():
        return os.environ[TOKEN_ENV].strip(), None, False
    if not is_loopback(options.host):
        raise ServerStartError(
            f"nbflow server --host {options.host}: listening beyond this machine needs a "
            "token (got none). Expected --token, --token-file or $NBFLOW_TOKEN. Fix: "
            "pass one (e.g. --token-file /run/secrets/nbflow-token), or listen on "
            "127.0.0.1"
        )
    path = data_dir() / TOKEN_FILE_NAME
    kept = _kept_token(path)
    if kept is not None:  # the last generated token: clients that have it keep working
        return kept, path, False
    return new_token_file(path), path, True


def _kept_token(path: Path) -> str | None:
    """Return the token a previous start generated into ``path``, if it is private."""
    from nbflow.server.auth import TokenError, read_token_file  # noqa: PLC0415

    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        return None  # others could read it: make a new one
    try:
        return read_token_file(path)
    except TokenError:
        return None


def _resources(values: list[str]) -> dict[str, int]:
    found = {}
    for value in values:
        name, _, amount = value.partition("=")
        if not name or not amount.strip().isdigit():
            raise cmdline.UsageError(
                "a resource must be NAME=N with N a whole number", value,
                "write e.g. --resource gpu=2",
            )  # fmt: skip
        found[name.strip()] = int(amount)
    return found


def _scheduler_settings(options: argparse.Namespace) -> dict[str, Any]:
    """Return the scheduler's settings: options, else luigid's [scheduler], [resources]."""
    settings = current_settings()
    delay = options.worker_disconnect_delay
    if delay is None:
        delay = settings.get_float("scheduler", "worker_disconnect_delay", 60.0)
    remove = options.remove_delay
    if remove is None:
        remove = settings.get_float("scheduler", "remove_delay", 600.0)
    resources = _resources(options.resource) if options.resource else {
        name: settings.get_int("resources", name, 1)
        for name in settings.section("resources")
    }  # fmt: skip
    return {
        "worker_disconnect_delay": delay,
        "remove_delay": remove or None,
        "resources": resources,
        **_schedule_settings(options, settings),
    }


def _schedule_settings(options: argparse.Namespace, settings: Any) -> dict[str, Any]:
    """Return the trigger's settings: the config's schedules, the log folder."""
    from nbflow.server.schedules import ScheduleError, from_settings  # noqa: PLC0415

    try:
        schedules = tuple(from_settings(settings))
    except ScheduleError as error:
        raise ServerStartError(str(error)) from None
    log_dir = options.schedule_log_dir or settings.get(
        "scheduler", "schedule_log_dir", ""
    )
    return {
        "schedules": schedules,
        "schedule_log_dir": log_dir,
        "read_only_schedules": options.read_only_schedules,
    }


def _serve(options: argparse.Namespace) -> int:
    from nbflow.server.app import ListenError, ServeOptions, serve  # noqa: PLC0415
    from nbflow.server.store import StoreError  # noqa: PLC0415

    token, generated, fresh = _token(options)

    def announce(url: str) -> None:
        lines = [f"nbflow server: listening on {url}"]
        if generated is not None and fresh:
            lines.append(f"nbflow server: token {token}")
            lines.append(f"nbflow server: (kept in {generated}, readable only by you)")
        elif generated is not None:
            lines.append(
                f"nbflow server: the token is the one in {generated} (made at an "
                "earlier start; delete the file for a new one)"
            )
        lines.append(f"nbflow server: the visualiser is at {url} (log in to act)")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    serve_options = ServeOptions(
        db=options.db or default_db_url(),
        token=token,
        host=options.host,
        port=options.port,
        protect_reads=not is_loopback(options.host),
        cors_origins=tuple(options.cors_origin),
        max_body=int(options.max_body_size * 1024 * 1024),
        on_listening=announce,
        **_scheduler_settings(options),
    )
    try:
        serve(serve_options)
    except StoreError as error:
        raise ServerStartError(str(error)) from error
    except ListenError as error:
        raise ServerStartError(str(error)) from error
    return 0


__all__ = ["ServerStartError", "default_db_url", "is_loopback", "server_command"]
