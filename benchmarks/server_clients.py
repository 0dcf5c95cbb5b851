"""Many concurrent clients of one ``nbflow server``: throughput, latency, exactly once.

A real ``nbflow server`` process (SQLite in a temp folder) and ``--clients`` (50)
clients on loopback, spread over ``--processes`` (5) processes of threads, each making
nbflow's worker calls (``POST /api/v1/workers/{id}/calls``, keep-alive connections)
for ``--seconds`` (20). Each client, round after round, adds a small graph
(``TasksDiscovered``): 4 leaves of its own, 1 task shared with the 4 other clients of
its group of 5 on the same round number, and a root requiring all 5. As a real client
does, it marks a task complete when its output exists (an empty file in a temp folder).
It "runs" each ``RunTask`` it is given at once: creates the output with ``O_EXCL`` (a
second creation would be a task run twice), or, if another client made it since,
creates nothing; either way it reports ``TaskSucceeded`` in its next call. It long-polls
(``wait``) while its graph has work elsewhere, until the server says it has no more
work. After the deadline a client finishes its round and stops.

Printed: calls/s, tasks run/s, the latency of a call (p50, p99, max; long polls that
waited are left out), and the checks: no output was created twice; no task was handed
to two clients at once (a second ``RunTask`` for a task arrives only after the first
holder reported it); every task added is DONE on the server and has its output. A task
a slow client added as incomplete after another finished it is handed out again (the
scheduler's re-add rule, luigid's too): those are counted, and find the output made.
Prints numbers; never asserts (a failed check prints FAIL and exits 1).

    python benchmarks/server_clients.py [--clients 50] [--processes 5] [--seconds 20]
        [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from server_fanin import TOKEN, Scheduler

from nbflow.core import wire
from nbflow.core.events import TasksDiscovered, TaskSpec, TaskSucceeded, WorkerStarted

#: Clients that share a task on the same round number.
GROUP = 5
LEAVES = 4
#: Seconds a call may long-poll for a RunTask while its graph runs elsewhere.
WAIT = 0.5


def graph(client: int, round_: int) -> tuple[TaskSpec, ...]:
    own = [
        TaskSpec(f"Leaf_c{client}_r{round_}_{i}", "Leaf", (("i", str(i)),))
        for i in range(LEAVES)
    ]
    shared = TaskSpec(
        f"Shared_g{client // GROUP}_r{round_}", "Shared", (("r", str(round_)),)
    )
    deps = (*(s.task_id for s in own), shared.task_id)
    root = TaskSpec(
        f"Root_c{client}_r{round_}", "Root", (("c", str(client)),), deps=deps
    )
    return (*own, shared, root)


class Client:
    """One worker: its own keep-alive connection, its rounds, its measurements."""

    def __init__(self, port: int, number: int, deadline: float, outputs: Path) -> None:
        self.port, self.number, self.deadline = port, number, deadline
        self.outputs = outputs
        self.worker_id = f"bench-client-{number}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.latencies: list[float] = []
        #: (task id, RunTask received, TaskSucceeded sent), monotonic clock
        self.held: list[tuple[str, float, float]] = []
        self.made = 0
        self.found_made = 0
        self.made_twice: list[str] = []
        self.added: set[str] = set()
        self.calls = 0
        self.rounds = 0
        self.seq = 0

    def call(
        self, events: list[Any], running: list[str], wait: float = 0.0
    ) -> dict[str, Any]:
        body = json.dumps(
            {
                "events": [wire.to_json(e) for e in events],
                "running": running,
                "since": self.seq,
                "wait": wait,
            }
        ).encode()
        began = time.perf_counter()
        self.connection.request(
            "POST",
            f"/api/v1/workers/{self.worker_id}/calls",
            body=body,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
            },
        )
        reply = self.connection.getresponse()
        data = reply.read()
        elapsed = time.perf_counter() - began
        if reply.status != 200:
            raise RuntimeError(f"{self.worker_id}: HTTP {reply.status}: {data[:500]!r}")
        answer: dict[str, Any] = json.loads(data)
        self.calls += 1
        if wait == 0.0 or answer["actions"]:
            self.latencies.append(elapsed)
        self.seq = answer["seq"]
        return answer

    def make(self, task_id: str) -> None:
        """Run a task: create its output, exactly once."""
        path = self.outputs / task_id
        if path.exists():
            self.found_made += 1
            return
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            self.made_twice.append(task_id)
        else:
            self.made += 1

    def run(self) -> None:
        round_ = 0
        while time.monotonic() < self.deadline:
            specs = tuple(
                s._replace(complete=(self.outputs / s.task_id).exists())
                for s in graph(self.number, round_)
            )
            self.added.update(s.task_id for s in specs)
            events: list[Any] = [TasksDiscovered(specs)]
            if round_ == 0:
                events.insert(0, WorkerStarted(self.worker_id, slots=4))
            running: list[str] = []
            while True:
                answer = self.call(events, running, wait=0.0 if events else WAIT)
                received = time.monotonic()
                given = [a["task_id"] for a in answer["actions"]]
                for task_id in given:
                    self.make(task_id)
                sent = time.monotonic()  # reported in the next call, sent right after
                self.held.extend((t, received, sent) for t in given)
                events = [TaskSucceeded(t) for t in given]
                running = given
                if not given and not answer["has_work"]:
                    break
            round_ += 1
            self.rounds += 1


def process_main(
    port: int, numbers: list[int], deadline: float, outputs: Path, results: Any
) -> None:
    clients = [Client(port, n, deadline, outputs) for n in numbers]
    threads = [threading.Thread(target=c.run) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(
        [
            {
                "latencies": c.latencies,
                "held": c.held,
                "added": sorted(c.added),
                "calls": c.calls,
                "rounds": c.rounds,
                "made": c.made,
                "found_made": c.found_made,
                "made_twice": c.made_twice,
            }
            for c in clients
        ]
    )


def overlapping(held: list[tuple[str, float, float]]) -> list[str]:
    """Tasks handed to a client while another still held them (not yet reported)."""
    by_task: dict[str, list[tuple[float, float]]] = {}
    for task_id, received, sent in held:
        by_task.setdefault(task_id, []).append((received, sent))
    found = []
    for task_id, spans in by_task.items():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
            found.append(task_id)
    return found


def server_tasks(port: int) -> tuple[dict[str, str], dict[str, int]]:
    """Every task the server holds (id -> status), and its counts by status."""
    found: dict[str, str] = {}
    cursor: str | None = "0"
    counts: dict[str, int] = {}
    while cursor is not None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/tasks?limit=1000&cursor={cursor}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            page = json.loads(reply.read())
        found.update((t["task_id"], t["status"]) for t in page["tasks"])
        counts, cursor = page["counts"], page["next_cursor"]
    return found, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="5 s")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 5.0
    folder = Path(tempfile.mkdtemp(prefix="nbflow-clients-bench-"))
    outputs = folder / "outputs"
    outputs.mkdir()
    server = Scheduler("nbflow", folder).start()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    numbers = list(range(args.clients))
    began = time.monotonic()
    deadline = began + args.seconds
    processes = [
        context.Process(
            target=process_main,
            args=(
                server.port,
                numbers[p :: args.processes],
                deadline,
                outputs,
                results,
            ),
        )
        for p in range(args.processes)
    ]
    for process in processes:
        process.start()
    clients = [c for _ in processes for c in results.get()]
    elapsed = time.monotonic() - began
    for process in processes:
        process.join()
    found, counts = server_tasks(server.port)
    server.stop()

    latencies = sorted(x for c in clients for x in c["latencies"])
    calls = sum(c["calls"] for c in clients)
    held = [h for c in clients for h in c["held"]]
    dispatched = Counter(h[0] for h in held)
    added = {t for c in clients for t in c["added"]}
    at_once = overlapping(held)
    made_twice = [t for c in clients for t in c["made_twice"]]
    made = sum(c["made"] for c in clients)
    found_made = sum(c["found_made"] for c in clients)
    again = sum(1 for n in dispatched.values() if n > 1)
    without_output = sorted(t for t in added if not (outputs / t).exists())
    shutil.rmtree(folder, ignore_errors=True)
    not_done = sorted(t for t, s in found.items() if s != "DONE")
    missing = sorted(added - set(found))
    print(
        f"{args.clients} clients in {args.processes} processes on loopback, "
        f"{args.seconds:g} s (ran {elapsed:.1f} s until every round ended)"
    )
    print(
        f"  calls: {calls:,} ({calls / elapsed:,.0f}/s); graphs: "
        f"{sum(c['rounds'] for c in clients):,}; distinct tasks added: {len(added):,}"
    )
    print(
        f"  tasks run: {made:,} ({made / elapsed:,.0f}/s); RunTasks: {len(held):,}, of "
        f"which {found_made} found their output made ({again} tasks handed out again: "
        f"re-added as incomplete by a client that looked before another finished)"
    )
    print(
        f"  call latency (answers without a long-poll wait, {len(latencies):,}): "
        f"p50 {statistics.median(latencies) * 1e3:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms, "
        f"max {latencies[-1] * 1e3:.1f} ms"
    )
    print(f"  server's final state: {len(found):,} tasks, by status {counts}")
    checks = {
        "no task ran twice (each output created once)": not made_twice,
        "no task handed to two clients at once": not at_once,
        "every task added has its output": not without_output,
        "the server holds every task added": not missing,
        "every task on the server is DONE": not not_done,
    }
    for what, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'} {what}")
    problems = (
        ("made twice", made_twice),
        ("at once", at_once),
        ("no output", without_output),
        ("missing", missing),
        ("not done", not_done),
    )
    for label, ids in problems:
        if ids:
            print(f"    {label}: {len(ids)}, e.g. {ids[:5]}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
