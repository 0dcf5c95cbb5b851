"""A range run in JupyterLab: the calendar strip under the live view, then its end.

A notebook backfills January 2024 of a daily task with ``%nbflow run RangeDaily``:
some days exist already, the others run on two workers (slowly enough to be seen
running), and one day fails. The strip must show running dates while the cell waits,
and at the end one cell per date: done, failed, and missing past ``--task-limit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.live_run import notebook_text, run_all, write_cells

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser, Page

    from tests.browser.conftest import Server

TASKS = '''\
import os
import time

import nbflow


class StripReport(nbflow.Task):
    """One day's report; the 13th has no data."""

    day = nbflow.DateParameter()

    def output(self):
        return nbflow.LocalTarget(f"range_strip/{self.day:%Y-%m-%d}.csv")

    def run(self):
        time.sleep(0.4)
        if self.day.day == 13:
            raise ValueError("no data for the 13th")
        with self.output().open("w") as out:
            out.write("ok")


os.makedirs("range_strip", exist_ok=True)
for done in (1, 2, 3, 7, 8, 20):
    open(f"range_strip/2024-01-{done:02d}.csv", "w").close()
'''

STRIP = ".nbflow-range-strip"


def _states(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        f"{STRIP} .nbflow-range-cell", "cells => cells.map(c => c.dataset.state)"
    )


def test_lab_range_run_shows_a_calendar_strip(
    lab: Server, browser: Browser, artifacts: Path
) -> None:
    name = write_cells(
        lab.root,
        "range_strip.ipynb",
        [
            "%load_ext nbflow",
            TASKS,
            (
                "%nbflow run RangeDaily --of StripReport --start 2024-01-01 "
                "--stop 2024-02-01 --days-back 100000 --task-limit 20 --workers 2"
            ),
        ],
    )
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    try:
        errors = run_all(page, lab, f"lab/tree/{name}")
        page.wait_for_selector(
            f"{STRIP} .nbflow-range-cell[data-state='running']", timeout=60_000
        )
        page.evaluate(
            f"document.querySelector('{STRIP}').scrollIntoView({{block: 'end'}})"
        )
        page.screenshot(
            animations="disabled", path=artifacts / "range_strip_running.png"
        )

        page.wait_for_function(
            """() => document.querySelector('.nbflow-snapshot') !== null &&
                     document.querySelector("[data-state='running']") === null""",
            timeout=90_000,
        )
        page.evaluate(
            f"document.querySelector('{STRIP}').scrollIntoView({{block: 'end'}})"
        )
        page.screenshot(animations="disabled", path=artifacts / "range_strip_done.png")

        states = _states(page)
        assert len(states) == 31
        assert states[12] == "failed"
        assert states.count("failed") == 1
        assert states.count("done") == 6 + 19  # there before, and run now
        assert states.count("missing") == 31 - 25 - 1  # past --task-limit 20
        title = page.inner_text(f"{STRIP} .nbflow-range-title")
        assert title == "RangeDaily of StripReport: 31 dates, 2024-01-01..2024-01-31"
        assert errors == []
    except Exception:
        page.screenshot(
            animations="disabled", path=artifacts / "range_strip_failure.png"
        )
        pytest.fail(notebook_text(page, lab))
    finally:
        page.close()
