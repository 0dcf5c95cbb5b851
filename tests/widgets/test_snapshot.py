"""The static snapshot of a run's last state: graph, summary, legend, failures, text."""

from __future__ import annotations

import builtins
import doctest
import re
from typing import TYPE_CHECKING, NamedTuple

from nbflow.core.events import (
    RunFinished,
    RunStarted,
    Status,
    TaskAdded,
    TaskStatusChanged,
)
from nbflow.core.progress import RunProgress
from nbflow.widgets import snapshot
from nbflow.widgets.snapshot import (
    decode_graph,
    snapshot_bundle,
    snapshot_html,
    snapshot_text,
    take_snapshot,
)

if TYPE_CHECKING:
    import pytest

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED
EVIL = '<script>alert("x")</script>'


def failed_run(label_value: str = "2024-06-03") -> RunProgress:
    progress = RunProgress()
    for notification in (
        TaskAdded(1, 0.0, "old", "Old", (), (), D, True),
        TaskAdded(2, 0.0, "clean", "Clean", (("day", label_value),), ("old",), P),
        TaskAdded(3, 0.0, "report", "Report", (), ("clean",), P),
        RunStarted(4, 0.0, "r", ("report",), 3),
        TaskStatusChanged(5, 1.0, "clean", R, P),
        TaskStatusChanged(
            6, 2.0, "clean", F, R, error="ValueError: boom", traceback="tb line"
        ),
        TaskStatusChanged(7, 2.0, "report", Status.UPSTREAM_FAILED, P, cause="clean"),
        RunFinished(8, 2.5, "r", "failed", ()),
    ):
        progress.on_notification(notification)  # type: ignore[arg-type]
    return progress


def test_snapshot_text_is_the_end_state() -> None:
    text = snapshot_text(take_snapshot(failed_run(), "nbflow run 2 (Report())"))

    assert text.splitlines() == [
        "nbflow run 2 (Report()): failed",
        (
            "failed: 3 tasks: 1 complete before the run, 1 failed, 1 upstream failed"
            " · wall 2.5 s"
        ),
        "  failed Clean(day=2024-06-03): ValueError: boom",
    ]


def test_snapshot_html_has_graph_summary_legend_and_failures() -> None:
    page = snapshot_html(take_snapshot(failed_run(), "nbflow run 2 (Report())"))

    svg = decode_graph(page)
    assert page.count("<img") == 1
    assert "<svg" not in page  # sanitizers strip inline SVG: it is an image
    assert re.search(r'<g id="node\d+" class="node FAILED"', svg)
    assert re.search(r'<g id="node\d+" class="node UPSTREAM_FAILED"', svg)
    assert "1/3 done (33%) · 1 failed · 2.5 s" in page
    assert "failed: 3 tasks: 1 complete before the run" in page
    legend = page[page.index('class="nbflow-legend"') :]
    legend = legend[: legend.index("</div>")]
    assert "failed (1)" in legend
    assert "upstream failed (1)" in legend
    assert "complete before the run (1)" in legend
    assert "running" not in legend  # only the states present
    assert "ValueError: boom" in page
    failure = sections(page, "nbflow-failure")[0]
    assert "Clean(day=2024-06-03)" in failure.summary
    assert "ValueError: boom" in failure.summary
    assert "tb line" in failure.body


def test_snapshot_html_follows_the_theme_with_fallbacks() -> None:
    page = snapshot_html(take_snapshot(failed_run(), "run"))

    assert "var(--jp-ui-font-color1, #1f1f1f)" in page
    assert "var(--jp-layout-color2, #f3f3f3)" in page
    svg = decode_graph(page)
    assert 'fill="white"' not in svg  # no white canvas in a dark theme
    assert f'stroke="{snapshot.EDGE_COLOUR}"' in svg  # edges read on both


def test_snapshot_escapes_everything_from_tasks() -> None:
    progress = RunProgress()
    for notification in (
        TaskAdded(1, 0.0, EVIL, EVIL, ((EVIL, EVIL),), (), P),
        RunStarted(2, 0.0, "r", (EVIL,), 1),
        TaskStatusChanged(3, 1.0, EVIL, R, P),
        TaskStatusChanged(4, 2.0, EVIL, F, R, error=EVIL, traceback=EVIL),
        RunFinished(5, 3.0, "r", EVIL, ()),
    ):
        progress.on_notification(notification)  # type: ignore[arg-type]

    bundle = snapshot_bundle(take_snapshot(progress, EVIL))

    for page in (bundle["text/html"], decode_graph(bundle["text/html"])):
        assert "<script" not in page
        assert 'alert("x")' not in page
    assert EVIL in bundle["text/plain"]  # plain text is shown as text


def test_snapshot_of_a_big_run_groups_families_and_never_reads_100() -> None:
    progress = RunProgress()
    total = 400
    for i in range(total):
        progress.on_notification(TaskAdded(i, 0.0, f"leaf{i}", "Leaf", (), (), P))
    progress.on_notification(RunStarted(1000, 0.0, "r", (), total))
    for i in range(total):
        final = F if i == 7 else D
        progress.on_notification(TaskStatusChanged(2000 + i, 1.0, f"leaf{i}", R, P))
        progress.on_notification(TaskStatusChanged(3000 + i, 1.0, f"leaf{i}", final, R))
    progress.on_notification(RunFinished(5000, 2.0, "r", "failed", ()))

    page = snapshot_html(take_snapshot(progress, "big"), group_above=300)

    assert "399/400 done (99%) · 1 failed" in page
    assert "(100%)" not in page
    assert decode_graph(page).count('class="node ') == 1  # one node for the family


class Section(NamedTuple):
    summary: str
    body: str


def sections(page: str, kind: str) -> list[Section]:
    """Return the text of each ``<details class="<kind>">``: summary, then the rest."""
    found = re.findall(
        rf'<details class="{kind}"[^>]*><summary[^>]*>(.*?)</summary>(.*?)</details>',
        page,
        flags=re.DOTALL,
    )
    return [Section(summary, body) for summary, body in found]


def test_snapshot_failed_task_opens_into_error_traceback_and_output() -> None:
    progress = RunProgress()
    for notification in (
        TaskAdded(1, 0.0, "dl", "Download", (("day", "1"),), (), P),
        RunStarted(2, 0.0, "r", ("dl",), 1),
        TaskStatusChanged(3, 1.0, "dl", R, P),
        TaskStatusChanged(
            4,
            2.0,
            "dl",
            F,
            R,
            error="Traceback...\nKeyError: 'day'",
            traceback="Cell In[3], line 7\n  raise KeyError('day')",
            full_traceback="nbflow/core/worker.py frames",
            output=tuple(f"printed {n} <b>" for n in range(70)),
        ),
        RunFinished(5, 2.5, "r", "failed", ()),
    ):
        progress.on_notification(notification)  # type: ignore[arg-type]

    page = snapshot_html(take_snapshot(progress, "run"))

    [failure] = sections(page, "nbflow-failure")
    assert "Download(day=1)" in failure.summary
    assert "KeyError: &#x27;day&#x27;" in failure.summary
    assert "Cell In[3], line 7" in failure.body
    assert "nbflow/core/worker.py" not in failure.body  # the user's frames only
    assert "Output (last 50 lines)" in failure.body
    assert "printed 20 &lt;b&gt;" in failure.body
    assert "printed 19 " not in failure.body
    assert "<style" not in failure.body  # inline styles survive sanitizing


def test_snapshot_group_opens_into_its_tasks_failures_first_capped() -> None:
    progress = RunProgress()
    total = 120
    for i in range(total):
        progress.on_notification(
            TaskAdded(i, 0.0, f"part{i}", "Part", (("n", str(i)),), (), P)
        )
    progress.on_notification(RunStarted(1000, 0.0, "r", (), total))
    for i in range(total):
        final = F if i in {90, 100} else D
        progress.on_notification(TaskStatusChanged(2000 + i, 1.0, f"part{i}", R, P))
        progress.on_notification(TaskStatusChanged(3000 + i, 1.0, f"part{i}", final, R))
    progress.on_notification(RunFinished(5000, 2.0, "r", "failed", ()))

    page = snapshot_html(take_snapshot(progress, "parts"), group_above=100)

    [group] = sections(page, "nbflow-group-tasks")
    assert "<b>Part</b> \N{MULTIPLICATION SIGN}120: 2 failed, 118 done" in group.summary
    items = re.findall(r"<li[^>]*>(.*?)</li>", group.body)
    assert len(items) == snapshot.GROUP_SHOWN + 1
    assert "Part(n=90)" in items[0]
    assert "Part(n=100)" in items[1]
    assert "<i>failed</i>" in items[0]
    assert "<i>done</i>" in items[2]
    assert items[-1] == f"… and {total - snapshot.GROUP_SHOWN} more"
    assert len(sections(page, "nbflow-failure")) == 2


def test_snapshot_module_doctests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtins, "_", None, raising=False)

    failures, _ = doctest.testmod(snapshot)

    assert failures == 0
