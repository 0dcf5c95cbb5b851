from __future__ import annotations

import os
import queue

from nbflow.core.events import (
    ProgressReported,
    ResourcesDecreased,
    StatusMessageSet,
    TrackingUrlSet,
)
from nbflow.core.inbox import ProcessBridge, QueueReporter, to_report


def test_to_report_makes_one_event_type_per_kind() -> None:
    reports = [
        to_report("A_1", "progress", "50"),
        to_report("A_1", "status_message", 7),
        to_report("A_1", "tracking_url", "http://x"),
        to_report("A_1", "decrease_resources", {"gpu": 1}),
    ]

    assert [type(report) for report in reports] == [
        ProgressReported,
        StatusMessageSet,
        TrackingUrlSet,
        ResourcesDecreased,
    ]
    assert (reports[0].percentage, reports[1].message) == (50.0, "7")
    assert reports[3].amounts == (("gpu", 1),)
    assert all(report.task_id == "A_1" and report.at > 0 for report in reports)


def test_queue_reporter_sends_typed_reports_and_notes_its_process() -> None:
    sent: queue.Queue[object] = queue.Queue()
    pids: dict[str, int] = {}
    reporter = QueueReporter(sent, pids)

    reporter("A_1", "progress", 10)
    reporter.running("A_1")

    report = sent.get_nowait()
    assert isinstance(report, ProgressReported)
    assert report.percentage == 10.0
    assert pids == {"A_1": os.getpid()}


def test_process_bridge_pumps_reports_into_the_inbox() -> None:
    inbox: queue.Queue[object] = queue.Queue()
    bridge = ProcessBridge(inbox)  # type: ignore[arg-type]
    try:
        bridge.reporter("A_1", "status_message", "halfway")
        bridge.reporter.running("A_1")

        report = inbox.get(timeout=10)
        pids = bridge.pids()
    finally:
        bridge.close()

    assert report == StatusMessageSet("A_1", "halfway", report.at)
    assert pids == {"A_1": os.getpid()}
