"""Fan-in of N no-op tasks through a central scheduler: nbflow server versus luigid.

One root requires N leaves; every task writes an empty ``LocalTarget`` file. Each
measurement starts a fresh scheduler process and a fresh output folder, then times one
client process from its start to its exit (the scheduler's own start-up is not timed):

- ``nbflow server``: a real ``nbflow server`` process (SQLite in a temp folder) and an
  ``nbflow run --scheduler-url`` client;
- ``luigi -> nbflow server``: Luigi 3.8.1's own worker (``python -m luigi ...
  --scheduler-url http://luigi:TOKEN@...``) against the same server (luigid's protocol);
- ``luigid``: ``luigid --port P`` and ``python -m luigi ... --scheduler-port P``;
- ``embedded``: ``nbflow run`` with no server, for reference.

Each client runs with 1 and 4 workers. ``total`` is the client's wall time; ``net`` is
that minus the same client's empty run (the root alone, N = 0: interpreter start,
imports, connecting), the fastest of 3. ``vs luigid`` is luigid's net time over this
row's at the same size and workers. A luigi client that does not finish within
``--luigi-timeout`` seconds is killed and shown as ``> timeout``; once luigid timed out
at a size, its runs with more workers at that size are skipped (luigid's single
scheduler thread is the bottleneck, not the workers). Prints numbers; never asserts.

    python benchmarks/server_fanin.py [--sizes 1000,10000] [--workers 1,4]
        [--luigi-timeout 300] [--no-luigi] [--quick] [--profile-server]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "server-bench-token-0123456789"

NBFLOW_TASKS = """
import os
import nbflow

OUT = os.environ["BENCH_OUT"]


class BenchLeaf(nbflow.Task):
    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(os.path.join(OUT, f"leaf-{self.n}"))

    def run(self):
        self.output().open("w").close()


class BenchFan(nbflow.Task):
    size = nbflow.IntParameter()

    def requires(self):
        return [BenchLeaf(n=i) for i in range(self.size)]

    def output(self):
        return nbflow.LocalTarget(os.path.join(OUT, "root"))

    def run(self):
        self.output().open("w").close()
"""
LUIGI_TASKS = NBFLOW_TASKS.replace("nbflow", "luigi")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(folder: Path, out: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(folder), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["NBFLOW_TOKEN"] = TOKEN
    if (folder / "luigi.cfg").exists():
        env["LUIGI_CONFIG_PATH"] = str(folder / "luigi.cfg")
    env.pop("NBFLOW_DEBUG", None)
    if out is not None:
        env["BENCH_OUT"] = str(out)
    return env


def wait_until(
    answers: str, process: subprocess.Popen[bytes], timeout: float = 60
) -> None:
    """Poll ``answers`` (a URL) until it answers 200; fail if ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(answers, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(
                f"the scheduler ended ({process.returncode}) before {answers} answered"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"{answers} did not answer within {timeout} s")
        time.sleep(0.02)


@dataclass
class Scheduler:
    """A scheduler process on loopback: ``nbflow server`` or ``luigid``."""

    kind: str  # "nbflow" or "luigid"
    folder: Path
    profile: Path | None = None

    def start(self) -> Scheduler:
        self.port = free_port()
        self.log = (self.folder / f"{self.kind}.log").open("ab")
        if self.kind == "nbflow":
            prefix = [sys.executable]
            if self.profile is not None:
                prefix += ["-m", "cProfile", "-o", str(self.profile)]
            command = [
                *prefix,
                "-m",
                "nbflow",
                "server",
                "--port",
                str(self.port),
                "--db",
                f"sqlite:///{self.folder / 'server.db'}",
                "--token",
                TOKEN,
            ]
            ready = f"http://127.0.0.1:{self.port}/readyz"
        else:
            command = [
                "luigid",
                "--port",
                str(self.port),
                "--address",
                "127.0.0.1",
                "--state-path",
                str(self.folder / "luigid.pickle"),
            ]
            ready = f"http://127.0.0.1:{self.port}/api/graph"
        self.process = subprocess.Popen(
            command,
            cwd=self.folder,
            env=bench_env(self.folder),
            stdout=self.log,
            stderr=self.log,
        )
        wait_until(ready, self.process)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(
                signal.SIGINT
            )  # a profile is written on a clean exit
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


#: client label -> (scheduler kind or None, command builder)
def client_command(
    client: str, size: int, workers: int, scheduler: Scheduler | None
) -> list[str]:
    task = ["BenchFan", "--size", str(size), "--workers", str(workers)]
    if client.startswith("luigi"):
        assert scheduler is not None
        where = (
            ["--scheduler-port", str(scheduler.port), "--scheduler-host", "127.0.0.1"]
            if scheduler.kind == "luigid"
            else ["--scheduler-url", f"http://luigi:{TOKEN}@127.0.0.1:{scheduler.port}"]
        )
        return [
            sys.executable,
            "-m",
            "luigi",
            "--module",
            "bench_luigi_tasks",
            *task,
            *where,
            "--log-level",
            "WARNING",
        ]
    where = ["--scheduler-url", scheduler.url] if scheduler is not None else []
    return [
        sys.executable,
        "-m",
        "nbflow",
        "run",
        "--no-progress",
        "--no-lock",
        "--module",
        "bench_nbflow_tasks",
        *task,
        *where,
    ]


CLIENTS = {
    # label: scheduler kind (None: embedded)
    "nbflow server": "nbflow",
    "luigi -> nbflow server": "nbflow",
    "luigid": "luigid",
    "embedded": None,
}


def measure(
    folder: Path,
    client: str,
    size: int,
    workers: int,
    timeout: float,
    profile: Path | None = None,
) -> float | None:
    """Seconds from the client's start to its exit; None on timeout. Checks the outputs."""
    run = Path(tempfile.mkdtemp(prefix="run-", dir=folder))
    out = run / "out"
    out.mkdir()
    for name in ("bench_nbflow_tasks.py", "bench_luigi_tasks.py", "luigi.cfg"):
        shutil.copy(folder / name, run / name)
    kind = CLIENTS[client]
    scheduler = Scheduler(kind, run, profile).start() if kind is not None else None
    try:
        command = client_command(client, size, workers, scheduler)
        with (run / "client.log").open("wb") as log:
            began = time.perf_counter()
            process = subprocess.Popen(
                command, cwd=run, env=bench_env(run, out), stdout=log, stderr=log
            )
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                return None
            elapsed = time.perf_counter() - began
    finally:
        if scheduler is not None:
            scheduler.stop()
    made = sum(1 for _ in out.iterdir())
    if process.returncode != 0 or made != size + 1:
        log_text = (run / "client.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(
            f"{client} (N={size}, {workers} workers) exited {process.returncode} with "
            f"{made} of {size + 1} outputs; its log ends:\n{log_text}"
        )
    shutil.rmtree(run, ignore_errors=True)
    return elapsed


def prepare(folder: Path) -> None:
    (folder / "bench_nbflow_tasks.py").write_text(NBFLOW_TASKS)
    (folder / "bench_luigi_tasks.py").write_text(LUIGI_TASKS)
    (folder / "luigi.cfg").write_text(
        textwrap.dedent(
            """\
            [core]
            [scheduler]
            """
        )
    )


def fmt(seconds: float | None, timeout: float) -> str:
    return f"> {timeout:g}" if seconds is None else f"{seconds:.2f}"


def main() -> None:  # noqa: PLR0912  (one table, built step by step)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N")
    parser.add_argument(
        "--workers", default="1,4", help="comma-separated worker counts"
    )
    parser.add_argument("--luigi-timeout", type=float, default=300.0)
    parser.add_argument("--no-luigi", action="store_true", help="nbflow only")
    parser.add_argument(
        "--quick", action="store_true", help="N = 1,000 only, timeout 60 s"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="keep the fastest of R runs"
    )
    parser.add_argument(
        "--profile-server",
        metavar="FILE",
        help="cProfile the nbflow server of the largest nbflow run into FILE",
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.luigi_timeout = "1000", min(args.luigi_timeout, 60.0)
    sizes = [int(s) for s in args.sizes.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    clients = [c for c in CLIENTS if not (args.no_luigi and c.startswith("luigi"))]

    folder = Path(tempfile.mkdtemp(prefix="nbflow-fanin-bench-"))
    prepare(folder)
    began = time.perf_counter()
    print(f"fan-in through a scheduler, {os.cpu_count()} cores, in {folder}")
    startup: dict[tuple[str, int], float] = {}
    for client in clients:
        for workers in worker_counts:
            runs = [measure(folder, client, 0, workers, 120.0) for _ in range(3)]
            startup[client, workers] = min(r for r in runs if r is not None)
    print(
        "empty run (root only), fastest of 3: "
        + ", ".join(f"{c} w{w} {s:.2f} s" for (c, w), s in startup.items())
    )

    rows: list[tuple[int, int, str, float | None, float | None]] = []
    timed_out: set[tuple[str, int]] = set()
    skipped: set[tuple[int, int]] = set()
    for size in sizes:
        for workers in worker_counts:
            for client in clients:
                is_luigi = client.startswith("luigi")
                timeout = args.luigi_timeout if is_luigi else 600.0
                if (client, size) in timed_out and client == "luigid":
                    rows.append((size, workers, client, None, None))
                    skipped.add((size, workers))
                    continue
                profile = None
                if (
                    args.profile_server
                    and client == "nbflow server"
                    and size == sizes[-1]
                    and workers == worker_counts[-1]
                ):
                    profile = Path(args.profile_server).resolve()
                results = [
                    measure(folder, client, size, workers, timeout, profile)
                    for _ in range(1 if is_luigi else args.repeat)
                ]
                done = [r for r in results if r is not None]
                total = min(done) if done else None
                if total is None:
                    timed_out.add((client, size))
                net = (
                    None
                    if total is None
                    else max(total - startup[client, workers], 1e-3)
                )
                rows.append((size, workers, client, total, net))
                print(
                    f"  N={size:,} w{workers} {client}: total {fmt(total, timeout)} s, "
                    f"net {fmt(net, timeout)} s",
                    flush=True,
                )

    print()
    print(
        "| N | workers | client -> scheduler | total s | net s | tasks/s (net) | vs luigid (net) |"
    )
    print("| --: | --: | --- | --: | --: | --: | --: |")
    for size, workers, client, total, net in rows:
        luigid = (
            next(r[4] for r in rows if r[:3] == (size, workers, "luigid"))
            if ("luigid" in clients)
            else None
        )
        label = {
            "nbflow server": "nbflow run -> nbflow server",
            "luigi -> nbflow server": "luigi -> nbflow server",
            "luigid": "luigi -> luigid",
            "embedded": "nbflow run (embedded)",
        }[client]
        if total is None:
            if (size, workers) in skipped:
                label += " (not run: timed out with fewer workers)"
            print(
                f"| {size:,} | {workers} | {label} | > {args.luigi_timeout:g} | | | |"
            )
            continue
        assert net is not None
        if client == "luigid" or "luigid" not in clients:
            ratio = ""
        elif luigid is None:
            ratio = f"> {(args.luigi_timeout - startup['luigid', workers]) / net:.0f}x"
        else:
            ratio = f"{luigid / net:.1f}x"
        print(
            f"| {size:,} | {workers} | {label} | {total:.2f} | {net:.2f} | "
            f"{(size + 1) / net:,.0f} | {ratio} |"
        )
    print()
    for size in sizes:
        for workers in worker_counts:
            net = next(r[4] for r in rows if r[:3] == (size, workers, "nbflow server"))
            if size == 1000 and net is not None:
                verdict = "PASS" if net <= 0.5 else "MISS"
                print(
                    f"goal: nbflow server, 1,000 tasks, {workers} workers: net <= 0.5 s  "
                    f"{verdict} ({net:.2f} s)"
                )
    if len(sizes) > 1:
        for workers in worker_counts:
            small, large = (
                next(r[4] for r in rows if r[:3] == (s, workers, "nbflow server"))
                for s in (sizes[0], sizes[-1])
            )
            if small and large:
                print(
                    f"growth: nbflow server, {workers} workers: x{sizes[-1] / sizes[0]:g} "
                    f"tasks -> x{large / small:.1f} time (linear: x{sizes[-1] / sizes[0]:g})"
                )
    print(f"(whole benchmark: {time.perf_counter() - began:.0f} s)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
