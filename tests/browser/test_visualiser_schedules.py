"""The visualiser's Schedules page in chromium, against a real server that fires real runs.

A real ``nbflow server`` (subprocess, SQLite file, a token) reads two schedules from
its ``nbflow.toml``: a nightly one whose parameter holds HTML, and one firing every
10 seconds (croniter's sixth field) that runs a real task; a third, whose task fails,
is added through the API. The page must list them with their next and last runs and
outcomes, show the HTML as text, and pause and resume after login (XSRF header), under
the Content-Security-Policy. Screenshots: ``test-artifacts/visualiser-schedules*.png``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
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

TOKEN = "schedules-page-token-0123456789"  # noqa: S105
XSS = "<img src=x onerror=alert(1)>"
JOBS = """\
import nbflow


class SchedulePageReport(nbflow.Task):
    date = nbflow.DateParameter()
    region = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(f"out/report-{self.date}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("report")


class SchedulePageTick(nbflow.Task):
    stamp = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(f"out/tick-{self.stamp}.txt")

    def run(self):
        with self.output().open("w") as handle:
            handle.write("tick")


class SchedulePageBroken(nbflow.Task):
    stamp = nbflow.Parameter()

    def output(self):
        return nbflow.LocalTarget(f"out/broken-{self.stamp}.txt")

    def run(self):
        raise RuntimeError("broken on purpose")
"""
CONFIG = f"""\
[schedule.nightly-report]
cron = "0 2 * * *"
task = "SchedulePageReport"
module = "schedule_page_jobs"
timezone = "Europe/Paris"
param.region = "{XSS}"

[schedule.every-10-seconds]
cron = "* * * * * */10"
task = "SchedulePageTick"
module = "schedule_page_jobs"
date_param = "stamp"
catch_up = "latest"
"""


@dataclass
class Server:
    url: str
    log: Path

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310  (a loopback URL of the test)
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return json.load(reply)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nbflow server exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nbflow server never answered:\n{server.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server firing the config's schedules, plus a failing one added by the API."""
    folder = tmp_path_factory.mktemp("schedules-page")
    (folder / "schedule_page_jobs.py").write_text(JOBS)
    (folder / "nbflow.toml").write_text(CONFIG)
    env = {
        **os.environ,
        "NBFLOW_TOKEN": TOKEN,
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPOSITORY)]),
    }
    port = _free_port()
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbflow", "server", "--port", str(port),
             "--db", f"sqlite:///{folder / 'server.db'}",
             "--schedule-log-dir", str(folder / "fires")],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    found = Server(f"http://127.0.0.1:{port}", log)
    try:
        _wait_healthy(found, process)
        found.call(
            "POST",
            "/api/v1/schedules",
            {"name": "broken-api", "cron": "* * * * * */10", "task": "SchedulePageBroken",
             "module": "schedule_page_jobs", "date_param": "stamp", "catch_up": "latest"},
        )  # fmt: skip
        yield found
    finally:
        process.terminate()  # SIGTERM: the server stops its runs, then itself
        process.wait(60)


@dataclass
class Watched:
    """A page, and what went wrong on it: dialogs, script errors, CSP violations."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@pytest.fixture(params=["light", "dark"])
def watched(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 800}, color_scheme=request.param
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
    assert found.dialogs == [], "a dialog opened: markup from data ran as script"
    assert found.violations == [], "the Content-Security-Policy refused something"
    assert found.errors == []


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    scheme = page.evaluate(
        "matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'"
    )
    page.screenshot(
        animations="disabled",
        path=ARTIFACTS / f"visualiser-{name}-{scheme}.png",
        full_page=True,
    )


def _row(page: Page, name: str) -> Any:
    return page.locator(f'tr[data-schedule="{name}"]')


def test_visualiser_schedules_page_lists_runs_and_pauses_after_login(
    server: Server, watched: Watched
) -> None:
    page = watched.page
    page.goto(f"{server.url}/login")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(f"{server.url}/#/schedules")
    ticking, broken, nightly = (
        _row(page, "every-10-seconds"), _row(page, "broken-api"), _row(page, "nightly-report"),
    )  # fmt: skip
    ticking.locator('[data-outcome="succeeded"]').wait_for(timeout=60_000)
    broken.locator('[data-outcome="failed"]').wait_for(timeout=60_000)

    assert page.locator("table.schedules tbody tr").count() == 3
    assert nightly.locator('[data-param="region"]').inner_text() == f"--region={XSS}"
    assert page.locator("table.schedules img").count() == 0
    assert "never" in nightly.locator("td").nth(4).inner_text()
    assert "(exit 1)" in broken.locator("td").nth(4).inner_text()
    assert "from the config" in nightly.inner_text()
    assert "added through the API" in broken.inner_text()
    _shot(page, "schedules")

    nightly.locator('button[data-action="pause"]').click()
    nightly.locator('button[data-action="resume"]').wait_for()
    listed = server.call("GET", "/api/v1/schedules")["schedules"]
    assert {s["name"]: s["paused"] for s in listed}["nightly-report"] is True
    assert nightly.locator("td").nth(3).inner_text() == "paused"
    nightly.locator('button[data-action="resume"]').click()
    nightly.locator('button[data-action="pause"]').wait_for()
    listed = server.call("GET", "/api/v1/schedules")["schedules"]
    assert {s["name"]: s["paused"] for s in listed}["nightly-report"] is False

    ticking.locator("a").first.click()
    page.locator("table.fires tbody tr").first.wait_for()
    assert page.locator('table.fires [data-outcome="succeeded"]').count() >= 1
    _shot(page, "schedules-fires")


def test_visualiser_schedules_page_offers_no_buttons_before_login(
    server: Server, watched: Watched
) -> None:
    page = watched.page

    page.goto(f"{server.url}/#/schedules")
    _row(page, "nightly-report").wait_for()

    assert page.locator("table.schedules button").count() == 0
    assert (
        page.locator('.nav a[data-page="schedules"]').get_attribute("aria-current")
        == "page"
    )
