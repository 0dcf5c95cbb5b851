"""What the server's store costs: the event log, replay and the history writer.

- append: 100,000 events in transactions of 100 (the host's group commit), SQLite with
  synchronous=FULL (an fsync per commit): events/s and the time of one commit.
- replay: 1,000,000 logged events streamed back with ``events_after(0)`` (decoded).
- history: 50,000 task runs (TaskAdded, RUNNING, a status message, DONE: 200,000
  notifications): what ``submit`` costs the scheduler's thread, and how fast the writer
  drains them; and how much a busy history writer slows the host's appends on SQLite.

Prints numbers; never asserts. With ``--postgres URL`` (or NBFLOW_TEST_POSTGRES_URL set)
the same runs on PostgreSQL too, in a database it creates and drops.

    python benchmarks/server_store.py [--events 100000] [--replay 1000000] [--runs 50000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from nbflow.core.events import Status, TaskAdded, TaskMessage, TaskStatusChanged
from nbflow.server.history import History, HistoryWriter
from nbflow.server.store import Store

EVENT = {
    "type": "TaskSucceeded",
    "task_id": "CleanSales_2024_01_31_0_9b1f3a2c77",
    "worker_id": "worker-1",
    "at": 1_700_000_000.123,
}


def bench_append(url: str, events: int, batch: int = 100) -> None:
    store = Store.open(url)
    latencies = []
    start = time.perf_counter()
    for _ in range(events // batch):
        begin = time.perf_counter()
        store.append([EVENT] * batch)
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - start
    store.close()
    latencies.sort()
    print(
        f"  append  {events:>9,} events in batches of {batch}: {elapsed:6.2f} s "
        f"({events / elapsed:>9,.0f} events/s; commit p50 "
        f"{statistics.median(latencies) * 1e3:.2f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms)"
    )


def bench_replay(url: str, rows: int) -> None:
    store = Store.open(url)
    fill = time.perf_counter()
    chunk = [EVENT] * 10_000
    while store.last_position < rows:
        store.append(chunk[: rows - store.last_position])
    fill = time.perf_counter() - fill
    start = time.perf_counter()
    count = sum(1 for _ in store.events_after(0))
    elapsed = time.perf_counter() - start
    store.close()
    print(
        f"  replay  {count:>9,} events: {elapsed:6.2f} s ({count / elapsed:>9,.0f} "
        f"events/s; filling took {fill:.1f} s in batches of 10,000)"
    )


def _notifications(runs: int) -> list[object]:
    out: list[object] = []
    seq = 0
    for n in range(runs):
        task_id = f"Work_{n}_{n * 7919 % 100_003:05d}"
        at = 1_700_000_000.0 + n
        out.extend(
            (
                TaskAdded(
                    seq + 1, at, task_id, "Work", (("n", str(n)),), (), Status.PENDING
                ),
                TaskStatusChanged(
                    seq + 2, at, task_id, Status.RUNNING, Status.PENDING, "w1"
                ),
                TaskMessage(seq + 3, at, task_id, "half way"),
                TaskStatusChanged(
                    seq + 4, at + 1, task_id, Status.DONE, Status.RUNNING, "w1"
                ),
            )
        )
        seq += 4
    return out


def bench_history(url: str, runs: int) -> None:
    notifications = _notifications(runs)
    store = Store.open(url)
    writer = HistoryWriter(store, capacity=len(notifications))
    writer.start()
    start = time.perf_counter()
    for notification in notifications:
        writer.submit(notification, worker_host="bench-host")  # type: ignore[arg-type]
    submitted = time.perf_counter() - start
    writer.flush()
    drained = time.perf_counter() - start
    writer.stop()
    page, _ = History(store).runs(family="Work", params={"n": "123"})
    store.close()
    count = len(notifications)
    print(
        f"  history {count:>9,} notifications ({runs:,} runs): submit "
        f"{submitted / count * 1e6:.2f} us each on the caller's thread; written in "
        f"{drained:6.2f} s ({count / drained:>9,.0f} notifications/s, dropped "
        f"{writer.dropped}); lookup by params found {len(page)}"
    )


def bench_contention(
    url: str, runs: int, events: int = 20_000, batch: int = 100
) -> None:
    """Append latency on the host's thread while the history writer is busy."""
    notifications = _notifications(runs)
    store = Store.open(url)
    writer = HistoryWriter(store, capacity=len(notifications))
    writer.start()
    for notification in notifications:
        writer.submit(notification)  # type: ignore[arg-type]
    latencies = []
    while writer.queued and len(latencies) < events // batch:
        begin = time.perf_counter()
        store.append([EVENT] * batch)
        latencies.append(time.perf_counter() - begin)
    writer.flush()
    writer.stop()
    store.close()
    latencies.sort()
    print(
        f"  append while history writes: {len(latencies)} commits of {batch}, p50 "
        f"{statistics.median(latencies) * 1e3:.2f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms, max "
        f"{latencies[-1] * 1e3:.2f} ms"
    )


@contextmanager
def postgres_database(server_url: str):
    name = f"nbflow_bench_{uuid.uuid4().hex[:8]}"
    server = sa.make_url(server_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def run_all(label: str, urls, args: argparse.Namespace) -> None:
    print(label)
    with urls() as url:
        bench_append(url, args.events)
    with urls() as url:
        bench_replay(url, args.replay)
    with urls() as url:
        bench_history(url, args.runs)
    with urls() as url:
        bench_contention(url, args.runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--replay", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument(
        "--postgres", default=os.environ.get("NBFLOW_TEST_POSTGRES_URL", "")
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="nbflow-store-bench-"))

    @contextmanager
    def sqlite_file():
        path = folder / f"{uuid.uuid4().hex}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    run_all(f"SQLite (WAL, synchronous=FULL) in {folder}", sqlite_file, args)
    if args.postgres:
        run_all("PostgreSQL", lambda: postgres_database(args.postgres), args)


if __name__ == "__main__":
    main()
