"""RunView and GraphView, tested through their synced traits (never pixels)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

import nbflow
from nbflow.core.dot import DotNode
from nbflow.core.events import Status
from nbflow.widgets import GraphView, RunView
from nbflow.widgets.dag import colour_css, group_detail, output_tail

if TYPE_CHECKING:
    from collections.abc import Iterator

P, R, D, F = Status.PENDING, Status.RUNNING, Status.DONE, Status.FAILED


@pytest.fixture
def views() -> Iterator[list[RunView]]:
    """Views made by a test, closed at its end (their flusher threads stop)."""
    made: list[RunView] = []
    yield made
    for view in made:
        view.close()


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.02)


class Leaf(nbflow.Task):
    """A task that reports progress, a message and a tracking URL."""

    number = nbflow.IntParameter()
    fail = nbflow.BoolParameter(default=False)

    def complete(self) -> bool:
        return False

    def run(self) -> None:
        self.set_progress_percentage(50)
        self.set_status_message(f"working on {self.number}")
        self.set_tracking_url(f"https://ci.example/{self.number}?a=1&b=2")
        if self.fail:
            raise ValueError("boom <script>alert(1)</script>")


class Top(nbflow.WrapperTask):
    """Needs three leaves; the last one fails when asked."""

    fail = nbflow.BoolParameter(default=False)

    def requires(self) -> list[Leaf]:
        return [Leaf(number=i, fail=self.fail and i == 2) for i in range(3)]


def test_run_view_real_build_ends_with_every_node_done(views: list[RunView]) -> None:
    run = nbflow.build([Top()], wait=False, workers=2)
    view = RunView(run)
    views.append(view)

    run.wait(timeout=30)

    assert set(view.states.values()) == {"DONE"}
    assert len(view.states) == 4
    assert 'aria-valuenow="100"' in view.progress
    assert "4/4 done (100%)" in view.progress
    assert "succeeded: 4 tasks: 4 done" in view.progress
    assert view.failures == ""
    assert view.svg.count('class="node ') == 4


def test_run_view_failure_panel_escapes_and_collapses_traceback(
    views: list[RunView],
) -> None:
    run = nbflow.build([Top(fail=True)], wait=False, workers=1)
    view = RunView(run)
    views.append(view)

    run.wait(timeout=30)

    failed = [node for node, state in view.states.items() if state == "FAILED"]
    assert len(failed) == 1
    assert "UPSTREAM_FAILED" in view.states.values()
    assert "<script>" not in view.failures
    assert "boom &lt;script&gt;alert(1)&lt;/script&gt;" in view.failures
    assert "<details><summary>Traceback</summary><pre>Traceback" in view.failures
    assert "<details open" not in view.failures
    assert "<th>number</th><td>2</td>" in view.failures
    assert "failed: 4 tasks" in view.progress


def test_run_view_attached_after_the_run_shows_the_same(views: list[RunView]) -> None:
    run = nbflow.build([Top()], wait=False)
    run.wait(timeout=30)

    view = RunView(run)
    views.append(view)

    assert set(view.states.values()) == {"DONE"}
    assert "4/4 done (100%)" in view.progress
    assert run._views._thread is None  # nothing left to flush: no thread


def test_run_view_detail_on_selected_node(views: list[RunView]) -> None:
    run = nbflow.build([Top()], wait=False)
    view = RunView(run)
    views.append(view)
    run.wait(timeout=30)
    leaf = Leaf(number=1).task_id

    view.selected = leaf

    assert view.detail["label"] == "Leaf(number=1, fail=False)"
    assert view.detail["state"] == "DONE"
    assert view.detail["params"] == [["number", "1"], ["fail", "False"]]
    assert view.detail["message"] == "working on 1"
    assert view.detail["progress"] == 100  # it finished
    assert view.detail["url"] == "https://ci.example/1?a=1&b=2"


def test_run_view_running_task_shows_bar_message_link_and_elapsed(
    fake_run: Any, views: list[RunView]
) -> None:
    fake_run.add("a", params=(("x", "<img src=x onerror=alert(1)>"),))
    fake_run.start()
    view = RunView(fake_run, interval=0.01)
    views.append(view)

    fake_run.change("a", R, P)
    fake_run.report("a", 40)
    fake_run.message("a", "<b>loading</b>")
    fake_run.url("a", 'https://x.example/?q="1"&r=<2>')
    wait_for(lambda: "nbflow-task" in view.progress and "40%" in view.progress)

    html = view.progress
    assert view.states == {"a": "RUNNING"}
    assert "<img" not in html
    assert "<b>" not in html
    assert "a(x=&lt;img src=x onerror=alert(1)&gt;)" in html
    assert '<span class="nbflow-message">&lt;b&gt;loading&lt;/b&gt;</span>' in html
    assert 'href="https://x.example/?q=&quot;1&quot;&amp;r=&lt;2&gt;"' in html
    assert 'target="_blank" rel="noopener noreferrer"' in html
    assert 'class="nbflow-elapsed">' in html


def test_run_view_links_only_web_urls(fake_run: Any, views: list[RunView]) -> None:
    fake_run.add("a")
    fake_run.start()
    fake_run.change("a", R, P)
    fake_run.url("a", "javascript:alert(1)")
    view = RunView(fake_run)
    views.append(view)
    fake_run.finish()

    fake_run_html = view.failures + view.progress
    view.selected = "a"

    assert "href" not in fake_run_html
    assert view.detail["url"] == ""


def test_run_view_coalesces_a_burst_into_few_messages(
    fake_run: Any, views: list[RunView], record: Any
) -> None:
    fake_run.add("a")
    fake_run.start()
    view = RunView(fake_run)
    views.append(view)
    fake_run.change("a", R, P)
    wait_for(lambda: view.states == {"a": "RUNNING"})
    sent = record(view)
    started = time.monotonic()

    for i in range(1000):
        fake_run.report("a", i / 10)
        fake_run.message("a", f"step {i}")
    burst = time.monotonic() - started
    wait_for(lambda: "step 999" in view.progress)

    assert burst < 1.0  # notifications only touch Python state
    assert len(sent.messages) <= 3 + 10 * (time.monotonic() - started)
    assert len(sent.messages) < 20
    assert "step 999" in sent.updates("progress")[-1]


def test_run_view_2000_tasks_do_not_flood_the_front_end(
    fake_run: Any, views: list[RunView], record: Any
) -> None:
    ids = [f"T{i % 7}_{i}" for i in range(2000)]
    view = RunView(fake_run)
    views.append(view)
    sent = record(view)
    started = time.monotonic()

    for i, task_id in enumerate(ids):
        fake_run.add(task_id, *([ids[i - 1]] if i % 10 else []))
    fake_run.start()
    for task_id in ids:
        fake_run.change(task_id, R, P)
        fake_run.report(task_id, 50)
        fake_run.change(task_id, D, R)
    fake_run.finish()
    elapsed = time.monotonic() - started

    assert len(sent.messages) <= 2 + 10 * elapsed + 1
    assert len(sent.updates("svg")) == 1  # laid out once
    assert sorted(view.states) == [f"family:T{i}" for i in range(7)]  # grouped
    assert set(view.states.values()) == {"DONE"}
    assert "2000/2000 done (100%)" in view.progress


def test_run_view_lays_out_once_then_sends_only_states(
    fake_run: Any, views: list[RunView], record: Any
) -> None:
    fake_run.add("a")
    fake_run.add("b", "a")
    view = RunView(fake_run, interval=0.01)
    views.append(view)
    sent = record(view)
    fake_run.start()
    wait_for(lambda: bool(view.svg))

    fake_run.change("a", R, P)
    fake_run.change("a", D, R)
    fake_run.change("b", R, P)
    fake_run.finish()

    assert len(sent.updates("svg")) == 1
    assert sent.updates("states")[-1] == {"a": "DONE", "b": "RUNNING"}
    assert all("svg" not in m["state"] for m in sent.messages[1:])


def test_run_view_shows_complete_before_the_run(
    fake_run: Any, views: list[RunView]
) -> None:
    fake_run.add("old", status=D, complete_before=True)
    fake_run.add("new", "old")
    fake_run.start()
    fake_run.change("new", R, P)
    fake_run.change("new", D, R)
    fake_run.finish()

    view = RunView(fake_run)
    views.append(view)

    assert view.states == {"old": "complete", "new": "DONE"}
    assert "1 done, 1 complete before the run" in view.progress


def test_run_view_close_stops_watching_the_run(fake_run: Any, record: Any) -> None:
    fake_run.add("a")
    view = RunView(fake_run, interval=0.01)
    sent = record(view)

    view.close()
    fake_run.start()
    fake_run.change("a", R, P)
    fake_run.finish()

    assert fake_run._views._callbacks == {}
    assert sent.updates("states") == []


def test_run_view_repr_is_plain_text(fake_run: Any, views: list[RunView]) -> None:
    fake_run.add("a")
    fake_run.start()
    fake_run.change("a", R, P)
    fake_run.change("a", D, R)
    fake_run.finish()
    view = RunView(fake_run)
    views.append(view)

    text = repr(view)
    bundle = view._repr_mimebundle_()

    assert text == "nbflow run : succeeded: 1 tasks: 1 done · wall 0.00 s"
    assert bundle[0]["text/plain"] == text


def test_graph_view_static_states_detail_and_repr() -> None:
    nodes = [
        DotNode("a", "A()", "complete", ()),
        DotNode("b", "B(x=<script>)", "FAILED", ("a",)),
    ]

    view = GraphView(nodes, title="demo")
    view.selected = "b"

    assert view.states == {"a": "complete", "b": "FAILED"}
    assert view.detail == {
        "task_id": "b",
        "label": "B(x=<script>)",
        "state": "FAILED",
        "state_words": "failed",
        "deps": 1,
        "output": "",
        "full_traceback": "",
    }
    assert view.legend == {"complete": "complete", "FAILED": "failed"}
    assert "<script>" not in view.svg
    assert (
        repr(view)
        == "nbflow graph 'demo': 2 tasks\n  A() [complete]\n  B(x=<script>) [FAILED]"
    )
    view.close()


def test_colour_css_covers_every_state() -> None:
    css = colour_css()

    for state in (
        "PENDING",
        "RUNNING",
        "DONE",
        "FAILED",
        "DISABLED",
        "UPSTREAM_FAILED",
        "complete",
        "stale",
    ):
        assert f"g.node.{state} >" in css


def test_import_nbflow_widgets_loads_no_widget_library() -> None:
    code = (
        "import sys, nbflow.widgets\n"
        "print(sorted(m for m in ('ipywidgets', 'anywidget', 'traitlets') if m in sys.modules))"
    )

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert out.strip() == "[]"


def test_run_view_deselecting_clears_the_detail(
    fake_run: Any, views: list[RunView]
) -> None:
    fake_run.add("a")
    fake_run.start()
    fake_run.finish()
    view = RunView(fake_run)
    views.append(view)
    view.selected = "a"
    assert view.detail["task_id"] == "a"

    view.selected = ""

    assert view.detail == {}


def test_run_view_group_counts_each_state_and_is_not_painted_by_one_failure(
    fake_run: Any, views: list[RunView]
) -> None:
    ids = [f"Leaf_{i}" for i in range(2000)]
    for task_id in ids:
        fake_run.add(task_id, family="Leaf", params=(("i", task_id[5:]),))
    fake_run.add("Top_1", *ids, family="Top")
    fake_run.start()
    for i, task_id in enumerate(ids):
        fake_run.change(task_id, R, P)
        fake_run.change(task_id, F if i == 1234 else D, R, error="ValueError: x")
    fake_run.change("Top_1", Status.UPSTREAM_FAILED, P, cause="Leaf_1234")
    fake_run.finish("failed")

    view = RunView(fake_run, group_above=100)
    views.append(view)

    assert view.shares == {
        "family:Leaf": {"DONE": 1999, "FAILED": 1},
        "family:Top": {"UPSTREAM_FAILED": 1},
    }
    assert len(view.groups["family:Leaf"]) == 2000
    assert view.groups["family:Leaf"][7] == ["Leaf_7", "Leaf(i=7)"]
    assert view.legend == {
        "DONE": "done",
        "FAILED": "failed",
        "UPSTREAM_FAILED": "upstream failed",
    }


def test_run_view_group_detail_titles_the_family_and_lists_failures_first(
    fake_run: Any, views: list[RunView]
) -> None:
    for i in range(5):
        fake_run.add(f"Leaf_{i}", family="Leaf", params=(("i", str(i)),))
    fake_run.start()
    fake_run.change("Leaf_0", R, P)
    fake_run.change("Leaf_3", R, P)
    fake_run.change("Leaf_3", F, R, error="ValueError: boom")
    view = RunView(fake_run, group_above=2, interval=0.01)
    views.append(view)
    wait_for(lambda: bool(view.svg))

    view.selected = "family:Leaf"

    assert view.detail == {
        "group": "family:Leaf",
        "label": "Leaf",
        "tasks": 5,
        "counts": {"RUNNING": 1, "PENDING": 3, "FAILED": 1},
        "notable": [
            ["Leaf_3", "FAILED"],
            ["Leaf_0", "RUNNING"],
            ["Leaf_1", "PENDING"],
            ["Leaf_2", "PENDING"],
            ["Leaf_4", "PENDING"],
        ],
    }


def test_run_view_task_picked_in_a_group_shows_its_detail_in_words(
    fake_run: Any, views: list[RunView]
) -> None:
    for i in range(3):
        fake_run.add(f"Leaf_{i}", family="Leaf", params=(("i", str(i)),))
    fake_run.add("Top_1", "Leaf_0", family="Top")
    fake_run.start()
    fake_run.change("Leaf_0", R, P)
    fake_run.change("Leaf_0", F, R, error="ValueError: boom")
    fake_run.change("Top_1", Status.UPSTREAM_FAILED, P, cause="Leaf_0")
    view = RunView(fake_run, group_above=2, interval=0.01)
    views.append(view)
    wait_for(lambda: bool(view.svg))

    view.selected = "Leaf_0"
    leaf = dict(view.detail)
    view.selected = "family:Top"  # a group of one is that task
    top = dict(view.detail)

    assert leaf["label"] == "Leaf(i=0)"
    assert leaf["group"] == "family:Leaf"
    assert (leaf["state"], leaf["state_words"]) == ("FAILED", "failed")
    assert leaf["error"] == "ValueError: boom"
    assert top["state_words"] == "upstream failed"
    assert top["cause"] == "Leaf_0"


def test_run_view_legend_lists_only_the_states_present(
    fake_run: Any, views: list[RunView]
) -> None:
    fake_run.add("a")
    fake_run.add("b", "a")
    fake_run.start()
    view = RunView(fake_run, interval=0.01)
    views.append(view)
    wait_for(lambda: view.legend == {"PENDING": "pending"})

    fake_run.change("a", R, P)
    fake_run.change("a", Status.CANCELLED, R)
    fake_run.finish("cancelled")

    assert view.states == {"a": "CANCELLED", "b": "PENDING"}
    assert view.legend == {"PENDING": "pending", "CANCELLED": "cancelled"}
    assert "running" not in view.progress.split("nbflow-summary")[0].lower()


def test_output_tail_keeps_the_last_lines() -> None:
    chunks = [f"line {i}\n" for i in range(120)]

    tail = output_tail(chunks)

    assert tail.splitlines() == [f"line {i}" for i in range(70, 120)]
    assert output_tail(()) == ""


def test_group_detail_lists_at_most_the_cap(views: list[RunView]) -> None:
    members = [f"T_{i}" for i in range(5000)]
    state_of = dict.fromkeys(members, "PENDING")

    detail = group_detail("family:T", members, state_of)

    assert detail["counts"] == {"PENDING": 5000}
    assert len(detail["notable"]) == 200


class ChattyWidgetStep(nbflow.Task):
    """Prints more lines than a detail panel shows."""

    def complete(self) -> bool:
        return False

    def run(self) -> None:
        for number in range(80):
            print(f"chatty line {number}")  # noqa: T201  (the output under test)


def test_run_view_detail_shows_the_tail_of_the_task_output(
    views: list[RunView],
) -> None:
    run = nbflow.build([ChattyWidgetStep()], wait=False)
    view = RunView(run)
    views.append(view)
    run.wait(timeout=30)

    view.selected = ChattyWidgetStep().task_id

    lines = view.detail["output"].splitlines()  # all of it: the box scrolls
    assert lines == [f"chatty line {number}" for number in range(80)]


def test_run_view_syncs_details_of_failed_running_and_last_done_tasks(
    fake_run: Any, views: list[RunView]
) -> None:
    for task_id in ("a_1", "b_1", "c_1", "d_1"):
        fake_run.add(task_id)
    fake_run.start()
    view = RunView(fake_run)
    views.append(view)
    fake_run.change("a_1", R, P)
    fake_run.change(
        "a_1",
        F,
        R,
        error="ValueError: boom",
        traceback="Cell In[3], line 2\nValueError: boom",
        full_traceback="nbflow frames\nValueError: boom",
        output=tuple(f"line {n}" for n in range(80)),
    )
    fake_run.change("b_1", R, P)
    fake_run.change("c_1", R, P)
    fake_run.change("c_1", D, R)

    wait_for(lambda: set(view.known_recent) == {"b_1", "c_1"})

    failed = view.known["a_1"]
    assert failed["state"] == "FAILED"
    assert failed["state_words"] == "failed"
    assert failed["error"] == "ValueError: boom"
    assert failed["traceback"].startswith("Cell In[3]")
    assert "full_traceback" not in failed  # left for Python's answer to a click
    assert failed["output"].splitlines() == [f"line {n}" for n in range(30, 80)]
    assert set(view.known) == {"a_1"}  # sent apart: changes only as tasks fail
    assert view.known_recent["b_1"]["state_words"] == "running"
    assert view.known_recent["c_1"]["state"] == "DONE"
    assert "d_1" not in view.known_recent  # pending: the front end shows what it knows


def test_run_view_synced_details_are_bounded(
    fake_run: Any, views: list[RunView]
) -> None:
    ids = [f"Many_{i}" for i in range(600)]
    for task_id in ids:
        fake_run.add(task_id)
    fake_run.start()
    view = RunView(fake_run, group_above=10_000)
    views.append(view)
    for task_id in ids[:300]:
        fake_run.change(task_id, R, P)
        fake_run.change(task_id, F, R, error="E", output=("x" * 10,) * 500)
    for task_id in ids[300:400]:
        fake_run.change(task_id, R, P)
        fake_run.change(task_id, D, R)
    for task_id in ids[400:500]:
        fake_run.change(task_id, R, P)

    wait_for(lambda: len(view.known_recent) == 100 and "Many_400" in view.known_recent)

    synced = [*view.known.values(), *view.known_recent.values()]
    states = [detail["state"] for detail in synced]
    assert states.count("FAILED") == 100
    assert states.count("RUNNING") == 80
    assert states.count("DONE") == 20
    assert all(len(detail["output"].splitlines()) <= 50 for detail in synced)


def test_run_view_synced_details_name_the_group_of_a_task(
    fake_run: Any, views: list[RunView]
) -> None:
    ids = [f"Fam_{i}" for i in range(30)]
    for task_id in ids:
        fake_run.add(task_id)
    fake_run.start()
    view = RunView(fake_run, group_above=5)
    views.append(view)

    fake_run.change("Fam_7", R, P)
    fake_run.change("Fam_7", F, R, error="KeyError: 7")

    wait_for(lambda: "Fam_7" in view.known)
    assert view.known["Fam_7"]["group"] == "family:Fam"
    assert view.groups["family:Fam"][7][0] == "Fam_7"  # the list the front end shows


def test_run_view_sends_failed_details_again_only_when_a_task_fails(
    fake_run: Any, views: list[RunView], record: Any
) -> None:
    for task_id in ("x_1", "y_1", "z_1"):
        fake_run.add(task_id)
    fake_run.start()
    view = RunView(fake_run)
    views.append(view)
    fake_run.change("x_1", R, P)
    fake_run.change("x_1", F, R, error="OSError: disk")
    wait_for(lambda: "x_1" in view.known)
    sent = record(view)

    fake_run.change("y_1", R, P)
    fake_run.message("y_1", "half way")
    wait_for(lambda: view.known_recent.get("y_1", {}).get("message") == "half way")
    fake_run.change("y_1", D, R)
    wait_for(lambda: view.known_recent.get("y_1", {}).get("state") == "DONE")
    assert sent.updates("known") == []  # the failures did not change
    fake_run.change("z_1", R, P)
    fake_run.change("z_1", F, R, error="KeyError: z")

    wait_for(lambda: set(view.known) == {"x_1", "z_1"})
    assert len(sent.updates("known")) == 1
