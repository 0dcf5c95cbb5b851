"""The server at scale: memory with 100,000 tasks, restart with 1,000,000 history rows.

1. A real ``nbflow server`` process (SQLite in a temp folder): one client registers
   ``--tasks`` (100,000) tasks in graphs of 5,000 (a root requiring 4,999 leaves, one
   ``TasksDiscovered`` call each); the server's RSS (psutil) before, after registering,
   and after the client ran them all (a worker of 1,000 slots: a call takes up to 1,000
   ``RunTask`` s and reports 1,000 ``TaskSucceeded``).
2. The same client then runs the graphs again (re-added as incomplete: luigid's rule,
   DONE goes back to PENDING) until the history tables hold ``--history`` (1,000,000)
   rows, and the server is stopped (SIGINT: it writes a snapshot). A copy of the
   database without its snapshots is the "no snapshot" case.
3. Restart, with and without the snapshot: ``SchedulerHost.start()`` in this process on
   ``Store.open(url)`` (restore: the snapshot, then the events after it), and a real
   ``nbflow server`` process from its start until ``/readyz`` answers 200 (the history
   writer catching up what replay finds too), each the fastest of ``--repeat`` (2).

Prints numbers; never asserts.

    python benchmarks/server_scale.py [--tasks 100000] [--history 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
from server_fanin import TOKEN, Scheduler, bench_env, free_port, wait_until

from nbflow.core import wire
from nbflow.core.events import TasksDiscovered, TaskSpec, TaskSucceeded, WorkerStarted
from nbflow.server import store as store_module
from nbflow.server.host import SchedulerHost
from nbflow.server.store import Store

GRAPH = 5_000
SLOTS = 1_000
HISTORY_TABLES = (
    store_module.tasks_table,
    store_module.task_params_table,
    store_module.task_runs_table,
    store_module.run_states_table,
    store_module.graph_runs_table,
)


class Caller:
    """One worker's calls over a keep-alive connection."""

    def __init__(self, port: int, worker_id: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.worker_id = worker_id

    def call(self, events: list[Any], running: list[str]) -> dict[str, Any]:
        body = json.dumps(
            {"events": [wire.to_json(e) for e in events], "running": running}
        )
        self.connection.request(
            "POST",
            f"/api/v1/workers/{self.worker_id}/calls",
            body=body.encode(),
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
            },
        )
        reply = self.connection.getresponse()
        data = reply.read()
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}: {data[:500]!r}")
        answer: dict[str, Any] = json.loads(data)
        return answer


def graphs(tasks: int) -> list[tuple[TaskSpec, ...]]:
    out = []
    for g in range(max(1, tasks // GRAPH)):
        leaves = [
            TaskSpec(f"Leaf_g{g}_{i}", "Leaf", (("g", str(g)), ("i", str(i))))
            for i in range(GRAPH - 1)
        ]
        root = TaskSpec(
            f"Root_g{g}",
            "Root",
            (("g", str(g)),),
            deps=tuple(s.task_id for s in leaves),
        )
        out.append((*leaves, root))
    return out


def register(
    caller: Caller, all_graphs: list[tuple[TaskSpec, ...]], *, first: bool = False
) -> list[str]:
    """Add the graphs; return the tasks the answers already hand out (RunTask)."""
    given: list[str] = []
    if first:
        caller.call([WorkerStarted(caller.worker_id, slots=SLOTS)], [])
    for specs in all_graphs:
        answer = caller.call(
            [TasksDiscovered(specs, roots=(specs[-1].task_id,))], given
        )
        given += [a["task_id"] for a in answer["actions"]]
    return given


def run_all(caller: Caller, given: list[str]) -> int:
    """Run ``given`` and everything else the server hands out; return how many ran."""
    events: list[Any] = [TaskSucceeded(t) for t in given]
    running = list(given)
    ran = len(given)
    while True:
        answer = caller.call(events, running)
        given = [a["task_id"] for a in answer["actions"]]
        ran += len(given)
        events, running = [TaskSucceeded(t) for t in given], given
        if not given and not answer["has_work"]:
            return ran


def history_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {
            t.name: connection.scalar(sa.func.count().select().select_from(t)) or 0
            for t in HISTORY_TABLES
        }
    engine.dispose()
    return counts


def mb(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / 2**20


def wait_for_history(
    url: str, port: int, target: int, timeout: float = 600
) -> dict[str, int]:
    """Wait until the history writer has caught up with the scheduler's seq."""
    deadline = time.monotonic() + timeout
    while True:
        rows = history_rows(url)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            mark = (
                connection.scalar(sa.select(store_module.history_mark_table.c.seq)) or 0
            )
        engine.dispose()
        if mark >= target or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def build(folder: Path, args: argparse.Namespace) -> str:
    url = f"sqlite:///{folder / 'server.db'}"
    server = Scheduler("nbflow", folder).start()
    process = psutil.Process(server.process.pid)
    caller = Caller(server.port, "scale-client")
    all_graphs = graphs(args.tasks)
    count = sum(len(g) for g in all_graphs)
    print(f"server RSS at start: {mb(process):.0f} MB")
    began = time.perf_counter()
    given = register(caller, all_graphs, first=True)
    print(
        f"registered {count:,} tasks in {time.perf_counter() - began:.1f} s "
        f"({len(all_graphs)} calls); server RSS {mb(process):.0f} MB"
    )
    rounds = 0
    while True:
        began = time.perf_counter()
        ran = run_all(caller, given)
        rounds += 1
        seq = caller.call([], [])["seq"]
        took = time.perf_counter() - began
        rows = wait_for_history(url, server.port, seq)
        print(
            f"round {rounds}: ran {ran:,} tasks in {took:.1f} s ({ran / took:,.0f} tasks/s, "
            f"calls of up to {SLOTS:,}); history caught up "
            f"{time.perf_counter() - began - took:.1f} s later; server RSS "
            f"{mb(process):.0f} MB; history rows {sum(rows.values()):,}"
        )
        if sum(rows.values()) >= args.history:
            break
        given = register(caller, all_graphs)  # again, as incomplete: DONE -> PENDING
    server.stop()
    print(
        "history rows: " + ", ".join(f"{t} {n:,}" for t, n in history_rows(url).items())
    )
    return url


def drop_snapshots(url: str, copy: Path) -> str:
    source = Path(sa.make_url(url).database or "")
    shutil.copy(source, copy)
    copied = f"sqlite:///{copy}"
    engine = sa.create_engine(copied)
    with engine.begin() as connection:
        connection.execute(store_module.snapshots_table.delete())
        rows = connection.scalar(
            sa.func.count().select().select_from(store_module.events_table)
        )
    engine.dispose()
    print(f"event log: {rows:,} rows (one per committed batch of calls)")
    return copied


def restore_in_process(url: str) -> tuple[float, int]:
    store = Store.open(url)
    host = SchedulerHost(store, snapshot_every=10**12)
    began = time.perf_counter()
    host.start()
    took = time.perf_counter() - began
    replayed = host.stats.restored_events
    host.stop()  # its snapshot goes to a copy that is thrown away
    store.close()
    return took, replayed


def restore_process(folder: Path, url: str) -> float:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "nbflow",
        "server",
        "--port",
        str(port),
        "--db",
        url,
        "--token",
        TOKEN,
    ]
    with (folder / "restart.log").open("ab") as log:
        began = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=folder, env=bench_env(folder), stdout=log, stderr=log
        )
        try:
            wait_until(f"http://127.0.0.1:{port}/readyz", process, timeout=600)
            took = time.perf_counter() - began
        finally:
            process.kill()  # no clean stop: it would write a snapshot
            process.wait()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--quick", action="store_true", help="20,000 tasks, 100,000 rows"
    )
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.history, args.repeat = 20_000, 100_000, 1
    folder = Path(tempfile.mkdtemp(prefix="nbflow-scale-bench-"))
    began = time.perf_counter()
    url = build(folder, args)
    bare = drop_snapshots(url, folder / "no-snapshot.db")
    print(
        f"database: {Path(sa.make_url(url).database or '').stat().st_size / 2**20:.0f} MB"
    )
    for label, which in (("with snapshot", url), ("without snapshot", bare)):
        # each run on a fresh copy: a server start may write to the database
        runs = []
        for attempt in range(args.repeat):
            copy = folder / f"restore-{attempt}.db"
            shutil.copy(sa.make_url(which).database or "", copy)
            runs.append(restore_in_process(f"sqlite:///{copy}"))
            copy.unlink()
        took, replayed = min(runs)
        starts = []
        for attempt in range(args.repeat):
            copy = folder / f"start-{attempt}.db"
            shutil.copy(sa.make_url(which).database or "", copy)
            starts.append(restore_process(folder, f"sqlite:///{copy}"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        print(
            f"restart {label}: SchedulerHost.start() {took:.2f} s (replayed {replayed:,} "
            f"events); nbflow server start to /readyz {min(starts):.2f} s"
        )
    print(f"(whole benchmark: {time.perf_counter() - began:.0f} s)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
