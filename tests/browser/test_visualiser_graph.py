"""The visualiser's graph page in chromium, against a real server and a real run.

A real ``nbflow server`` (subprocess, SQLite file, a token) and a real ``nbflow run``
of a pipeline whose ``GraphGate`` task waits for a file the test writes: the page
paints while the gate runs, the gate and the top task turn done live when the test
releases it, a click opens the side panel, family groups expand and collapse, and a
task that a second run adds is drawn. The renderer's sanitiser gets hostile SVG.
Every page is watched for script errors and Content-Security-Policy reports.
Screenshots: ``test-artifacts/visualiser-graph-*.png``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import ARTIFACTS, REPOSITORY

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

pytestmark = pytest.mark.slow

TOKEN = "graph-page-test-token-0123456789"  # noqa: S105
LEAVES = 20
PIPELINE = f"""\
import os
import time
from pathlib import Path

import nbflow

OUT = Path(os.environ["GRAPH_PAGE_OUT"])


class GraphPageLeaf(nbflow.Task):
    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(str(OUT / f"leaf-{{self.n}}.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("leaf")


class GraphPageGate(nbflow.Task):
    def requires(self):
        return [GraphPageLeaf(n=n) for n in range({LEAVES // 2})]

    def output(self):
        return nbflow.LocalTarget(str(OUT / "gate.txt"))

    def run(self):
        for _ in range(3000):
            if (OUT / "release").exists():
                break
            time.sleep(0.05)
        with self.output().open("w") as out:
            out.write("gate")


class GraphPageTop(nbflow.Task):
    def requires(self):
        leaves = [GraphPageLeaf(n=n) for n in range({LEAVES // 2}, {LEAVES})]
        return [GraphPageGate(), *leaves]

    def output(self):
        return nbflow.LocalTarget(str(OUT / "top.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("top")


class GraphPageLater(nbflow.Task):
    def requires(self):
        return GraphPageTop()

    def output(self):
        return nbflow.LocalTarget(str(OUT / "later.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("later")
"""
NODES = ".graph-page g.node"


@dataclass
class GraphServer:
    """A running ``nbflow server``, the pipeline's folder, and the run in progress."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    run: subprocess.Popen[bytes] | None = None
    ids: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def start_run(self, task: str) -> subprocess.Popen[bytes]:
        """Start ``nbflow run`` of ``task`` (2 workers) against the server."""
        with (self.folder / f"{task}.log").open("wb") as output:
            return subprocess.Popen(  # our own interpreter and arguments
                [sys.executable, "-m", "nbflow", "run", "--scheduler-url", self.url,
                 "--module", "graph_page_pipeline", task, "--workers", "2"],
                cwd=self.folder, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def get(self, path: str) -> Any:
        """GET a JSON document of the API (local reads need no token)."""
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as reply:  # noqa: S310
            return json.load(reply)

    def task_id(self, family: str) -> str:
        """Return the id of the one task of ``family`` (waits until it is known)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            tasks = self.get(f"/api/v1/tasks?family={family}")["tasks"]
            if tasks:
                return str(tasks[0]["task_id"])
            time.sleep(0.2)
        pytest.fail(f"no {family} task after 60 s:\n{self.log.read_text()[-2000:]}")

    def wait_status(self, task_id: str, status: str) -> None:
        """Wait until the scheduler says ``task_id`` is ``status``."""
        path = f"/api/v1/tasks/{urllib.parse.quote(task_id, safe='')}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.get(path)["task"]["status"] == status:
                return
            time.sleep(0.2)
        pytest.fail(f"{task_id} never became {status}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(server: GraphServer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"nbflow server exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nbflow server never answered:\n{server.log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphServer]:
    """A server running the pipeline; its gate task waits for ``out/release``."""
    folder = tmp_path_factory.mktemp("graph-page")
    (folder / "graph_page_pipeline.py").write_text(PIPELINE)
    (folder / "out").mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "NBFLOW_TOKEN": TOKEN,
        "GRAPH_PAGE_OUT": str(folder / "out"),
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPOSITORY)]),
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "server", "--port", str(port),
             "--db", f"sqlite:///{folder / 'server.db'}"],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = GraphServer(f"http://127.0.0.1:{port}", folder, process, log, env=env)
    try:
        _wait_healthy(server)
        server.run = server.start_run("GraphPageTop")
        for family in ("GraphPageTop", "GraphPageGate"):
            server.ids[family] = server.task_id(family)
        server.wait_status(server.ids["GraphPageGate"], "RUNNING")
        yield server
    finally:
        (folder / "out" / "release").touch()
        _stop(server.run)
        _stop(process)


@dataclass
class Watched:
    """A page and what went wrong on it: script errors, CSP reports."""

    page: Page
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh page that records script errors and Content-Security-Policy reports."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    found = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.violations.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.errors.append(str(error)))
    yield found
    context.close()
    assert found.violations == [], "the Content-Security-Policy refused something"
    assert found.errors == []


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # nodes fade to a new colour in 0.3 s (graph.css)
    page.screenshot(
        animations="disabled", path=ARTIFACTS / f"visualiser-graph-{name}.png"
    )


def _open(page: Page, server: GraphServer, task_id: str, query: str = "") -> None:
    hash_ = f"#/graph/{urllib.parse.quote(task_id, safe='')}{query}"
    page.goto(f"{server.url}/{hash_}")
    page.wait_for_selector(".graph-page[data-painted-at]", timeout=20_000)


def _node(task_id: str) -> str:
    return f"{NODES}[data-id='{task_id}']"


def test_graph_page_paints_and_a_node_turns_done_live(
    graph_server: GraphServer, watched: Watched
) -> None:
    page = watched.page
    top, gate = graph_server.ids["GraphPageTop"], graph_server.ids["GraphPageGate"]
    _open(page, graph_server, top)
    painted_at = page.get_attribute(".graph-page", "data-painted-at")

    assert page.locator(NODES).count() == LEAVES + 2
    assert "RUNNING" in (page.get_attribute(_node(gate), "class") or "")
    assert "PENDING" in (page.get_attribute(_node(top), "class") or "")
    page.locator(_node(gate)).click()
    side = page.locator(".graph-side")
    side.locator(".badge").filter(has_text="running").wait_for()
    assert side.locator("a.graph-task-link").get_attribute("href") == (
        f"#/task/{urllib.parse.quote(gate, safe='')}"
    )
    _shot(page, "running")

    (graph_server.folder / "out" / "release").touch()
    page.wait_for_selector(f"{_node(gate)}.DONE", timeout=30_000)
    page.wait_for_selector(f"{_node(top)}.DONE", timeout=30_000)

    side.locator(".badge").filter(has_text="done").wait_for()
    # recoloured from the event stream, not by drawing the page again
    assert page.get_attribute(".graph-page", "data-painted-at") == painted_at
    assert int(page.get_attribute(".graph-page", "data-applied") or 0) >= 2
    _shot(page, "done")
    side.locator("a.graph-task-link").click()
    page.wait_for_function("() => location.hash.startsWith('#/task/')")


def test_graph_page_groups_expand_and_collapse(
    graph_server: GraphServer, watched: Watched
) -> None:
    page = watched.page
    top = graph_server.ids["GraphPageTop"]
    _open(page, graph_server, top, "?group_above=5")
    leaves = _node("family:GraphPageLeaf")

    assert page.locator(NODES).count() == 3
    page.wait_for_function(
        f"""() => [...document.querySelectorAll("{leaves} .nbflow-share")]
        .reduce((sum, bar) => sum + Number(bar.dataset.count), 0) === {LEAVES}"""
    )
    page.locator(leaves).click()
    page.locator(".graph-side .graph-expand").wait_for()
    _shot(page, "grouped")

    page.locator(leaves).dblclick()
    page.wait_for_function("() => location.hash.includes('expand=GraphPageLeaf')")
    page.wait_for_function(
        f"() => document.querySelectorAll('{NODES}').length === {LEAVES + 2}",
        timeout=20_000,
    )
    assert page.locator(_node("family:GraphPageGate")).count() == 1
    assert page.locator(f"{NODES}[data-id^='GraphPageLeaf_']").count() == LEAVES
    _shot(page, "expanded")

    page.locator(".graph-controls .graph-collapse[data-family=GraphPageLeaf]").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('{NODES}').length === 3", timeout=20_000
    )
    assert "expand=" not in page.evaluate("location.hash")


def test_graph_page_directions_and_hide_done(
    graph_server: GraphServer, watched: Watched
) -> None:
    page = watched.page
    gate = graph_server.ids["GraphPageGate"]
    (graph_server.folder / "out" / "release").touch()
    graph_server.wait_status(graph_server.ids["GraphPageTop"], "DONE")
    _open(page, graph_server, gate)
    assert page.locator(NODES).count() == LEAVES // 2 + 1

    page.locator(".graph-direction[data-direction=downstream]").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('{NODES}').length === 2", timeout=20_000
    )
    page.locator(".graph-hide-done").check()
    page.wait_for_function("() => location.hash.includes('hide_done=1')")
    page.locator(".graph-status").filter(has_text="1 done hidden").wait_for()

    assert page.locator(NODES).count() == 1  # the root stays
    assert page.locator(".graph-direction[aria-pressed=true]").inner_text() == (
        "Downstream"
    )
    _shot(page, "downstream-hide-done")


#: SVG that tries every way to run code or load something; parseSvg must drop it all.
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
    "<script>alert(2)</script>"
    '<g class="node DONE"><title>a</title>'
    '<rect x="0" y="0" width="5" height="5" onclick="alert(3)" style="fill:red"/>'
    '<a href="javascript:alert(4)"><text>x</text></a>'
    "<foreignObject><div>hi</div></foreignObject>"
    '<use href="#a"/><image href="https://example.org/x.png"/>'
    '<animate attributeName="href" to="javascript:alert(5)"/></g>'
    '<rect x="1"/onmouseover="alert(6)"/><text x="1"STYLE="fill:red">y</text></svg>'
)
#: What is left of an SVG parsed by the renderer: elements, and suspicious attributes.
PARSED = """async (text) => {
  const { parseSvg } = await import("/static/shared/graph.js");
  const svg = parseSvg(text);
  const elements = [svg, ...svg.querySelectorAll("*")];
  return {
    tags: [...new Set(elements.map((node) => node.localName))].sort(),
    attributes: elements.flatMap((node) => [...node.attributes].map((a) => a.name))
      .filter((name) => /^on|href|style/i.test(name)),
  };
}"""


def test_graph_renderer_drops_scripts_links_and_handlers(
    graph_server: GraphServer, browser: Browser
) -> None:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{graph_server.url}/#/tasks")
    page.locator("table.tasks").wait_for()

    # (the parser reports the handlers to the CSP, which blocks them: no page watch)
    parsed = page.evaluate(PARSED, HOSTILE_SVG)
    page.wait_for_timeout(300)  # any handler left would have run by now
    context.close()

    assert parsed["tags"] == ["g", "rect", "svg", "text", "title"]
    assert parsed["attributes"] == []
    assert dialogs == []


def test_graph_page_of_an_unknown_task_says_so(
    graph_server: GraphServer, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{graph_server.url}/#/graph/{urllib.parse.quote('<b>nope</b>')}")

    alert = page.get_by_role("alert")
    alert.wait_for()

    assert alert.inner_text() == "The scheduler has no task <b>nope</b>."
    assert page.locator(".graph-page b").count() == 0
    assert not page.locator(".graph-canvas").is_visible()


def test_graph_page_draws_a_task_that_joins_the_graph(
    graph_server: GraphServer, watched: Watched
) -> None:
    page = watched.page
    top = graph_server.ids["GraphPageTop"]
    (graph_server.folder / "out" / "release").touch()
    graph_server.wait_status(top, "DONE")
    _open(page, graph_server, top, "?direction=downstream")
    assert page.locator(NODES).count() == 1

    later = graph_server.start_run("GraphPageLater")
    try:
        # a task the drawing does not know: the page fetches the drawing again
        page.wait_for_selector(f"{NODES}[data-id^='GraphPageLater_']", timeout=30_000)
        assert later.wait(60) == 0
    finally:
        _stop(later)

    page.wait_for_selector(f"{NODES}[data-id^='GraphPageLater_'].DONE", timeout=30_000)
    assert page.locator(NODES).count() == 2
    _shot(page, "grown")
