"""The visualiser's graph page in chromium: first paint and live update rate.

A real ``nbflow server`` (subprocess, SQLite in a temp folder) gets N tasks from a
worker that talks the server's HTTP API directly (``POST /api/v1/workers/W/calls``):
ten families of N/10 tasks, each task requiring the one of the same index in the
family before, and a root requiring the last family's tasks. Debian's chromium
(Playwright) opens ``#/graph/<root>``, grouped by family (the default) and ungrouped
(``group_above`` above N: one node per task, the pure-Python layout).

- ``layout``: GET .../drawing timed from Python, cold (laid out) and warm (cached);
- ``first paint``: navigation start to the drawing painted (the page's
  ``data-painted-at``, two animation frames after the SVG went in);
- ``updates``: the worker then runs every task (RunTask actions in, TaskSucceeded out,
  in calls of up to 500 events: 2 N state changes reach the page through the event
  stream); timed from the first call to the root drawn done. ``changes/s`` is what the
  page applied over that time, ``frames`` the animation frames that applied some, and
  ``max gap`` the longest time between two animation frames meanwhile (how long the
  page was unresponsive at worst).

Prints numbers; never asserts. Goal: a 10,000-task graph paints in <= 2 s.

    python benchmarks/visualiser_graph.py [--sizes 1000,10000] [--no-ungrouped-small]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nbflow.core import wire  # noqa: E402  (the checkout's nbflow)
from nbflow.core.events import (  # noqa: E402
    TasksDiscovered,
    TaskSpec,
    TaskSucceeded,
    WorkerStarted,
)

TOKEN = "graph-bench-token-0123456789"
CHROMIUM = "/usr/bin/chromium"
FAMILIES = 10
BATCH = 500
WORKER = "bench-worker"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _specs(size: int) -> tuple[list[TaskSpec], str]:
    """Return the tasks (families of size/10 chained by index) and the root's id."""
    per = max(size // FAMILIES, 1)
    specs = []
    for family in range(FAMILIES):
        for index in range(per):
            deps = (f"Stage{family - 1}_{index}",) if family else ()
            specs.append(
                TaskSpec(
                    f"Stage{family}_{index}",
                    f"Stage{family}",
                    params=(("i", str(index)),),
                    deps=deps,
                )
            )
    root = TaskSpec(
        "Report_all",
        "Report",
        deps=tuple(f"Stage{FAMILIES - 1}_{i}" for i in range(per)),
    )
    return [*specs, root], root.task_id


@dataclass
class Server:
    """A running ``nbflow server`` and a keep-alive connection to it."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    def call(self, events: list[Any]) -> dict[str, Any]:
        """Send one worker call; return its reply."""
        body = json.dumps({"events": [wire.to_json(e) for e in events]})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request(
                "POST",
                f"/api/v1/workers/{WORKER}/calls",
                body=body,
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "Content-Type": "application/json",
                },
            )
            reply = connection.getresponse()
            data = reply.read()
        finally:
            connection.close()
        if reply.status != 200:
            msg = f"worker call failed: {reply.status} {data[:300]!r}"
            raise RuntimeError(msg)
        answer: dict[str, Any] = json.loads(data)
        return answer

    def get(self, path: str) -> tuple[float, bytes]:
        """GET ``path``; return (seconds, body)."""
        started = time.perf_counter()
        with urllib.request.urlopen(f"{self.url}{path}", timeout=300) as reply:
            body = reply.read()
        return time.perf_counter() - started, body


def start_server(folder: Path) -> Server:
    """Start ``nbflow server`` on a free port; wait until it answers."""
    port = _free_port()
    env = {**os.environ, "NBFLOW_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "server", "--port", str(port),
             "--db", f"sqlite:///{folder / 'server.db'}",
             "--worker-disconnect-delay", "3600", "--remove-delay", "0"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", port, process, folder)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            server.get("/healthz")
        except OSError:
            time.sleep(0.2)
        else:
            return server
    msg = f"nbflow server did not start: {(folder / 'server.log').read_text()[-2000:]}"
    raise RuntimeError(msg)


def _drawing_path(root: str, query: str) -> str:
    return f"/api/v1/tasks/{urllib.parse.quote(root, safe='')}/drawing?{query}"


def _page_path(root: str, query: str) -> str:
    return f"/#/graph/{urllib.parse.quote(root, safe='')}{'?' + query if query else ''}"


#: Started in the page before the stream: the longest gap between animation frames.
FRAME_WATCH = """() => {
  window.__gap = 0;
  let last = performance.now();
  const tick = (now) => {
    window.__gap = Math.max(window.__gap, now - last);
    last = now;
    if (!window.__stopWatch) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def measure(browser: Any, size: int, *, grouped: bool) -> dict[str, Any]:
    """Run one measurement on a fresh server; return its numbers."""
    folder = Path(tempfile.mkdtemp(prefix="nbflow-graph-bench-"))
    server = start_server(folder)
    try:
        specs, root = _specs(size)
        first = server.call(
            [WorkerStarted(WORKER, slots=size + 1), TasksDiscovered(tuple(specs))]
        )
        query = "" if grouped else f"group_above={size + 10}"
        api_query = "direction=upstream" + ("" if grouped else f"&{query}")
        cold, body = server.get(_drawing_path(root, api_query))
        warm, _ = server.get(_drawing_path(root, api_query))
        drawing = json.loads(body)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(server.url + _page_path(root, query))
        page.wait_for_selector(".graph-page[data-painted-at]", timeout=120_000)
        painted = float(page.get_attribute(".graph-page", "data-painted-at") or "nan")
        nodes = page.locator(".graph-page g.node").count()
        page.evaluate(FRAME_WATCH)
        updates = _run_all(server, page, first, "family:Report" if grouped else root)
        page.evaluate("() => { window.__stopWatch = true; }")
        gap = float(page.evaluate("() => window.__gap"))
        applied = int(page.get_attribute(".graph-page", "data-applied") or 0)
        frames = int(page.get_attribute(".graph-page", "data-frames") or 0)
        context.close()
        return {
            "tasks": size + 1,
            "mode": "grouped" if grouped else "ungrouped",
            "nodes": nodes,
            "engine": drawing["engine"],
            "svg_mb": len(drawing["svg"]) / 1e6,
            "cold": cold,
            "warm": warm,
            "paint": painted / 1000,
            "stream_s": updates,
            "applied": applied,
            "rate": applied / updates if updates else float("nan"),
            "frames": frames,
            "gap": gap / 1000,
        }
    finally:
        server.process.terminate()
        server.process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def _run_all(server: Server, page: Any, reply: dict[str, Any], root_node: str) -> float:
    """Run every task through worker calls; return seconds until the page shows it.

    ``reply`` is the answer to the call that discovered the tasks (its RunTask
    actions are the first tasks to run).
    """
    started = time.perf_counter()
    running: list[str] = []
    while True:
        running.extend(
            action["task_id"]
            for action in reply.get("actions", [])
            if action.get("type") == "RunTask"
        )
        if not running:
            break
        batch, running = running[:BATCH], running[BATCH:]
        reply = server.call([TaskSucceeded(task_id) for task_id in batch])
    page.wait_for_selector(
        f".graph-page g.node[data-id='{root_node}'].DONE", timeout=300_000
    )
    return time.perf_counter() - started


def main() -> None:
    """Parse arguments, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--ungrouped-above",
        type=int,
        default=5000,
        help="also measure ungrouped drawings of sizes at least this (default 5000)",
    )
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs = []
    for size in (int(text) for text in options.sizes.split(",")):
        runs.append((size, True))
        if size >= options.ungrouped_above:
            runs.append((size, False))
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--headless", "--no-first-run"],
        headless=True,
    )
    try:
        header = (
            f"{'tasks':>7} {'mode':>9} {'nodes':>6} {'engine':>8} {'svg MB':>6} "
            f"{'layout':>7} {'cached':>7} {'paint':>6} {'stream':>7} "
            f"{'applied':>7} {'changes/s':>9} {'frames':>6} {'max gap':>7}"
        )
        print(header)
        for size, grouped in runs:
            row = measure(browser, size, grouped=grouped)
            print(
                f"{row['tasks']:>7} {row['mode']:>9} {row['nodes']:>6} "
                f"{row['engine']:>8} {row['svg_mb']:>6.2f} {row['cold']:>6.2f}s "
                f"{row['warm']:>6.2f}s {row['paint']:>5.2f}s {row['stream_s']:>6.2f}s "
                f"{row['applied']:>7} {row['rate']:>9.0f} {row['frames']:>6} "
                f"{row['gap']:>6.2f}s",
                flush=True,
            )
    finally:
        browser.close()
        playwright.stop()


if __name__ == "__main__":
    main()
