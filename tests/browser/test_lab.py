"""The live run view in a real JupyterLab 4, driven by Debian's chromium.

The scenario (a 20-task graph run with ``%nbflow run Root --workers 2``, see
``live_run``) is checked from the DOM: the tracking link shows up while tasks run,
every graph node turns DONE, the overall bar reaches 100%, and a click on a node opens
its details. The screenshot ``test-artifacts/lab_run.png`` shows what a person would
see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.live_run import check_live_run, write_notebook

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser

    from tests.browser.conftest import Server

pytestmark = pytest.mark.slow


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_lab_run_view_goes_live_to_done(
    lab: Server, browser: Browser, artifacts: Path
) -> None:
    name = write_notebook(lab.root)
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    try:
        check_live_run(page, lab, f"lab/tree/{name}", artifacts, "lab")
    finally:
        page.close()
