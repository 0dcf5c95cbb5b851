"""The web visualiser of ``nbflow server`` in chromium, against real runs of real tasks.

A real ``nbflow server`` (subprocess, SQLite file, a token) gets a real pipeline run
with ``nbflow run --scheduler-url``: 60 leaves, a task that prints and then fails
with HTML in its parameter, status message and error, a second failing task for the
actions, and the task they block. Pages are opened in chromium in light and dark
colour schemes; every page is watched for dialogs (an XSS that ran would ``alert``),
script errors and Content-Security-Policy violations in the console. Screenshots:
``test-artifacts/visualiser-*.png``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import ARTIFACTS, REPOSITORY

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

pytestmark = pytest.mark.slow

TOKEN = "visualiser-test-token-0123456789"  # noqa: S105
XSS = "<img src=x onerror=alert(1)>"
MESSAGE = "<script>alert(2)</script><b>not bold</b>"
LEAVES = 60
#: The page range's dash ("1\u201350 of 63").
DASH = "\u2013"
WRONG_TOKEN = "not-the-token"  # noqa: S105
PIPELINE = f"""\
import os
import time
from pathlib import Path

import nbflow

OUT = Path(os.environ["VISUALISER_OUT"])


class VisualiserLeaf(nbflow.Task):
    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(str(OUT / f"leaf-{{self.n}}.txt"))

    def run(self):
        self.set_progress_percentage(100)
        with self.output().open("w") as out:
            out.write("leaf")


class VisualiserBoom(nbflow.Task):
    label = nbflow.Parameter(default={XSS!r})

    def requires(self):
        return [VisualiserLeaf(n=n) for n in range(3)]

    def output(self):
        return nbflow.LocalTarget(str(OUT / "boom.txt"))

    def run(self):
        print("about to fail <script>alert(3)</script>", flush=True)
        self.set_status_message({MESSAGE!r})
        self.set_tracking_url("javascript:alert(4)")
        raise ValueError("boom <b>not bold</b>")


class VisualiserOops(nbflow.Task):
    tag = nbflow.Parameter(default="first")

    def output(self):
        return nbflow.LocalTarget(str(OUT / f"oops-{{self.tag}}.txt"))

    def run(self):
        raise RuntimeError("oops")


class VisualiserTop(nbflow.Task):
    def requires(self):
        leaves = [VisualiserLeaf(n=n) for n in range({LEAVES})]
        return [VisualiserBoom(), VisualiserOops(), *leaves]

    def output(self):
        return nbflow.LocalTarget(str(OUT / "top.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("top")


class VisualiserSlow(nbflow.Task):
    n = nbflow.IntParameter()
    tag = nbflow.Parameter()
    resources = {{"db": 1}}

    def output(self):
        return nbflow.LocalTarget(str(OUT / f"slow-{{self.tag}}-{{self.n}}.txt"))

    def run(self):
        flag = OUT / "release"
        for step in range(600):
            if flag.exists():
                break
            if step % 5 == 0:
                print(f"tick {{step // 5}}", flush=True)
            self.set_status_message("waiting for the test")
            time.sleep(0.1)
        with self.output().open("w") as out:
            out.write("slow")


class VisualiserSlowAll(nbflow.Task):
    tag = nbflow.Parameter()

    def requires(self):
        return [VisualiserSlow(n=n, tag=self.tag) for n in range(2)]

    def output(self):
        return nbflow.LocalTarget(str(OUT / f"slow-all-{{self.tag}}.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("all")
"""


@dataclass
class Visualiser:
    """A running ``nbflow server`` with the pipeline's module next to it."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, task: str, *extra: str) -> subprocess.Popen[bytes]:
        """Start ``nbflow run`` of ``task`` against the server."""
        with (self.folder / f"{task}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "nbflow", "run", "--scheduler-url", self.url,
                 "--module", "visualiser_pipeline", task, *extra],
                cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def get(self, path: str) -> Any:
        """GET a JSON document of the API (the server answers local reads)."""
        import json

        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as reply:  # noqa: S310
            return json.load(reply)

    def task_id(self, family: str, search: str = "") -> str:
        """Return the id of the one task of ``family`` (whose id holds ``search``)."""
        tasks = self.get(f"/api/v1/tasks?family={family}&search={search}")["tasks"]
        assert len(tasks) == 1, tasks
        return str(tasks[0]["task_id"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(server: Visualiser) -> None:
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


@pytest.fixture(scope="module")
def visualiser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visualiser]:
    """A server that ran the pipeline once (VisualiserBoom and VisualiserOops fail)."""
    folder = tmp_path_factory.mktemp("visualiser")
    (folder / "visualiser_pipeline.py").write_text(PIPELINE)
    (folder / "out").mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "NBFLOW_TOKEN": TOKEN,
        "VISUALISER_OUT": str(folder / "out"),
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPOSITORY)]),
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "server", "--port", str(port),
             "--db", f"sqlite:///{folder / 'server.db'}", "--resource", "db=2"],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Visualiser(f"http://127.0.0.1:{port}", folder, process, log, env)
    try:
        _wait_healthy(server)
        pipeline = server.run("VisualiserTop")
        assert pipeline.wait(120) != 0  # two tasks fail
        yield server
    finally:
        process.terminate()
        process.wait(30)


@dataclass
class Watched:
    """A page, and what went wrong on it: dialogs, script errors, CSP violations."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.dialogs == [], "a dialog opened: markup from data ran as script"
        assert self.violations == [], "the Content-Security-Policy refused something"
        assert self.errors == []


@pytest.fixture(params=["light", "dark"])
def watched(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Watched]:
    """A fresh page (light or dark colour scheme) that records what went wrong."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=request.param
    )
    page = context.new_page()
    found = Watched(page)

    def on_dialog(dialog: Dialog) -> None:
        found.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.violations.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: found.errors.append(str(error)))
    yield found
    context.close()
    found.check()


def _shot(watched: Watched, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    scheme = watched.page.evaluate(
        "matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'"
    )
    watched.page.screenshot(
        animations="disabled", path=ARTIFACTS / f"visualiser-{name}-{scheme}.png"
    )


def _log_in(page: Page, server: Visualiser, token: str = TOKEN) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")


def _rows(page: Page) -> Any:
    return page.locator("table.tasks tbody tr")


# --- the task list --------------------------------------------------------------------


def test_visualiser_task_list_filters_searches_sorts_and_pages(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{visualiser.url}/#/tasks?limit=50")
    total = LEAVES + 3

    page.get_by_role("heading", name=f"Tasks ({total})").wait_for()
    assert _rows(page).count() == 50
    assert page.get_by_test_id("page-range").inner_text() == f"1{DASH}50 of {total}"
    _shot(watched, "tasks")
    page.get_by_role("button", name="Next →").click()
    page.get_by_test_id("page-range").filter(
        has_text=f"51{DASH}{total} of {total}"
    ).wait_for()
    assert _rows(page).count() == total - 50

    page.locator("button.filter[data-state=FAILED]").click()
    page.get_by_role("heading", name="Tasks (2)").wait_for()
    failed = sorted(_rows(page).locator("a.task-link").all_inner_texts())
    assert [name.split("_")[0] for name in failed] == [
        "VisualiserBoom",
        "VisualiserOops",
    ]
    assert "status=FAILED" in page.url

    page.locator("button.filter[aria-pressed=true]").click()  # drop the filter
    page.get_by_test_id("task-search").fill("onerror")  # a parameter value
    page.get_by_role("heading", name="Tasks (1)").wait_for()
    assert page.locator("td.id .params").inner_text().strip() == f"label={XSS}"
    assert page.locator("main img").count() == 0

    page.get_by_test_id("task-search").fill("")
    page.get_by_test_id("family-filter").select_option("VisualiserLeaf")
    page.get_by_role("heading", name=f"Tasks ({LEAVES})").wait_for()
    page.locator("th[data-sort=id]").click()
    page.locator("th[data-sort=id][aria-sort=ascending]").wait_for()
    first = _rows(page).first.locator("a.task-link").inner_text()
    page.locator("th[data-sort=id]").click()
    page.locator("th[data-sort=id][aria-sort=descending]").wait_for()
    page.wait_for_function(
        "first => document.querySelector('table.tasks tbody a.task-link')"
        ".textContent !== first",
        arg=first,
    )
    last = _rows(page).first.locator("a.task-link").inner_text()
    assert first < last


# --- one task -------------------------------------------------------------------------


def test_visualiser_task_page_shows_the_failure_as_text(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    task_id = visualiser.task_id("VisualiserBoom")
    has_log = _log_endpoint(visualiser, task_id)

    page.goto(f"{visualiser.url}/#/task/{urllib.parse.quote(task_id, safe='')}")

    page.get_by_test_id("traceback").wait_for()
    assert (
        'raise ValueError("boom <b>not bold</b>")'
        in page.get_by_test_id("traceback").inner_text()
    )
    assert (
        page.locator(".task-error").inner_text() == "ValueError: boom <b>not bold</b>"
    )
    assert page.locator(".status-message").inner_text() == MESSAGE
    assert page.locator("td.param-value").inner_text() == XSS
    assert page.locator("main img, main script, main b").count() == 0
    # a tracking URL that is not http(s) is shown, never made a link
    assert page.locator("a.tracking-url").count() == 0
    page.locator("table.runs tbody tr").first.wait_for()
    assert "failed" in page.locator("table.runs tbody tr").first.inner_text()
    if has_log:
        page.get_by_test_id("task-log").filter(has_text="about to fail").wait_for()
        assert "<script>" in page.get_by_test_id("task-log").inner_text()
    else:
        page.get_by_text("No log.").wait_for()
    assert page.locator("a.graph-link").count() == 3
    _shot(watched, "task")


def _log_endpoint(server: Visualiser, task_id: str) -> bool:
    """Return whether the server keeps task logs (GET .../log answers)."""
    try:
        server.get(f"/api/v1/tasks/{urllib.parse.quote(task_id, safe='')}/log")
    except urllib.error.HTTPError:
        return False
    return True


# --- workers --------------------------------------------------------------------------


def test_visualiser_workers_page_shows_what_runs_and_resources(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    release = visualiser.folder / "out" / "release"
    release.unlink(missing_ok=True)
    tag = uuid.uuid4().hex[:8]
    run = visualiser.run("VisualiserSlowAll", "--tag", tag, "--workers", "2")
    try:
        page.goto(f"{visualiser.url}/#/workers")

        card = page.locator("article.card").filter(has_text=tag)
        card.locator("a.task-link").nth(1).wait_for()
        text = card.inner_text()
        assert "2 busy of 2" in text
        assert socket.gethostname() in text
        page.locator("tr[data-resource=db]").filter(has_text="2 / 2").wait_for()
        assert page.locator("button[data-action=cancel]").count() == 0  # not logged in
        _shot(watched, "workers")

        card.locator("a.task-link").first.click()
        log = page.get_by_test_id("task-log")
        log.filter(has_text="tick 0").wait_for()
        ticks = [int(n) for n in re.findall(r"tick (\d+)", log.inner_text())]
        log.filter(
            has_text=f"tick {max(ticks) + 2}"
        ).wait_for()  # live: never read again
        shown = re.findall(r"tick (\d+)", log.inner_text())
        assert shown == [str(n) for n in range(len(shown))]  # each once, in order
    finally:
        release.touch()
        run.wait(120)


# --- history --------------------------------------------------------------------------


def test_visualiser_history_draws_runs_and_failure_rates(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{visualiser.url}/#/history")

    chart = page.get_by_test_id("history-chart")
    chart.locator("circle.dot.failed").nth(1).wait_for(state="attached")
    assert chart.locator("circle.dot.ok").count() >= LEAVES
    boom = page.locator("tr[data-family=VisualiserBoom]")
    assert re.split(r"\s+", boom.inner_text().strip())[:4] == [
        "VisualiserBoom", "1", "1", "100%",
    ]  # fmt: skip
    _shot(watched, "history")

    page.get_by_test_id("history-search").fill("VisualiserOops_first")
    page.locator("table.runs tbody tr").filter(has_text="RuntimeError: oops").wait_for()
    page.wait_for_function(
        "document.querySelectorAll('table.runs tbody tr').length === 1"
    )
    assert "task=VisualiserOops_first" in page.url


# --- logging in, and acting ------------------------------------------------------------


def test_visualiser_login_then_retry_and_mark_done(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    tag = uuid.uuid4().hex[:8]
    assert visualiser.run("VisualiserOops", "--tag", tag).wait(120) != 0
    task_id = visualiser.task_id("VisualiserOops", tag)
    task_url = f"{visualiser.url}/#/task/{urllib.parse.quote(task_id, safe='')}"
    page.goto(task_url)
    page.get_by_role("link", name="Log in").wait_for()
    assert page.locator("button[data-action]").count() == 0

    _log_in(page, visualiser, token=WRONG_TOKEN)
    page.locator(".login-error").wait_for()
    _shot(watched, "login")
    _log_in(page, visualiser)
    page.get_by_role("button", name="Log out").wait_for()
    page.goto(task_url)

    page.locator("button[data-action=retry]").click()
    page.locator(".badge.state-pending").first.wait_for()
    page.locator("button[data-action=mark-done]").click()
    page.locator("button[data-action=confirm-mark-done]").click()
    page.locator("main .badge.state-done").first.wait_for()
    assert (
        visualiser.get(f"/api/v1/tasks/{urllib.parse.quote(task_id, safe='')}")["task"][
            "status"
        ]
        == "DONE"
    )
    _shot(watched, "task-actions")

    page.get_by_role("button", name="Pause").click()
    page.locator("#banner").filter(has_text="Paused").wait_for()
    assert visualiser.get("/api/v1/scheduler")["paused"] is True
    page.locator("#banner").get_by_role("button", name="Resume").click()
    page.locator("#banner").wait_for(state="hidden")
    assert visualiser.get("/api/v1/scheduler")["paused"] is False

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()


def test_visualiser_cancels_a_workers_run_after_login(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    (visualiser.folder / "out" / "release").unlink(missing_ok=True)
    tag = uuid.uuid4().hex[:8]
    run = visualiser.run("VisualiserSlowAll", "--tag", tag, "--workers", "2")
    try:
        _log_in(page, visualiser)
        page.get_by_role("button", name="Log out").wait_for()
        page.goto(f"{visualiser.url}/#/workers")
        card = page.locator("article.card").filter(has_text=tag)
        card.locator("a.task-link").nth(1).wait_for()

        card.locator("button[data-action=cancel]").click()
        card.locator("button[data-action=confirm-cancel]").click()

        run.wait(120)  # it stops as on Ctrl-C, long before the tasks would end
        log = (visualiser.folder / "VisualiserSlowAll.log").read_text()
        assert "asked worker" in log
        assert "cancel its run" in log
        page.locator("article.card").filter(has_text=tag).wait_for(state="detached")
    finally:
        (visualiser.folder / "out" / "release").touch()
        run.wait(120)
    slow = visualiser.get(f"/api/v1/tasks?family=VisualiserSlow&search={tag}")
    assert {task["status"] for task in slow["tasks"]} <= {"CANCELLED", "PENDING"}


# --- the shared helpers ----------------------------------------------------------------


def test_visualiser_lib_builds_text_and_refuses_unsafe_links(
    visualiser: Visualiser, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{visualiser.url}/#/workers")
    page.get_by_role("heading", name=re.compile("Workers")).wait_for()

    found = page.evaluate(
        """async (xss) => {
        const lib = await import("/static/lib.js");
        const box = lib.el("div", { class: "x", "data-a": "1" }, xss, ["b", 2]);
        const bad = lib.el("a", { href: "javascript:alert(5)" }, "no");
        const outside = lib.el("a", { href: "//evil.example/" }, "no");
        let refused = "";
        try {
            lib.el("img", { onerror: "alert(6)" });
        } catch (error) {
            refused = error.message;
        }
        return {
            html: box.innerHTML,
            text: box.textContent,
            badHref: bad.hasAttribute("href"),
            outsideHref: outside.hasAttribute("href"),
            refused,
            link: lib.taskLink("a/b?c#d").getAttribute("href"),
            durations: [0.25, 12.34, 125, 7322].map(lib.duration),
        };
    }""",
        XSS,
    )

    assert found["html"] == "&lt;img src=x onerror=alert(1)&gt;b2"
    assert found["text"] == f"{XSS}b2"
    assert found["badHref"] is False
    assert found["outsideHref"] is False
    assert "onerror is not allowed" in found["refused"]
    assert found["link"] == "#/task/a%2Fb%3Fc%23d"
    assert found["durations"] == ["250 ms", "12 s", "2 min 05 s", "2 h 02 min"]
