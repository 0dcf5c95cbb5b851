"""The live run view in a real JupyterLab 4, driven by Debian's chromium.

The first scenario (a 20-task graph run with ``%nbflow run Root --workers 2``, see
``live_run``) is shared with Notebook 7. The others are Lab's: a kernel interrupt in
the middle of a run, a 1,000-pixel window with the sidebar open, the dark theme with a
2,000-task family drawn as one group and opened, and a task's printed output in its
details; text contrast is measured in both themes. Two foreground runs (the cell waits,
so the kernel answers no click) check that a failed or running task's details, and a
group's tasks failures first, show from what the view synced ahead, and that the run's
last state opens into the same. Runs that must stay live while the
test looks at them run in the background and wait for a gate file the test writes at
the end (a run's live view becomes its static last state when it ends). All share one
Lab server; each saves screenshots into ``test-artifacts/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.live_run import (
    NODES,
    SNAPSHOT,
    check_live_run,
    final_states,
    notebook_text,
    run_all,
    show_view,
    write_cells,
    write_notebook,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::ResourceWarning")]

#: Tasks that wait for ``gate_<name>`` in the notebook's folder before they end.
GATED = """\
import os
import time

import nbflow


def wait_for_gate(name):
    while not os.path.exists(f"gate_{name}"):
        time.sleep(0.05)
"""

#: The WCAG contrast of pairs of elements' colours, computed in the page.
CONTRAST = """(pairs) => {
  const parse = (text) => {
    const v = (text.match(/[\\d.]+/g) || ["0", "0", "0", "0"]).map(Number);
    return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1,
  });
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (node) => {
    const layers = [];
    for (let e = node; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    const white = { r: 255, g: 255, b: 255, a: 1 };
    return layers.reverse().reduce((under, top) => over(top, under), white);
  };
  const ratio = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  return pairs.flatMap(([textSelector, fillSelector]) =>
    [...document.querySelectorAll(textSelector)].map((text) => {
      const style = getComputedStyle(text);
      const shape = fillSelector && text.parentElement.querySelector(fillSelector);
      const under = shape ? parse(getComputedStyle(shape).fill) : background(text);
      const ink = parse(text instanceof SVGElement ? style.fill : style.color);
      return { what: `${textSelector}: ${text.textContent.slice(0, 40)}`,
               ratio: Math.round(ratio(over(ink, under), under) * 100) / 100 };
    }));
}"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A Lab page, closed at the end of the test."""
    made = browser.new_page(viewport={"width": 1400, "height": 1100})
    yield made
    made.close()


def _fail(
    page: Page, lab: Server, artifacts: Path, stem: str, errors: list[str]
) -> None:
    page.screenshot(animations="disabled", path=artifacts / f"{stem}_failure.png")
    pytest.fail(f"page errors: {errors}\n{notebook_text(page, lab)}")


def test_lab_run_view_goes_live_to_done(
    lab: Server, browser: Browser, artifacts: Path
) -> None:
    name = write_notebook(lab.root)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    try:
        check_live_run(page, lab, f"lab/tree/{name}", artifacts, "lab")
    finally:
        page.close()


SLOW = '''\
import time

import nbflow


class SlowInterruptStep(nbflow.Task):
    """Takes a minute unless interrupted."""

    i = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(f"slow/{self.i}.txt")

    def run(self):
        for _ in range(1200):
            time.sleep(0.05)
        with self.output().open("w") as out:
            out.write("ok")


class SlowInterruptRoot(nbflow.WrapperTask):
    def requires(self):
        return [SlowInterruptStep(i=i) for i in range(6)]
'''


def test_lab_interrupt_mid_run_leaves_nothing_running(
    page: Page, lab: Server, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "interrupt.ipynb",
        ["%load_ext nbflow", SLOW, "%nbflow run SlowInterruptRoot --workers 2"],
    )
    errors = run_all(page, lab, f"lab/tree/{name}")
    try:
        page.wait_for_function(
            f"document.querySelectorAll('{NODES}.RUNNING').length === 2",
            timeout=45_000,
        )
        show_view(page)
        page.screenshot(
            animations="disabled", path=artifacts / "lab_interrupt_running.png"
        )

        page.evaluate(
            "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".interrupt()"
        )
        page.wait_for_selector(f"{SNAPSHOT} .nbflow-summary", timeout=45_000)

        summary = page.inner_text(f"{SNAPSHOT} .nbflow-summary")
        legend = page.inner_text(f"{SNAPSHOT} .nbflow-legend")
        nodes = final_states(page)
        page.evaluate(f"document.querySelector('{SNAPSHOT}').scrollIntoView()")
        page.screenshot(animations="disabled", path=artifacts / "lab_interrupt.png")
        assert summary.startswith("cancelled: 7 tasks: ")
        assert "2 cancelled" in summary
        assert "running" not in summary
        assert "running" not in legend
        assert nodes == ["CANCELLED"] * 2 + ["PENDING"] * 5
        assert page.locator(f"{NODES}.RUNNING").count() == 0
        assert errors == []
    except Exception:
        _fail(page, lab, artifacts, "lab_interrupt", errors)


NARROW = '''\
class DownloadTheDailySalesExportFromTheRegionalWarehouse(nbflow.Task):
    """Prints as it goes; the 3 June export waits for the gate."""

    day = nbflow.DateParameter()

    def output(self):
        return nbflow.LocalTarget(f"narrow/download_{self.day}.csv")

    def run(self):
        for number in range(80):
            print(f"downloaded chunk {number} of {self.day}")
        if str(self.day) == "2024-06-03":
            wait_for_gate("narrow")
        with self.output().open("w") as out:
            out.write("ok")


class CleanTheDailySales(nbflow.Task):
    day = nbflow.DateParameter()

    def requires(self):
        return DownloadTheDailySalesExportFromTheRegionalWarehouse(day=self.day)

    def output(self):
        return nbflow.LocalTarget(f"narrow/clean_{self.day}.csv")

    def run(self):
        with self.output().open("w") as out:
            out.write("ok")


class WeeklySalesReport(nbflow.WrapperTask):
    def requires(self):
        return [CleanTheDailySales(day=f"2024-06-0{day}") for day in range(1, 8)]
'''
#: For each node label: its text, its font size on screen, whether it fits the box.
LABELS = """() => [...document.querySelectorAll('.nbflow-view g.node text')].map((text) => {
  const box = text.closest('.nbflow-graph').getBoundingClientRect();
  const rect = text.getBoundingClientRect();
  return { text: text.textContent,
           px: Number(text.getAttribute('font-size')) * text.getScreenCTM().a,
           inside: rect.left >= box.left - 1 && rect.right <= box.right + 1,
           at: [rect.left, rect.right, box.left, box.right] };
})"""


def test_lab_narrow_window_keeps_labels_readable_and_shows_task_output(
    browser: Browser, lab: Server, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "narrow.ipynb",
        [
            "%load_ext nbflow",
            GATED + NARROW,
            "%nbflow run WeeklySalesReport --workers 2 --background",
        ],
    )
    (lab.root / "gate_narrow").unlink(missing_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    try:
        errors = run_all(page, lab, f"lab/tree/{name}")
        page.evaluate("window.jupyterapp.shell.activateById('filebrowser')")
        page.wait_for_function(
            f"document.querySelectorAll('{NODES}.DONE').length >= 6", timeout=45_000
        )
        assert not page.evaluate("window.jupyterapp.shell.leftCollapsed")
        download = page.locator(f"{NODES}[data-id^='DownloadTheDaily']").filter(
            has_text="(day=2024-06-03)"
        )
        download.scroll_into_view_if_needed()
        labels = page.evaluate(LABELS)
        show_view(page)
        page.screenshot(animations="disabled", path=artifacts / "lab_narrow.png")
        box = page.evaluate(
            "(() => { const g = document.querySelector('.nbflow-graph');"
            " return [g.clientHeight, g.querySelector('svg').getBoundingClientRect()"
            ".height]; })()"
        )

        contrast = page.evaluate(
            CONTRAST,
            [
                [".nbflow-view g.node > text", "path, polygon, rect"],
                [".nbflow-view .nbflow-legend-item > span:last-child", None],
                [".nbflow-view .nbflow-overall-text", None],
                [".nbflow-view .nbflow-label", None],
            ],
        )
        assert min(label["px"] for label in labels) >= 11, labels
        assert all(item["ratio"] >= 4.5 for item in contrast), contrast  # light theme
        assert any(label["inside"] for label in labels), labels
        shown = [label for label in labels if "day=2024-06-03" in label["text"]]
        assert len(shown) == 2, labels
        assert all(label["text"].endswith("(day=2024-06-03)") for label in shown)
        assert any(label["inside"] for label in shown), labels
        assert abs(box[0] - min(box[1], 480)) < 20, box  # no empty bands

        page.locator(f"{NODES}[data-id^='DownloadTheDaily']").filter(
            has_text="(day=2024-06-01)"
        ).click()
        page.wait_for_selector(".nbflow-detail pre.nbflow-output")
        page.wait_for_function(
            "document.querySelector('.nbflow-output')?.textContent.includes("
            "'downloaded chunk 79 of 2024-06-01')",
            timeout=15_000,
        )
        # details synced ahead of a click hold the last 50 lines; the kernel's answer
        # to the click, the selected task's whole captured output, follows
        page.wait_for_function(
            "document.querySelector('.nbflow-output')?.textContent.includes("
            "'downloaded chunk 0 of 2024-06-01')",
            timeout=15_000,
        )
        # shown from its last lines (the box is scrolled after each redraw)
        page.wait_for_function(
            """() => {
              const box = document.querySelector('.nbflow-detail pre.nbflow-output');
              return box && box.scrollHeight > box.clientHeight
                && box.scrollHeight - box.scrollTop - box.clientHeight < 4;
            }""",
            timeout=10_000,
        )
        page.evaluate(
            "document.querySelector('.nbflow-detail').scrollIntoView({block: 'end'})"
        )
        page.screenshot(animations="disabled", path=artifacts / "lab_task_output.png")
        assert page.inner_text(".nbflow-detail-title").endswith("(day=2024-06-01)")
        assert errors == []
    except Exception:
        _fail(page, lab, artifacts, "lab_narrow", errors)
    finally:
        (lab.root / "gate_narrow").touch()
        page.close()


GROUP = '''\
class LeafPart(nbflow.Task):
    """One part of 2,000; part 1234 is corrupt, part 1999 waits for the gate."""

    i = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(f"parts/{self.i}.txt")

    def run(self):
        if self.i == 1234:
            raise ValueError("part 1234 is corrupt")
        if self.i == 1999:
            wait_for_gate("dark")
        with self.output().open("w") as out:
            out.write("ok")


class AllParts(nbflow.WrapperTask):
    def requires(self):
        return [LeafPart(i=i) for i in range(2000)]
'''


def _set_theme(page: Page, theme: str) -> None:
    page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme})",
        theme,
    )
    light = "true" if "Light" in theme else "false"
    page.wait_for_selector(
        f"body[data-jp-theme-light='{light}']", state="attached", timeout=20_000
    )


def test_lab_dark_theme_group_opens_into_its_tasks(
    page: Page, lab: Server, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "group.ipynb",
        [
            "%load_ext nbflow",
            GATED + GROUP,
            "%nbflow run AllParts --workers 2 --background",
        ],
    )
    (lab.root / "gate_dark").unlink(missing_ok=True)
    group = f"{NODES}[data-id='family:LeafPart']"
    errors: list[str] = []
    try:
        errors = run_all(page, lab, f"lab/tree/{name}")
        _set_theme(page, "JupyterLab Dark")
        page.wait_for_selector(f"{group} .nbflow-share.FAILED", timeout=90_000)
        page.wait_for_function(
            f'document.querySelector("{group} .nbflow-share.DONE")'
            "?.dataset.count === '1998'",
            timeout=90_000,
        )
        show_view(page)
        page.screenshot(animations="disabled", path=artifacts / "lab_dark_group.png")
        failed_width = page.eval_on_selector(
            f"{group} .nbflow-share.FAILED", "r => r.getBoundingClientRect().width"
        )
        fill = page.eval_on_selector(f"{group} > path", "p => getComputedStyle(p).fill")
        hover = page.text_content(f"{group} > title") or ""
        contrast = page.evaluate(
            CONTRAST,
            [
                [".nbflow-view g.node > text", "path, polygon, rect"],
                [".nbflow-view .nbflow-legend-item > span:last-child", None],
                [".nbflow-view .nbflow-overall-text", None],
            ],
        )
        canvas = page.eval_on_selector(
            ".nbflow-graph", "g => getComputedStyle(g).backgroundColor"
        )

        assert failed_width >= 2
        assert fill != "rgb(229, 115, 115)"  # not painted red by one failure
        assert "1,998 done" in hover
        assert "1 failed" in hover
        assert canvas != "rgb(255, 255, 255)"
        assert contrast
        assert all(item["ratio"] >= 4.5 for item in contrast), contrast

        page.locator(group).click()
        page.wait_for_function(
            "document.querySelectorAll('.nbflow-task-list li').length === 200",
            timeout=15_000,
        )
        assert page.inner_text(".nbflow-detail-title") == "LeafPart"
        first = page.inner_text(".nbflow-task-list li:first-child")
        assert "LeafPart(i=1234)" in first
        assert "failed" in first
        page.fill(".nbflow-filter", "i=1999)")
        page.wait_for_function(
            "document.querySelectorAll('.nbflow-task-list li').length === 1"
        )
        page.evaluate(
            "document.querySelector('.nbflow-detail').scrollIntoView({block: 'end'})"
        )
        page.screenshot(animations="disabled", path=artifacts / "lab_group_list.png")
        page.fill(".nbflow-filter", "i=1234)")
        page.wait_for_function(
            "document.querySelector('.nbflow-task-list li')?.textContent"
            ".includes('LeafPart(i=1234)')"
        )
        page.click(".nbflow-task-list li button")
        page.wait_for_selector(".nbflow-detail pre.nbflow-traceback", timeout=15_000)
        assert page.inner_text(".nbflow-detail-title") == "LeafPart(i=1234)"
        assert "part 1234 is corrupt" in page.inner_text(".nbflow-detail .nbflow-error")
        assert "failed" in page.inner_text(".nbflow-detail .nbflow-params")
        page.evaluate(
            "document.querySelector('.nbflow-detail').scrollIntoView({block: 'end'})"
        )
        page.screenshot(animations="disabled", path=artifacts / "lab_group_task.png")

        (lab.root / "gate_dark").touch()
        page.wait_for_selector(f"{SNAPSHOT} .nbflow-summary", timeout=60_000)
        ended = page.evaluate(CONTRAST, [[f"{SNAPSHOT} .nbflow-summary", None]])
        page.evaluate(f"document.querySelector('{SNAPSHOT}').scrollIntoView()")
        page.screenshot(animations="disabled", path=artifacts / "lab_dark_end.png")
        assert "failed: 2001 tasks" in page.inner_text(f"{SNAPSHOT} .nbflow-summary")
        assert all(item["ratio"] >= 4.5 for item in ended), ended
        assert errors == []
    except Exception:
        _fail(page, lab, artifacts, "lab_dark", errors)
    finally:
        (lab.root / "gate_dark").touch()
        _set_theme(page, "JupyterLab Light")  # the theme is a setting of the server


EARLY_FAILURE = '''\
class BrokenEarlyExport(nbflow.Task):
    """Fails at once, after printing a little."""

    def output(self):
        return nbflow.LocalTarget("early/broken.csv")

    def run(self):
        print("reading the regional export")
        print("row 17 has no amount")
        raise ValueError("row 17: the amount is missing")


class KeepsRunningExport(nbflow.Task):
    """Prints, then runs until the test opens the gate."""

    def output(self):
        return nbflow.LocalTarget("early/kept.csv")

    def run(self):
        print("still downloading the slow export")
        wait_for_gate("early")
        with self.output().open("w") as out:
            out.write("ok")


class EarlyFailureRoot(nbflow.WrapperTask):
    def requires(self):
        return [BrokenEarlyExport(), KeepsRunningExport()]
'''
#: The prompt of the last cell (``[*]:`` while it runs) and the kernel's status.
LAST_CELL = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const prompts = panel.node.querySelectorAll('.jp-InputArea-prompt');
  return [prompts[prompts.length - 1].textContent.trim(),
          panel.sessionContext.session.kernel.status];
}"""


def test_lab_foreground_run_shows_failed_and_running_details_while_it_runs(
    page: Page, lab: Server, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "early.ipynb",
        ["%load_ext nbflow", GATED + EARLY_FAILURE, "%nbflow run EarlyFailureRoot"],
    )
    gate = lab.root / "gate_early"
    gate.unlink(missing_ok=True)
    errors: list[str] = []
    try:
        errors = run_all(page, lab, f"lab/tree/{name}")
        page.wait_for_selector(f"{NODES}.FAILED", timeout=45_000)
        page.wait_for_selector(f"{NODES}.RUNNING", timeout=45_000)

        # the cell still waits on the run: the kernel answers no click
        page.locator(f"{NODES}.FAILED").click()
        page.wait_for_function(
            "document.querySelector('.nbflow-detail pre.nbflow-output')"
            "?.textContent.includes('row 17 has no amount')",
            timeout=10_000,
        )
        detail = page.inner_text(".nbflow-detail")
        assert "BrokenEarlyExport()" in detail
        assert "failed" in detail
        assert "row 17: the amount is missing" in page.inner_text(
            ".nbflow-detail pre.nbflow-error"
        )
        assert "raise ValueError" in page.inner_text(
            ".nbflow-detail pre.nbflow-traceback"
        )
        assert page.evaluate(LAST_CELL)[0] == "[*]:"  # the run's cell still runs
        # from the synced details: Python's answer would add the full traceback
        assert page.locator(".nbflow-detail .nbflow-full-traceback").count() == 0
        page.evaluate(
            "document.querySelector('.nbflow-detail').scrollIntoView({block: 'end'})"
        )
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_failed_detail.png"
        )

        page.locator(f"{NODES}.RUNNING").click()
        page.wait_for_function(
            "document.querySelector('.nbflow-detail pre.nbflow-output')"
            "?.textContent.includes('still downloading the slow export')",
            timeout=10_000,
        )
        detail = page.inner_text(".nbflow-detail")
        assert "KeepsRunningExport()" in detail
        assert "running" in detail
        assert page.evaluate(LAST_CELL)[0] == "[*]:"  # the run's cell still runs
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_running_detail.png"
        )

        gate.touch()
        page.wait_for_selector(f"{SNAPSHOT} .nbflow-summary", timeout=60_000)
        failure = page.locator(f"{SNAPSHOT} details.nbflow-failure")
        assert failure.count() == 1
        failure.locator("summary").click()
        assert (
            "row 17 has no amount" in failure.locator("pre.nbflow-output").inner_text()
        )
        assert (
            "raise ValueError" in failure.locator("pre.nbflow-traceback").inner_text()
        )
        page.evaluate(f"document.querySelector('{SNAPSHOT}').scrollIntoView()")
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_snapshot.png"
        )
        assert errors == []
    except Exception:
        _fail(page, lab, artifacts, "lab_foreground", errors)
    finally:
        gate.touch()


MANY_PARTS = '''\
class PartOfMany(nbflow.Task):
    """One of 320 quick parts; part 7 fails."""

    n = nbflow.IntParameter()

    def output(self):
        return nbflow.LocalTarget(f"many/part_{self.n}.txt")

    def run(self):
        if self.n == 7:
            print("part 7 reads a bad row")
            raise KeyError("part 7: no such column amount")
        with self.output().open("w") as out:
            out.write("ok")


class SlowPartner(nbflow.Task):
    """Runs until the test opens the gate."""

    def output(self):
        return nbflow.LocalTarget("many/slow.txt")

    def run(self):
        print("waiting for the partner's export")
        wait_for_gate("many")
        with self.output().open("w") as out:
            out.write("ok")


class ManyParts(nbflow.WrapperTask):
    def requires(self):
        return [SlowPartner()] + [PartOfMany(n=n) for n in range(320)]
'''
PARTS = f"{NODES}[data-id='family:PartOfMany']"


def test_lab_foreground_run_opens_a_group_and_its_failed_task_while_it_runs(
    page: Page, lab: Server, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "many.ipynb",
        ["%load_ext nbflow", GATED + MANY_PARTS, "%nbflow run ManyParts --workers 2"],
    )
    gate = lab.root / "gate_many"
    gate.unlink(missing_ok=True)
    errors: list[str] = []
    try:
        errors = run_all(page, lab, f"lab/tree/{name}")
        page.wait_for_selector(f"{PARTS} .nbflow-share.FAILED", timeout=45_000)
        page.wait_for_selector(f"{NODES}[data-id='family:SlowPartner'].RUNNING")

        # a group of one shows its task: running, with its output so far
        page.locator(f"{NODES}[data-id='family:SlowPartner']").click()
        page.wait_for_function(
            "document.querySelector('.nbflow-detail pre.nbflow-output')"
            '?.textContent.includes("waiting for the partner\'s export")',
            timeout=10_000,
        )
        assert "running" in page.inner_text(".nbflow-detail")

        # the family's list puts its failed task first, in words, from synced data
        page.locator(PARTS).click()
        first = page.locator(".nbflow-task-list button").first
        first.wait_for(timeout=10_000)
        assert "PartOfMany(n=7)" in first.inner_text()
        assert "failed" in first.inner_text()
        assert page.evaluate(LAST_CELL)[0] == "[*]:"  # the run's cell still runs
        show_view(page)
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_group.png"
        )

        first.click()
        page.wait_for_function(
            "document.querySelector('.nbflow-detail pre.nbflow-error')"
            "?.textContent.includes('no such column amount')",
            timeout=10_000,
        )
        assert "part 7 reads a bad row" in page.inner_text(
            ".nbflow-detail pre.nbflow-output"
        )
        assert page.evaluate(LAST_CELL)[0] == "[*]:"
        page.evaluate(
            "document.querySelector('.nbflow-detail').scrollIntoView({block: 'end'})"
        )
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_group_task.png"
        )

        gate.touch()
        page.wait_for_selector(f"{SNAPSHOT} .nbflow-summary", timeout=60_000)
        group = page.locator(f"{SNAPSHOT} details.nbflow-group-tasks").filter(
            has_text="PartOfMany"
        )
        group.locator("summary").click()
        items = group.locator("li")
        assert "PartOfMany(n=7)" in items.first.inner_text()
        assert "failed" in items.first.inner_text()
        assert "and 270 more" in items.last.inner_text()
        group.scroll_into_view_if_needed()
        page.screenshot(
            animations="disabled", path=artifacts / "lab_foreground_group_snapshot.png"
        )
        assert errors == []
    except Exception:
        _fail(page, lab, artifacts, "lab_foreground_group", errors)
    finally:
        gate.touch()
